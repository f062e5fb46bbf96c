//! One row of the applications table and, expanded, its credentials:
//! client ID, tenant ID, URLs, the masked secret with Reveal and Copy, a
//! ready-to-run `curl` (for the protected application its roles grant
//! scopes on, if any), the previous secret's grace period, management
//! access, its credential type with its keys or federated credentials
//! (see `application_credentials`; an application without a secret has no
//! secret, curl or Rotate here), access control (see `application_access`),
//! the last hour's usage, and the Rotate, Rename, Revoke all tokens and
//! Delete actions.

use leptos::prelude::*;

use super::application_access::{AccessPanel, RowAccess};
use super::application_credentials::CredentialPanel;
use super::application_dialogs::{DeleteDialog, RenameDialog, RevokeTokensDialog, RotateDialog};
use super::application_usage::UsageChart;
use super::applications::TabState;
use crate::api::applications::{Application, reveal_secret, revoke_previous_secret, set_management_access};
use crate::api::credentials::CredentialType;
use crate::components::buttons::{DANGER_BUTTON, SECONDARY_BUTTON, SMALL_BUTTON};
use crate::components::copy::{CopyButton, CopyState, copy_to_clipboard, flash};
use crate::components::feedback::ErrorMessage;
use crate::components::format::{ago, curl_command, day, duration_words, masked, timestamp};

/// Which of a row's dialogs is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowDialog {
    Rotate,
    Rename,
    Delete,
    RevokeTokens,
}

#[component]
pub fn AppRow(app: Application, state: TabState, now: i64) -> impl IntoView {
    let client_id = app.client_id.clone();
    let app = RwSignal::new(app);
    let details_id = format!("details-{client_id}");
    let open = {
        let id = client_id.clone();
        Memo::new(move |_| state.expanded.with(|open| open.as_deref() == Some(id.as_str())))
    };
    let toggle = {
        let id = client_id.clone();
        move |_| {
            state
                .expanded
                .update(|open| *open = if open.as_deref() == Some(id.as_str()) { None } else { Some(id.clone()) })
        }
    };
    let created = move || app.with(|a| a.created_at.clone());
    let row_client_id = client_id.clone();
    view! {
        <tbody data-testid="app-row" data-client-id=row_client_id class="border-t border-slate-100">
            // The button carries the keyboard and screen-reader semantics;
            // the whole row is clickable for the mouse.
            <tr class="cursor-pointer hover:bg-slate-50" on:click=toggle>
                <td class="px-4 py-3">
                    <button type="button" data-testid="app-toggle" aria-controls=details_id.clone()
                        aria-expanded=move || if open.get() { "true" } else { "false" }
                        class="flex items-center gap-2 text-left font-medium text-slate-900 hover:text-indigo-700">
                        <span aria-hidden="true" class="inline-block w-3 text-slate-400">{move || if open.get() { "▾" } else { "▸" }}</span>
                        <span data-testid="app-name">{move || app.with(|a| a.name.clone())}</span>
                    </button>
                </td>
                <td class="px-4 py-3 font-mono text-xs text-slate-600" data-testid="app-client-id">{client_id}</td>
                <td class="px-4 py-3 text-slate-600" title=move || timestamp(&created())>{move || day(&created())}</td>
                <td class="px-4 py-3 text-slate-600">
                    {move || app.with(|a| a.last_used_unix.map_or_else(|| "Never".to_owned(), |used| ago(used, now)))}
                </td>
                <td class="px-4 py-3 text-slate-600">{move || app.with(|a| duration_words(now - a.secret_created_unix))}</td>
            </tr>
            <Show when=move || open.get()>
                <tr>
                    <td colspan="5" id=details_id.clone() class="border-t border-slate-100 bg-slate-50/70 px-4 py-5" data-testid="app-details">
                        <AppDetails app=app state=state now=now/>
                    </td>
                </tr>
            </Show>
        </tbody>
    }
}

