//! `/t/{tenant}/trusted-issuers`: the identity providers (a Kubernetes
//! cluster, GitHub Actions, a SPIFFE trust domain) whose tokens may stand
//! for an application through its federated credentials. Admins add one
//! (its keys from discovery, a JWKS URL or a pasted JWKS) and delete one;
//! viewers see the list only.

use leptos::prelude::*;
use leptos_meta::Title;

use super::account::INPUT;
use super::layout::{Section, TenantGate};
use crate::api::tenants::TenantContext;
use crate::api::trusted_issuers::{
    IssuerKeys, TrustedIssuerRow, create_trusted_issuer, delete_trusted_issuer, list_trusted_issuers,
};
use crate::components::buttons::{DialogActions, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::dialog::Modal;
use crate::components::feedback::{ErrorMessage, Notice};
use crate::components::format::timestamp;
use crate::components::name_field::{MAX_NAME_CHARS, check_name};
use crate::components::table::{TABLE, TABLE_FRAME, TableHead};

/// Which dialog of the page is open.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IssuersDialog {
    Add,
    Delete(TrustedIssuerRow),
}

/// State shared by the page and its dialogs. Every field is a cheap handle.
#[derive(Clone, Copy)]
struct IssuersState {
    tenant_id: StoredValue<String>,
    can_write: bool,
    reload: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    dialog: RwSignal<Option<IssuersDialog>>,
}

impl IssuersState {
    fn tenant(&self) -> String {
        self.tenant_id.get_value()
    }

    /// Closes the dialog, says what happened and reads the list again.
    fn done(&self, notice: String) {
        self.dialog.set(None);
        self.notice.set(Some(notice));
        self.reload.update(|n| *n += 1);
    }
}

#[component]
pub fn TrustedIssuersPage() -> impl IntoView {
    view! {
        <Title text="Trusted issuers · Clavis"/>
        <TenantGate section=Section::TrustedIssuers page=|context| view! { <IssuersTab context=context/> }/>
    }
}

#[component]
fn IssuersTab(context: TenantContext) -> impl IntoView {
    let state = IssuersState {
        tenant_id: StoredValue::new(context.tenant_id.clone()),
        can_write: context.can_write,
        reload: RwSignal::new(0),
        notice: RwSignal::new(None),
        dialog: RwSignal::new(None),
    };
    let issuers =
        Resource::new(move || (state.tenant(), state.reload.get()), |(tenant_id, _)| list_trusted_issuers(tenant_id));
    view! {
        <div class="mt-4 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Trusted issuers"</h1>
                <p class="mt-1 max-w-3xl text-sm text-slate-600">
                    "Identity providers whose tokens may stand for an application: a Kubernetes cluster's service-account tokens, GitHub Actions' OIDC tokens. "
                    "An application's federated credentials say which subject of which issuer it is."
                </p>
            </div>
            {state.can_write.then(|| view! {
                <button type="button" class=PRIMARY_BUTTON data-testid="add-trusted-issuer"
                    on:click=move |_| state.dialog.set(Some(IssuersDialog::Add))>"Add trusted issuer"</button>
            })}
        </div>
        <Notice notice=state.notice/>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading trusted issuers…"</p> }>
            {move || Suspend::new(async move {
                match issuers.await {
                    Ok(list) => view! { <IssuersTable list=list state=state/> }.into_any(),
                    Err(err) => view! { <div class="mt-6"><ErrorMessage message=err.message/></div> }.into_any(),
                }
            })}
        </Transition>
        {move || state.dialog.get().map(|dialog| match dialog {
            IssuersDialog::Add => view! { <AddIssuerDialog state=state/> }.into_any(),
            IssuersDialog::Delete(issuer) => view! { <DeleteIssuerDialog state=state issuer=issuer/> }.into_any(),
        })}
    }
}

