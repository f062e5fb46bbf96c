//! The credential part of an expanded application row: how the application
//! proves who it is (its secret, its public keys, or federated credentials
//! from a trusted issuer), the keys with their thumbprints, the federated
//! credentials, and the "DPoP required" switch. Admins change them through
//! the dialogs in `application_key_dialogs`; viewers see them read-only.

use leptos::prelude::*;

use super::application_key_dialogs::{
    AddFederatedDialog, CredentialDialog, RemoveFederatedDialog, RemoveKeyDialog, UseKeysDialog,
};
use super::applications::TabState;
use crate::api::applications::Application;
use crate::api::credentials::{
    ClientKeysView, CredentialType, FederatedCredentialRow, client_keys, list_federated_credentials,
    set_application_dpop_required,
};
use crate::components::buttons::SMALL_BUTTON;
use crate::components::copy::CopyButton;

const CARD: &str = "rounded-lg bg-white p-4 text-sm ring-1 ring-slate-200";
const SUBTABLE: &str = "mt-2 w-full text-left text-xs";

/// A thumbprint is 43 characters; the table shows its ends, the title and
/// the copy button the whole.
pub fn short_thumbprint(thumbprint: &str) -> String {
    let chars: Vec<char> = thumbprint.chars().collect();
    if chars.len() <= 16 {
        return thumbprint.to_owned();
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{head}…{tail}")
}

/// What the row knows about the application's keys and federated
/// credentials, loaded when it opens and after each change.
#[derive(Clone, Copy)]
pub struct RowCredentials {
    pub keys: RwSignal<Option<ClientKeysView>>,
    pub federated: RwSignal<Option<Vec<FederatedCredentialRow>>>,
    pub load_error: RwSignal<Option<String>>,
}

impl RowCredentials {
    pub fn new() -> Self {
        Self { keys: RwSignal::new(None), federated: RwSignal::new(None), load_error: RwSignal::new(None) }
    }

    /// Reads what the credential type has: keys for a key-authenticated
    /// application, federated credentials for a federated one.
    pub fn load(self, tenant_id: String, client_id: String, credential: CredentialType) {
        self.load_error.set(None);
        match credential {
            CredentialType::Secret => {}
            CredentialType::Keys => leptos::task::spawn_local(async move {
                match client_keys(tenant_id, client_id).await {
                    Ok(keys) => self.keys.set(Some(keys)),
                    Err(err) => self.load_error.set(Some(err.message)),
                }
            }),
            CredentialType::Federated => leptos::task::spawn_local(async move {
                match list_federated_credentials(tenant_id, client_id).await {
                    Ok(list) => self.federated.set(Some(list)),
                    Err(err) => self.load_error.set(Some(err.message)),
                }
            }),
        }
    }
}

impl Default for RowCredentials {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn CredentialPanel(app: RwSignal<Application>, state: TabState) -> impl IntoView {
    let creds = RowCredentials::new();
    let dialog = RwSignal::new(None::<CredentialDialog>);
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let credential = Memo::new(move |_| app.with(|a| a.credential));
    // Effects run only in the browser, where rows are opened; a change of
    // type (keys set, a federated credential added) reads the new list.
    Effect::new(move |_| creds.load(state.tenant(), client_id.get_value(), credential.get()));
    let heading_id = format!("credential-{}", client_id.get_value());
    let open = move |which: CredentialDialog| move |_: leptos::ev::MouseEvent| dialog.set(Some(which.clone()));
    let summary = move || match credential.get() {
        CredentialType::Secret => "It proves who it is with its client secret.",
        CredentialType::Keys => {
            "It proves who it is with a JWT assertion signed by one of these keys (private_key_jwt); it has no secret."
        }
        CredentialType::Federated => {
            "It proves who it is with a token of a trusted issuer whose subject and audience match one of these; it has no secret."
        }
    };
    view! {
        <section aria-labelledby=heading_id.clone() data-testid="credential-panel">
            <div class="flex flex-wrap items-center gap-3">
                <h2 id=heading_id.clone() class="text-sm font-semibold text-slate-800">"Credential"</h2>
                <span class="rounded bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-800 ring-1 ring-indigo-200"
                    data-testid="credential-type">{move || credential.get().label()}</span>
            </div>
            <p class="mt-1 text-sm text-slate-600">{summary}</p>
            {move || creds.load_error.get().map(|message| view! {
                <p class="mt-2 text-sm text-red-700" role="alert">{message}</p>
            })}
            <div class="mt-2 grid gap-4 lg:grid-cols-3">
                <div class="lg:col-span-2">
                    {move || match credential.get() {
                        CredentialType::Secret => None,
                        CredentialType::Keys => Some(view! { <KeysCard creds=creds state=state dialog=dialog/> }.into_any()),
                        CredentialType::Federated => {
                            Some(view! { <FederatedCard creds=creds state=state dialog=dialog/> }.into_any())
                        }
                    }}
                    {state.can_write.then(|| view! {
                        <div class="mt-3 flex flex-wrap items-center gap-2">
                            <Show when=move || credential.get() != CredentialType::Federated>
                                <button type="button" class=SMALL_BUTTON data-testid="use-keys" on:click=open(CredentialDialog::UseKeys)>
                                    {move || if credential.get() == CredentialType::Keys { "Replace keys" } else { "Use public keys" }}
                                </button>
                            </Show>
                            <Show when=move || credential.get() != CredentialType::Keys>
                                <button type="button" class=SMALL_BUTTON data-testid="add-federated"
                                    on:click=open(CredentialDialog::AddFederated)>
                                    {move || if credential.get() == CredentialType::Federated {
                                        "Add federated credential"
                                    } else {
                                        "Use federated credentials"
                                    }}
                                </button>
                            </Show>
                            <p class="text-xs text-slate-500">
                                {move || match credential.get() {
                                    CredentialType::Secret => "",
                                    CredentialType::Keys => "To use federated credentials instead, remove its keys first.",
                                    CredentialType::Federated => "To use public keys instead, remove its federated credentials first.",
                                }}
                            </p>
                        </div>
                    })}
                </div>
                <DpopCard app=app state=state/>
            </div>
            {move || dialog.get().map(|which| match which {
                CredentialDialog::UseKeys => view! { <UseKeysDialog app=app state=state creds=creds dialog=dialog/> }.into_any(),
                CredentialDialog::RemoveKey(key) => {
                    view! { <RemoveKeyDialog app=app state=state creds=creds dialog=dialog key=key/> }.into_any()
                }
                CredentialDialog::AddFederated => {
                    view! { <AddFederatedDialog app=app state=state creds=creds dialog=dialog/> }.into_any()
                }
                CredentialDialog::RemoveFederated(credential) => view! {
                    <RemoveFederatedDialog app=app state=state creds=creds dialog=dialog credential=credential/>
                }
                .into_any(),
            })}
        </section>
    }
}

#[component]
fn KeysCard(creds: RowCredentials, state: TabState, dialog: RwSignal<Option<CredentialDialog>>) -> impl IntoView {
    let body = move || {
        let Some(keys) = creds.keys.get() else {
            return view! { <p class="mt-2 text-slate-500">"Loading…"</p> }.into_any();
        };
        let source = keys.jwks_uri.clone().map(|uri| {
            view! {
                <p class="mt-1 text-slate-600" data-testid="jwks-uri">
                    "Fetched from " <span class="break-all font-mono text-xs">{uri}</span>
                </p>
            }
        });
        if keys.keys.is_empty() {
            return view! { {source} <p class="mt-2 text-slate-500" data-testid="no-client-keys">"No keys."</p> }
                .into_any();
        }
        // Keys served by a URL change there, not here.
        let removable = state.can_write && keys.jwks_uri.is_none();
        let rows = keys
            .keys
            .into_iter()
            .map(|key| {
                let thumbprint = key.thumbprint.clone();
                let copied = key.thumbprint.clone();
                let kid = key.kid.clone();
                let for_remove = key.clone();
                view! {
                    <tr class="border-t border-slate-100" data-testid="client-key" data-kid=kid.clone()>
                        <td class="py-1.5 pr-3 font-mono" data-testid="client-key-kid">{kid.clone()}</td>
                        <td class="py-1.5 pr-3" data-testid="client-key-kty">{key.kty.clone()}</td>
                        <td class="py-1.5 pr-3" data-testid="client-key-alg">{key.alg.clone().unwrap_or_else(|| "any".to_owned())}</td>
                        <td class="py-1.5 pr-3">
                            <span class="font-mono" title=thumbprint.clone() data-testid="client-key-thumbprint"
                                data-thumbprint=thumbprint.clone()>{short_thumbprint(&thumbprint)}</span>
                        </td>
                        <td class="whitespace-nowrap py-1.5 text-right">
                            <CopyButton label=format!("Copy the thumbprint of key {kid}") text=move || copied.clone()/>
                            {removable.then(|| view! {
                                <button type="button" class=format!("ml-2 {SMALL_BUTTON}") data-testid="remove-client-key"
                                    aria-label=format!("Remove key {}", for_remove.kid)
                                    on:click=move |_| dialog.set(Some(CredentialDialog::RemoveKey(for_remove.clone())))>"Remove"</button>
                            })}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            {source}
            <table class=SUBTABLE data-testid="client-keys">
                <thead class="text-slate-500">
                    <tr>
                        <th scope="col" class="py-1 pr-3 font-medium">"Key ID"</th>
                        <th scope="col" class="py-1 pr-3 font-medium">"Key type"</th>
                        <th scope="col" class="py-1 pr-3 font-medium">"Algorithm"</th>
                        <th scope="col" class="py-1 pr-3 font-medium">"Thumbprint (RFC 7638)"</th>
                        <th scope="col" class="py-1 font-medium"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <div class=CARD data-testid="keys-card">
            <h3 class="font-semibold text-slate-800">"Public keys"</h3>
            {body}
        </div>
    }
}

#[component]
fn FederatedCard(creds: RowCredentials, state: TabState, dialog: RwSignal<Option<CredentialDialog>>) -> impl IntoView {
    let body = move || {
        let Some(list) = creds.federated.get() else {
            return view! { <p class="mt-2 text-slate-500">"Loading…"</p> }.into_any();
        };
        if list.is_empty() {
            return view! { <p class="mt-2 text-slate-500" data-testid="no-federated">"None."</p> }.into_any();
        }
        let rows = list
            .into_iter()
            .map(|credential| {
                let for_remove = credential.clone();
                view! {
                    <tr class="border-t border-slate-100" data-testid="federated-credential" data-id=credential.id.clone()>
                        <td class="break-all py-1.5 pr-3 font-mono" data-testid="federated-issuer">{credential.issuer.clone()}</td>
                        <td class="break-all py-1.5 pr-3 font-mono" data-testid="federated-subject">{credential.subject.clone()}</td>
                        <td class="break-all py-1.5 pr-3 font-mono" data-testid="federated-audience">{credential.audience.clone()}</td>
                        {state.can_write.then(|| view! {
                            <td class="whitespace-nowrap py-1.5 text-right">
                                <button type="button" class=SMALL_BUTTON data-testid="remove-federated"
                                    aria-label=format!("Remove the federated credential for {}", for_remove.subject)
                                    on:click=move |_| dialog.set(Some(CredentialDialog::RemoveFederated(for_remove.clone())))>"Remove"</button>
                            </td>
                        })}
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class=SUBTABLE data-testid="federated-credentials">
                <thead class="text-slate-500">
                    <tr>
                        <th scope="col" class="py-1 pr-3 font-medium">"Issuer"</th>
                        <th scope="col" class="py-1 pr-3 font-medium">"Subject"</th>
                        <th scope="col" class="py-1 pr-3 font-medium">"Audience"</th>
                        {state.can_write.then(|| view! {
                            <th scope="col" class="py-1 font-medium"><span class="sr-only">"Actions"</span></th>
                        })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <div class=CARD data-testid="federated-card">
            <h3 class="font-semibold text-slate-800">"Federated credentials"</h3>
            {body}
        </div>
    }
}

/// "DPoP required": a switch for admins, which flips at once and snaps
/// back if the server refuses; the state in words for viewers.
#[component]
fn DpopCard(app: RwSignal<Application>, state: TabState) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let required = move || app.with(|a| a.dpop_required);
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let label_id = format!("dpop-{}", client_id.get_value());
    let toggle = move |_| {
        if busy.get_untracked() {
            return;
        }
        let want = !app.with_untracked(|a| a.dpop_required);
        busy.set(true);
        error.set(None);
        app.update(|a| a.dpop_required = want);
        leptos::task::spawn_local(async move {
            match set_application_dpop_required(state.tenant(), client_id.get_value(), want).await {
                Ok(mut fresh) => {
                    fresh.secret = app.with_untracked(|a| a.secret.clone());
                    state.notice.set(Some(if want {
                        format!("{} now needs DPoP-bound tokens: its Bearer token requests are refused.", fresh.name)
                    } else {
                        format!("{} may get Bearer tokens again.", fresh.name)
                    }));
                    app.set(fresh);
                }
                Err(err) => {
                    app.update(|a| a.dpop_required = !want);
                    error.set(Some(err.message));
                }
            }
            busy.set(false);
        });
    };
    let control = if state.can_write {
        view! {
            <button type="button" role="switch" data-testid="dpop-required" aria-labelledby=label_id.clone()
                aria-checked=move || if required() { "true" } else { "false" }
                aria-busy=move || if busy.get() { "true" } else { "false" }
                on:click=toggle
                class="mt-2 inline-flex items-center gap-2 rounded-md px-1 py-0.5 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                <span aria-hidden="true" class=move || if required() {
                    "relative inline-flex h-5 w-9 shrink-0 items-center rounded-full bg-emerald-600 transition"
                } else {
                    "relative inline-flex h-5 w-9 shrink-0 items-center rounded-full bg-slate-300 transition"
                }>
                    <span class=move || if required() {
                        "inline-block h-4 w-4 translate-x-4 rounded-full bg-white shadow transition"
                    } else {
                        "inline-block h-4 w-4 translate-x-0.5 rounded-full bg-white shadow transition"
                    }></span>
                </span>
                <span>{move || if required() { "Required" } else { "Not required" }}</span>
            </button>
        }
        .into_any()
    } else {
        view! {
            <p class="mt-2 font-medium" data-testid="dpop-required">
                {move || if required() { "Required" } else { "Not required" }}
            </p>
        }
        .into_any()
    };
    view! {
        <div class=CARD data-testid="dpop-card">
            <h3 id=label_id class="font-semibold text-slate-800">"DPoP required"</h3>
            <p class="mt-1 text-slate-600">
                "Its tokens are then bound to a key it holds (RFC 9449), so a stolen token is useless; requests without a DPoP proof are refused."
            </p>
            {control}
            {move || error.get().map(|message| view! { <p class="mt-2 text-sm text-red-700" role="alert">{message}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::short_thumbprint;

    #[test]
    fn thumbprints_are_shortened_to_their_ends() {
        let full = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
        assert_eq!(short_thumbprint(full), "NzbLsXh8…RGC9Xs");
        assert_eq!(short_thumbprint("short"), "short");
        assert_eq!(short_thumbprint("0123456789abcdef"), "0123456789abcdef");
        assert_eq!(short_thumbprint("0123456789abcdefg"), "01234567…bcdefg");
    }
}