/// One labelled value with a copy button.
fn credential<F>(label: &'static str, test_id: &'static str, value: F) -> impl IntoView
where
    F: Fn() -> String + Copy + Send + Sync + 'static,
{
    view! {
        <div class="grid grid-cols-1 gap-1 py-2 sm:grid-cols-[11rem_1fr_auto] sm:items-center sm:gap-3">
            <dt class="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
            <dd class="break-all font-mono text-sm text-slate-900" data-testid=test_id>{value}</dd>
            <dd><CopyButton label=format!("Copy {}", label.to_lowercase()) text=value/></dd>
        </div>
    }
}

#[component]
fn AppDetails(app: RwSignal<Application>, state: TabState, now: i64) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let dialog = RwSignal::new(None::<RowDialog>);
    let secret_copy = RwSignal::new(CopyState::Idle);
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let revealed = move || app.with(|a| a.secret.is_some());
    let has_secret = move || app.with(|a| a.credential == CredentialType::Secret);
    // None after its keys or federated credentials were removed, until a rotation.
    let secret_exists = move || app.with(|a| a.secret.is_some() || !a.secret_last_four.is_empty());
    let row_access = RowAccess::new();
    // Effects run only in the browser, where rows are opened.
    Effect::new(move |_| row_access.load(state.tenant(), client_id.get_value()));

    // Revealing asks the server, which records it in the audit log.
    let reveal = move |_| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match reveal_secret(state.tenant(), client_id.get_value()).await {
                Ok(secret) => app.update(|a| a.secret = Some(secret)),
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let hide = move |_| app.update(|a| a.secret = None);
    // Copying a hidden secret fetches it (audited) without showing it.
    let copy_secret = move |_| {
        error.set(None);
        leptos::task::spawn_local(async move {
            let secret = match app.with_untracked(|a| a.secret.clone()) {
                Some(secret) => secret,
                None => match reveal_secret(state.tenant(), client_id.get_value()).await {
                    Ok(secret) => secret,
                    Err(err) => {
                        error.set(Some(err.message));
                        return;
                    }
                },
            };
            flash(secret_copy, copy_to_clipboard(secret).await);
        });
    };
    let revoke_previous = move |_| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match revoke_previous_secret(state.tenant(), client_id.get_value()).await {
                Ok(()) => {
                    app.update(|a| a.previous_secret = None);
                    let name = app.with_untracked(|a| a.name.clone());
                    state.notice.set(Some(format!("The previous secret of {name} no longer works.")));
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let change_access = move |ev: leptos::ev::Event| {
        let access = event_target_value(&ev);
        error.set(None);
        leptos::task::spawn_local(async move {
            match set_management_access(state.tenant(), client_id.get_value(), access).await {
                Ok(mut fresh) => {
                    fresh.secret = app.with_untracked(|a| a.secret.clone());
                    app.set(fresh);
                }
                Err(err) => {
                    error.set(Some(err.message));
                    // Put the select back to what the server holds.
                    app.update(|_| {});
                }
            }
        });
    };

    let target = Memo::new(move |_| row_access.target());
    let curl = move || {
        let target = target.get();
        app.with(|a| curl_command(&a.oauth_server_url, &a.client_id, a.secret.as_deref(), target.as_ref()))
    };
    let access = move || app.with(|a| a.management_access.as_str());
    let access_id = format!("access-{}", client_id.get_value());
    view! {
        <div class="space-y-5">
            {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
            <section aria-label="Credentials">
                <dl class="divide-y divide-slate-200 rounded-lg bg-white px-4 ring-1 ring-slate-200">
                    {credential("Client ID", "cred-client-id", move || app.with(|a| a.client_id.clone()))}
                    {credential("Tenant ID", "cred-tenant-id", move || app.with(|a| a.tenant_id.clone()))}
                    {credential("OAuth server URL", "cred-oauth-url", move || app.with(|a| a.oauth_server_url.clone()))}
                    {credential("Discovery endpoint", "cred-discovery", move || app.with(|a| a.discovery_endpoint.clone()))}
                    <Show when=has_secret>
                    <div class="grid grid-cols-1 gap-1 py-2 sm:grid-cols-[11rem_1fr_auto] sm:items-center sm:gap-3">
                        <dt class="text-xs font-medium uppercase tracking-wide text-slate-500">"Client secret"</dt>
                        <dd class="break-all font-mono text-sm text-slate-900" data-testid="secret-value"
                            data-revealed=move || if revealed() { "true" } else { "false" }>
                            {move || app.with(|a| match &a.secret {
                                Some(secret) => secret.clone(),
                                None if a.secret_last_four.is_empty() => "None".to_owned(),
                                None => masked(&a.secret_last_four),
                            })}
                        </dd>
                        <dd class="flex gap-2">
                            {if state.can_write {
                                view! {
                                    <Show when=secret_exists>
                                    {move || if revealed() {
                                        view! { <button type="button" class=SMALL_BUTTON on:click=hide>"Hide"</button> }.into_any()
                                    } else {
                                        view! {
                                            <button type="button" class=SMALL_BUTTON data-testid="reveal-secret"
                                                disabled=move || busy.get() on:click=reveal>"Reveal"</button>
                                        }.into_any()
                                    }}
                                    <button type="button" class=SMALL_BUTTON data-testid="copy-secret" aria-label="Copy client secret"
                                        on:click=copy_secret>
                                        {move || match secret_copy.get() {
                                            CopyState::Idle => "Copy",
                                            CopyState::Copied => "Copied",
                                            CopyState::Failed => "Copy failed",
                                        }}
                                    </button>
                                    </Show>
                                }.into_any()
                            } else {
                                view! { <span class="text-xs text-slate-500">"Only admins can see secrets"</span> }.into_any()
                            }}
                        </dd>
                    </div>
                    </Show>
                </dl>
            </section>

            <CredentialPanel app=app state=state/>

            <Show when=has_secret>
            <section aria-labelledby=format!("curl-{}", client_id.get_value())>
                <div class="flex items-center justify-between">
                    <h2 id=format!("curl-{}", client_id.get_value()) class="text-sm font-semibold text-slate-800">"Request a token"</h2>
                    <CopyButton label="Copy curl command" text=curl test_id="copy-curl"/>
                </div>
                <pre class="mt-2 overflow-x-auto rounded-lg bg-slate-900 p-4 text-xs leading-relaxed text-slate-100" data-testid="curl">{curl}</pre>
                {move || target.get().map(|target| view! {
                    <p class="mt-1 text-xs text-slate-500" data-testid="curl-target">
                        {format!(
                            "Asks for a token for the protected application {} with the scopes its roles grant there: {}.",
                            target.audience,
                            target.scopes.join(", "),
                        )}
                    </p>
                })}
                <Show when=move || !revealed()>
                    <p class="mt-1 text-xs text-slate-500">
                        {if state.can_write {
                            "Reveal the secret to put it in the command, or set CLAVIS_CLIENT_SECRET in your shell."
                        } else {
                            "Set CLAVIS_CLIENT_SECRET in your shell to the application's secret."
                        }}
                    </p>
                </Show>
            </section>
            </Show>

            <section class="grid gap-4 sm:grid-cols-2">
                <Show when=has_secret>
                <div class="rounded-lg bg-white p-4 text-sm ring-1 ring-slate-200">
                    <h2 class="font-semibold text-slate-800">"Secret"</h2>
                    <p class="mt-1 text-slate-600">
                        {move || app.with(|a| if a.secret_last_four.is_empty() {
                            "It has no secret: Rotate secret makes one.".to_owned()
                        } else {
                            format!("Current secret ends in {}, issued {}.", a.secret_last_four, ago(a.secret_created_unix, now))
                        })}
                    </p>
                    {move || app.with(|a| a.previous_secret.clone()).map(|previous| view! {
                        <div class="mt-3 rounded-md bg-amber-50 p-3 text-amber-900 ring-1 ring-amber-200" data-testid="previous-secret">
                            <p>
                                {format!("The previous secret (ending in {}) keeps working until ", previous.last_four)}
                                <time datetime=previous.expires_at.clone() data-testid="previous-expires">{timestamp(&previous.expires_at)}</time>"."
                            </p>
                            <p class="mt-1" data-testid="previous-last-used">
                                {match previous.last_used_at {
                                    Some(used) => format!("Last used {}.", timestamp(&used)),
                                    None => "Not used since the rotation.".to_owned(),
                                }}
                            </p>
                            {state.can_write.then(|| view! {
                                <button type="button" class=format!("mt-2 {DANGER_BUTTON}") data-testid="revoke-previous"
                                    disabled=move || busy.get() on:click=revoke_previous>"Revoke now"</button>
                            })}
                        </div>
                    })}
                    <p class="mt-3 text-xs text-slate-500">
                        {move || app.with(|a| if a.tokens_issued == 1 { "1 token issued in all".to_owned() } else { format!("{} tokens issued in all", a.tokens_issued) })}
                    </p>
                </div>
                </Show>
                <div class="rounded-lg bg-white p-4 text-sm ring-1 ring-slate-200">
                    <label for=access_id.clone() class="font-semibold text-slate-800">"Management API access"</label>
                    <p class="mt-1 text-slate-600">"What this application may do with the tenant's management API."</p>
                    {if state.can_write {
                        view! {
                            <select id=access_id.clone() data-testid="management-access" on:change=change_access
                                prop:value=access
                                class="mt-2 rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
                                <option value="none" selected=move || access() == "none">"None"</option>
                                <option value="read" selected=move || access() == "read">"Read"</option>
                                <option value="write" selected=move || access() == "write">"Read and write"</option>
                            </select>
                        }.into_any()
                    } else {
                        view! { <p id=access_id.clone() class="mt-2 font-medium capitalize" data-testid="management-access">{access}</p> }.into_any()
                    }}
                </div>
            </section>

            <AccessPanel app=app state=state access=row_access/>

            <UsageChart tenant_id=state.tenant() client_id=client_id.get_value()/>

            {state.can_write.then(|| view! {
                <div class="flex flex-wrap gap-3 border-t border-slate-200 pt-4">
                    <Show when=has_secret>
                        <button type="button" class=SECONDARY_BUTTON data-testid="rotate-secret"
                            on:click=move |_| dialog.set(Some(RowDialog::Rotate))>"Rotate secret"</button>
                    </Show>
                    <button type="button" class=SECONDARY_BUTTON data-testid="rename-application"
                        on:click=move |_| dialog.set(Some(RowDialog::Rename))>"Rename"</button>
                    <button type="button" class=SECONDARY_BUTTON data-testid="revoke-tokens"
                        on:click=move |_| dialog.set(Some(RowDialog::RevokeTokens))>"Revoke all tokens"</button>
                    <button type="button" class=format!("ml-auto {DANGER_BUTTON}") data-testid="delete-application"
                        on:click=move |_| dialog.set(Some(RowDialog::Delete))>"Delete"</button>
                </div>
            })}
            {move || dialog.get().map(|which| match which {
                RowDialog::Rotate => view! { <RotateDialog app=app state=state dialog=dialog/> }.into_any(),
                RowDialog::Rename => view! { <RenameDialog app=app state=state dialog=dialog/> }.into_any(),
                RowDialog::Delete => view! { <DeleteDialog app=app state=state dialog=dialog/> }.into_any(),
                RowDialog::RevokeTokens => view! { <RevokeTokensDialog app=app state=state dialog=dialog/> }.into_any(),
            })}
        </div>
    }
}