#[component]
fn IssuersTable(list: Vec<TrustedIssuerRow>, state: IssuersState) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <div class="mt-6 rounded-xl border border-dashed border-slate-300 bg-white p-12 text-center" data-testid="no-issuers">
                <h2 class="text-base font-semibold">"No trusted issuers yet"</h2>
                <p class="mt-1 text-sm text-slate-600">
                    {if state.can_write {
                        "Add one to let workloads get tokens with their platform's own identity, without a secret."
                    } else {
                        "An admin of this tenant can add trusted issuers."
                    }}
                </p>
            </div>
        }
        .into_any();
    }
    const COLUMNS: &[&str] = &["Name", "Issuer", "Keys", "Added"];
    let head = if state.can_write {
        view! { <TableHead columns=COLUMNS action="Actions"/> }.into_any()
    } else {
        view! { <TableHead columns=COLUMNS/> }.into_any()
    };
    let rows = list
        .into_iter()
        .map(|issuer| {
            let for_delete = issuer.clone();
            let keys = issuer.keys_text();
            view! {
                <tr class="border-t border-slate-100" data-testid="issuer-row" data-id=issuer.id.clone()>
                    <td class="px-4 py-3 font-medium" data-testid="issuer-name">{issuer.name.clone()}</td>
                    <td class="break-all px-4 py-3 font-mono text-xs" data-testid="issuer-url">{issuer.issuer.clone()}</td>
                    <td class="break-all px-4 py-3 text-xs text-slate-600" data-testid="issuer-keys">{keys}</td>
                    <td class="whitespace-nowrap px-4 py-3 text-slate-600">{timestamp(&issuer.created_at)}</td>
                    {state.can_write.then(|| view! {
                        <td class="whitespace-nowrap px-4 py-3 text-right">
                            <button type="button" class=SECONDARY_BUTTON data-testid="delete-issuer"
                                aria-label=format!("Delete {}", for_delete.name)
                                on:click=move |_| state.dialog.set(Some(IssuersDialog::Delete(for_delete.clone())))>"Delete"</button>
                        </td>
                    })}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class=format!("mt-6 {TABLE_FRAME}")>
            <table class=TABLE data-testid="issuers-table">
                {head}
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The client-side checks of the add form; the server checks it all again.
fn check_issuer(name: &str, issuer: &str, keys: IssuerKeys, value: &str) -> Result<(), String> {
    check_name(name, MAX_NAME_CHARS)?;
    let issuer = issuer.trim();
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
        return Err("Enter the issuer URL exactly as its tokens' iss claim has it (https://…).".to_owned());
    }
    match keys {
        IssuerKeys::Discovery => Ok(()),
        IssuerKeys::JwksUri if value.trim().is_empty() => Err("Enter the JWKS URL.".to_owned()),
        IssuerKeys::Static if value.trim().is_empty() => Err("Paste the issuer's JWKS.".to_owned()),
        _ => Ok(()),
    }
}

#[component]
fn AddIssuerDialog(state: IssuersState) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let issuer = RwSignal::new(String::new());
    let keys = RwSignal::new(IssuerKeys::Discovery);
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| state.dialog.set(None));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let (typed_name, typed_issuer, chosen, typed_value) =
            (name.get_untracked(), issuer.get_untracked(), keys.get_untracked(), value.get_untracked());
        if let Err(message) = check_issuer(&typed_name, &typed_issuer, chosen, &typed_value) {
            error.set(Some(message));
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let value = if chosen == IssuerKeys::Discovery { String::new() } else { typed_value };
            match create_trusted_issuer(state.tenant(), typed_name, typed_issuer, chosen.as_str().to_owned(), value)
                .await
            {
                Ok(created) => state.done(format!("{} ({}) is now a trusted issuer.", created.name, created.issuer)),
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let choices = IssuerKeys::ALL
        .into_iter()
        .map(|choice| {
            let id = format!("issuer-keys-{}", choice.as_str());
            let label_for = id.clone();
            view! {
                <label for=label_for class="flex items-center gap-2 rounded-md px-2 py-1 hover:bg-slate-50">
                    <input type="radio" id=id name="issuer-keys" value=choice.as_str()
                        checked=move || keys.get() == choice
                        on:change=move |_| {
                            keys.set(choice);
                            error.set(None);
                        }/>
                    <span>{choice.label()}</span>
                </label>
            }
        })
        .collect_view();
    let field = move || {
        match keys.get() {
        IssuerKeys::Discovery => view! {
            <p class="text-xs text-slate-500" data-testid="issuer-discovery-note">
                "Clavis reads the issuer's /.well-known/openid-configuration and the JWKS it names."
            </p>
        }
        .into_any(),
        IssuerKeys::JwksUri => view! {
            <label for="issuer-keys-value" class="block text-sm font-medium text-slate-700">"JWKS URL"</label>
            <input id="issuer-keys-value" type="url" autocomplete="off" spellcheck="false" class=INPUT
                data-testid="issuer-keys-value" placeholder="https://token.actions.githubusercontent.com/.well-known/jwks"
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
        }
        .into_any(),
        IssuerKeys::Static => view! {
            <label for="issuer-keys-value" class="block text-sm font-medium text-slate-700">"JWKS"</label>
            <textarea id="issuer-keys-value" rows="6" spellcheck="false" data-testid="issuer-keys-value"
                aria-describedby="issuer-keys-hint" placeholder="{\"keys\": [ … ]}"
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))
                class=format!("{INPUT} font-mono text-xs")></textarea>
            <p id="issuer-keys-hint" class="mt-1 text-xs text-slate-500">
                "For a cluster without public discovery: kubectl get --raw /openid/v1/jwks"
            </p>
        }
        .into_any(),
    }
    };
    view! {
        <Modal id="add-trusted-issuer" title="Add trusted issuer" on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit novalidate=true>
                <div>
                    <label for="issuer-name" class="block text-sm font-medium text-slate-700">"Name"</label>
                    <input id="issuer-name" type="text" autocomplete="off" class=INPUT data-testid="issuer-name-input"
                        placeholder="production cluster"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div>
                    <label for="issuer-url" class="block text-sm font-medium text-slate-700">"Issuer URL"</label>
                    <input id="issuer-url" type="url" autocomplete="off" spellcheck="false" class=INPUT
                        data-testid="issuer-url-input" aria-describedby="issuer-url-hint"
                        placeholder="https://kubernetes.default.svc"
                        prop:value=move || issuer.get() on:input=move |ev| issuer.set(event_target_value(&ev))/>
                    <p id="issuer-url-hint" class="mt-1 text-xs text-slate-500">"Exactly as the iss claim of its tokens has it."</p>
                </div>
                <fieldset>
                    <legend class="text-sm font-medium text-slate-700">"Keys"</legend>
                    <div class="mt-1 space-y-1 text-sm">{choices}</div>
                </fieldset>
                <div>{field}</div>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Add issuer" busy_label="Adding…" busy=saving
                    test_id="confirm-add-issuer"/>
            </form>
        </Modal>
    }
}

