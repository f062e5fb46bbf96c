//! The dialogs of an application's credential: use (or replace) public
//! keys from a pasted JWKS, one PEM public key or a JWKS URL; remove one
//! key; add a federated credential (an issuer of the tenant's trusted
//! issuers, a subject and an audience); remove one. Switching to keys or
//! federated credentials ends the secret, and the dialogs say so first.

use leptos::prelude::*;

use super::account::INPUT;
use super::application_credentials::{RowCredentials, short_thumbprint};
use super::applications::TabState;
use crate::api::applications::{Application, get_application};
use crate::api::credentials::{
    ClientKeyRow, CredentialType, FederatedCredentialRow, KeySource, create_federated_credential, delete_client_key,
    delete_federated_credential, set_client_keys,
};
use crate::api::trusted_issuers::{TrustedIssuerRow, list_trusted_issuers};
use crate::components::buttons::DialogActions;
use crate::components::dialog::Modal;
use crate::components::feedback::ErrorMessage;

/// Which credential dialog of a row is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialDialog {
    UseKeys,
    RemoveKey(ClientKeyRow),
    AddFederated,
    RemoveFederated(FederatedCredentialRow),
}

const WARNING: &str = "rounded-md bg-amber-50 p-3 text-sm text-amber-900 ring-1 ring-amber-200";

/// Reads the application again after its credential changed (its type, its
/// secret gone), keeping the row as it is if that read fails.
fn refresh(app: RwSignal<Application>, state: TabState) {
    let client_id = app.with_untracked(|a| a.client_id.clone());
    leptos::task::spawn_local(async move {
        if let Ok(fresh) = get_application(state.tenant(), client_id).await {
            app.set(fresh);
        }
    });
}

/// What stops working when the application, using `from`, takes `to`. (An
/// application has keys or federated credentials, never both: the panel
/// offers only the switches the server allows.)
fn what_ends(from: CredentialType, to: CredentialType) -> Option<&'static str> {
    match (from, to) {
        (CredentialType::Secret, _) => Some(
            "The application's client secret stops working at once: services still using it can no longer get tokens.",
        ),
        (CredentialType::Keys, CredentialType::Keys) => {
            Some("The current keys are replaced at once: assertions signed with them are refused from now on.")
        }
        _ => None,
    }
}

#[component]
pub fn UseKeysDialog(
    app: RwSignal<Application>,
    state: TabState,
    creds: RowCredentials,
    dialog: RwSignal<Option<CredentialDialog>>,
) -> impl IntoView {
    let source = RwSignal::new(KeySource::Jwks);
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| dialog.set(None));
    let (name, client_id, from) = app.with_untracked(|a| (a.name.clone(), a.client_id.clone(), a.credential));
    let client_id = StoredValue::new(client_id);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        if value.with_untracked(|text| text.trim().is_empty()) {
            error.set(Some(match source.get_untracked() {
                KeySource::JwksUri => "Enter the URL that serves the keys.".to_owned(),
                _ => "Paste the public keys.".to_owned(),
            }));
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let chosen = source.get_untracked().as_str().to_owned();
            match set_client_keys(state.tenant(), client_id.get_value(), chosen, value.get_untracked()).await {
                Ok(keys) => {
                    let count = keys.keys.len();
                    creds.keys.set(Some(keys));
                    let name = app.with_untracked(|a| a.name.clone());
                    state.notice.set(Some(format!(
                        "{name} now authenticates with {}; it has no secret.",
                        if count == 1 { "1 public key".to_owned() } else { format!("{count} public keys") }
                    )));
                    refresh(app, state);
                    dialog.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let choices = KeySource::ALL
        .into_iter()
        .map(|choice| {
            let id = format!("key-source-{}", choice.as_str());
            let label_for = id.clone();
            view! {
                <label for=label_for class="flex items-center gap-2 rounded-md px-2 py-1 hover:bg-slate-50">
                    <input type="radio" id=id name="key-source" value=choice.as_str()
                        checked=move || source.get() == choice
                        on:change=move |_| {
                            source.set(choice);
                            error.set(None);
                        }/>
                    <span>{choice.label()}</span>
                </label>
            }
        })
        .collect_view();
    let field = move || {
        match source.get() {
        KeySource::JwksUri => view! {
            <label for="client-keys-value" class="block text-sm font-medium text-slate-700">"JWKS URL"</label>
            <input id="client-keys-value" type="url" autocomplete="off" spellcheck="false" class=INPUT
                placeholder="https://ci.example.com/.well-known/jwks.json" data-testid="client-keys-value"
                aria-describedby="client-keys-hint"
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            <p id="client-keys-hint" class="mt-1 text-xs text-slate-500">
                "https only (loopback addresses excepted). Clavis fetches it, caches it, and fetches it again for a key ID it does not know."
            </p>
        }
        .into_any(),
        pasted => view! {
            <label for="client-keys-value" class="block text-sm font-medium text-slate-700">
                {if pasted == KeySource::Pem { "PEM public key" } else { "JWKS" }}
            </label>
            <textarea id="client-keys-value" rows="7" spellcheck="false" data-testid="client-keys-value"
                aria-describedby="client-keys-hint"
                placeholder=if pasted == KeySource::Pem { "-----BEGIN PUBLIC KEY-----" } else { "{\"keys\": [ … ]}" }
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))
                class=format!("{INPUT} font-mono text-xs")></textarea>
            <p id="client-keys-hint" class="mt-1 text-xs text-slate-500">
                "Public keys only: RSA of 2048 bits or more, P-256 or Ed25519. A private key is refused."
            </p>
        }
        .into_any(),
    }
    };
    let title = if from == CredentialType::Keys {
        format!("Replace the keys of {name}?")
    } else {
        format!("Use public keys for {name}?")
    };
    view! {
        <Modal id="use-keys" title=title on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit novalidate=true>
                {what_ends(from, CredentialType::Keys).map(|text| view! {
                    <p class=WARNING data-testid="credential-warning">{text}</p>
                })}
                <p class="text-sm text-slate-600">
                    "The application then signs a short-lived JWT with its private key for each token request (private_key_jwt)."
                </p>
                <fieldset>
                    <legend class="text-sm font-medium text-slate-700">"Keys from"</legend>
                    <div class="mt-1 space-y-1 text-sm">{choices}</div>
                </fieldset>
                <div>{field}</div>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Use these keys" busy_label="Saving…" busy=saving danger=true
                    test_id="confirm-use-keys"/>
            </form>
        </Modal>
    }
}