#[component]
fn DeleteIssuerDialog(state: IssuersState, issuer: TrustedIssuerRow) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| state.dialog.set(None));
    let id = StoredValue::new(issuer.id.clone());
    let name = StoredValue::new(issuer.name.clone());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match delete_trusted_issuer(state.tenant(), id.get_value()).await {
                Ok(()) => state.done(format!("{} is no longer trusted.", name.get_value())),
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <Modal id="delete-issuer" title=format!("Delete {}?", issuer.name) on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">
                    {format!(
                        "Tokens from {} no longer authenticate any application, and the federated credentials naming it stop working at once.",
                        issuer.issuer
                    )}
                </p>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Delete issuer" busy_label="Deleting…" busy=saving danger=true
                    test_id="confirm-delete-issuer"/>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_add_form_checks_what_it_can_before_asking() {
        let ok = check_issuer("ci", "https://token.actions.githubusercontent.com", IssuerKeys::Discovery, "");
        assert_eq!(ok, Ok(()));
        assert_eq!(check_issuer(" ", "https://i.example", IssuerKeys::Discovery, ""), Err("Enter a name.".to_owned()));
        assert!(check_issuer("ci", "i.example", IssuerKeys::Discovery, "").is_err());
        assert_eq!(
            check_issuer("ci", "https://i.example", IssuerKeys::JwksUri, " "),
            Err("Enter the JWKS URL.".to_owned())
        );
        assert_eq!(
            check_issuer("ci", "https://i.example", IssuerKeys::Static, ""),
            Err("Paste the issuer's JWKS.".to_owned())
        );
        assert_eq!(check_issuer("ci", "http://127.0.0.1:9", IssuerKeys::Static, "{\"keys\":[]}"), Ok(()));
    }
}