#[component]
pub fn RemoveKeyDialog(
    app: RwSignal<Application>,
    state: TabState,
    creds: RowCredentials,
    dialog: RwSignal<Option<CredentialDialog>>,
    key: ClientKeyRow,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| dialog.set(None));
    let kid = StoredValue::new(key.kid.clone());
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match delete_client_key(state.tenant(), client_id.get_value(), kid.get_value()).await {
                Ok(keys) => {
                    creds.keys.set(Some(keys));
                    state.notice.set(Some(format!("Removed key {}.", kid.get_value())));
                    refresh(app, state);
                    dialog.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <Modal id="remove-client-key" title=format!("Remove key {}?", key.kid) on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">
                    {format!(
                        "Assertions signed with this key ({}, thumbprint {}) are refused from now on; the application's other keys keep working.",
                        key.kty,
                        short_thumbprint(&key.thumbprint),
                    )}
                </p>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Remove key" busy_label="Removing…" busy=saving danger=true
                    test_id="confirm-remove-client-key"/>
            </form>
        </Modal>
    }
}

#[component]
pub fn AddFederatedDialog(
    app: RwSignal<Application>,
    state: TabState,
    creds: RowCredentials,
    dialog: RwSignal<Option<CredentialDialog>>,
) -> impl IntoView {
    let issuers = RwSignal::new(None::<Vec<TrustedIssuerRow>>);
    let issuer_id = RwSignal::new(String::new());
    let subject = RwSignal::new(String::new());
    let audience = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| dialog.set(None));
    let (name, client_id, from, default_audience) =
        app.with_untracked(|a| (a.name.clone(), a.client_id.clone(), a.credential, a.oauth_server_url.clone()));
    let client_id = StoredValue::new(client_id);
    // Dialogs open only in the browser, so this runs there.
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match list_trusted_issuers(state.tenant()).await {
                Ok(list) => {
                    if let Some(first) = list.first() {
                        issuer_id.set(first.id.clone());
                    }
                    issuers.set(Some(list));
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        if issuer_id.with_untracked(String::is_empty) {
            error.set(Some("Choose a trusted issuer.".to_owned()));
            return;
        }
        if subject.with_untracked(|text| text.trim().is_empty()) {
            error.set(Some("Enter the subject (sub) the issuer's tokens carry.".to_owned()));
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let audience = Some(audience.get_untracked()).filter(|text| !text.trim().is_empty());
            let created = create_federated_credential(
                state.tenant(),
                client_id.get_value(),
                issuer_id.get_untracked(),
                subject.get_untracked(),
                audience,
            )
            .await;
            match created {
                Ok(credential) => {
                    creds.load(state.tenant(), client_id.get_value(), CredentialType::Federated);
                    let name = app.with_untracked(|a| a.name.clone());
                    state.notice.set(Some(format!(
                        "Tokens from {} with subject {} now authenticate {name}.",
                        credential.issuer, credential.subject
                    )));
                    refresh(app, state);
                    dialog.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let roster = move || {
        let list = issuers.get()?;
        if list.is_empty() {
            let href = format!("/t/{}/trusted-issuers", state.tenant());
            return Some(
                view! {
                    <p class="text-sm text-slate-600" data-testid="no-trusted-issuers">
                        "This tenant trusts no issuer yet. "
                        <a href=href class="font-medium text-indigo-600 hover:text-indigo-500">"Add a trusted issuer"</a>
                        " first."
                    </p>
                }
                .into_any(),
            );
        }
        let options = list
            .into_iter()
            .map(|issuer| {
                let id = issuer.id.clone();
                let selected = move || issuer_id.with(|chosen| *chosen == id);
                view! { <option value=issuer.id.clone() selected=selected>{format!("{} ({})", issuer.name, issuer.issuer)}</option> }
            })
            .collect_view();
        Some(
            view! {
                <div>
                    <label for="federated-issuer" class="block text-sm font-medium text-slate-700">"Issuer"</label>
                    <select id="federated-issuer" data-testid="federated-issuer-select"
                        on:change=move |ev| issuer_id.set(event_target_value(&ev))
                        class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
                        {options}
                    </select>
                </div>
            }
            .into_any(),
        )
    };
    let title = if from == CredentialType::Federated {
        format!("Add a federated credential to {name}")
    } else {
        format!("Use federated credentials for {name}?")
    };
    view! {
        <Modal id="add-federated" title=title on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit novalidate=true>
                {what_ends(from, CredentialType::Federated).map(|text| view! {
                    <p class=WARNING data-testid="credential-warning">{text}</p>
                })}
                <p class="text-sm text-slate-600">
                    "A token of the issuer authenticates the application when its subject is exactly this one and its audience holds this one: no secret is stored anywhere."
                </p>
                {move || issuers.with(Option::is_none).then(|| view! { <p class="text-sm text-slate-500">"Loading trusted issuers…"</p> })}
                {roster}
                <div>
                    <label for="federated-subject" class="block text-sm font-medium text-slate-700">"Subject"</label>
                    <input id="federated-subject" type="text" autocomplete="off" spellcheck="false" class=INPUT
                        placeholder="system:serviceaccount:payments:api" data-testid="federated-subject-input"
                        prop:value=move || subject.get() on:input=move |ev| subject.set(event_target_value(&ev))/>
                </div>
                <div>
                    <label for="federated-audience" class="block text-sm font-medium text-slate-700">"Audience (optional)"</label>
                    <input id="federated-audience" type="text" autocomplete="off" spellcheck="false" class=INPUT
                        placeholder=default_audience data-testid="federated-audience-input" aria-describedby="federated-audience-hint"
                        prop:value=move || audience.get() on:input=move |ev| audience.set(event_target_value(&ev))/>
                    <p id="federated-audience-hint" class="mt-1 text-xs text-slate-500">"Left empty, it is this tenant's OAuth server URL."</p>
                </div>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Add credential" busy_label="Adding…" busy=saving
                    blocked=Signal::derive(move || issuers.with(|list| list.as_ref().is_none_or(Vec::is_empty)))
                    danger=from != CredentialType::Federated test_id="confirm-add-federated"/>
            </form>
        </Modal>
    }
}

#[component]
pub fn RemoveFederatedDialog(
    app: RwSignal<Application>,
    state: TabState,
    creds: RowCredentials,
    dialog: RwSignal<Option<CredentialDialog>>,
    credential: FederatedCredentialRow,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| dialog.set(None));
    let id = StoredValue::new(credential.id.clone());
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match delete_federated_credential(state.tenant(), client_id.get_value(), id.get_value()).await {
                Ok(()) => {
                    creds.federated.update(|list| {
                        if let Some(list) = list {
                            list.retain(|credential| credential.id != id.get_value());
                        }
                    });
                    state.notice.set(Some("Removed the federated credential.".to_owned()));
                    refresh(app, state);
                    dialog.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <Modal id="remove-federated" title="Remove this federated credential?" on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">
                    {format!(
                        "Tokens from {} with subject {} no longer authenticate the application.",
                        credential.issuer, credential.subject
                    )}
                </p>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Remove credential" busy_label="Removing…" busy=saving danger=true
                    test_id="confirm-remove-federated"/>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaving_the_secret_always_warns() {
        use CredentialType::*;
        assert!(what_ends(Secret, Keys).is_some_and(|text| text.contains("secret stops working")));
        assert!(what_ends(Secret, Federated).is_some_and(|text| text.contains("secret stops working")));
        assert!(what_ends(Keys, Keys).is_some_and(|text| text.contains("replaced")));
        assert_eq!(what_ends(Federated, Federated), None);
    }
}
