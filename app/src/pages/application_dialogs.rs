//! The dialogs a row opens: rotate the secret (with the old one's grace
//! period), rename, revoke every token issued so far (the kill switch),
//! and delete (confirmed by typing the name).

use leptos::prelude::*;

use super::application_row::RowDialog;
use super::applications::TabState;
use crate::api::applications::{
    Application, delete_application, get_application, rename_application, revoke_application_tokens, rotate_secret,
};
use crate::components::buttons::DialogActions;
use crate::components::dialog::Modal;
use crate::components::feedback::ErrorMessage;
use crate::components::format::timestamp;
use crate::components::name_field::{MAX_NAME_CHARS, NameField, NameForm};

/// How long the old secret keeps working after a rotation.
pub const GRACE_CHOICES: [(i64, &str); 4] =
    [(0, "Immediately"), (3_600, "After 1 hour"), (86_400, "After 24 hours"), (604_800, "After 7 days")];
/// 24 hours: long enough to roll the new secret out without an outage.
pub use clavis_types::DEFAULT_GRACE_SECS;
use clavis_types::last_four;

#[component]
pub fn RotateDialog(app: RwSignal<Application>, state: TabState, dialog: RwSignal<Option<RowDialog>>) -> impl IntoView {
    let grace = RwSignal::new(DEFAULT_GRACE_SECS);
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| dialog.set(None));
    let name = app.with_untracked(|a| a.name.clone());
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let tenant = state.tenant();
            let id = client_id.get_value();
            match rotate_secret(tenant.clone(), id.clone(), grace.get_untracked()).await {
                Ok(rotated) => {
                    // The row shows the new secret and the old one's grace period.
                    match get_application(tenant, id).await {
                        Ok(mut fresh) => {
                            fresh.secret = Some(rotated.secret);
                            app.set(fresh);
                        }
                        Err(_) => app.update(|a| {
                            a.secret_last_four = last_four(&rotated.secret);
                            a.secret = Some(rotated.secret);
                        }),
                    }
                    let name = app.with_untracked(|a| a.name.clone());
                    state.notice.set(Some(match rotated.previous_expires_at {
                        Some(until) => {
                            format!("New secret issued for {name}. The old one works until {}.", timestamp(&until))
                        }
                        None => format!("New secret issued for {name}. The old one no longer works."),
                    }));
                    dialog.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let choices = GRACE_CHOICES
        .iter()
        .map(|&(secs, label)| {
            let id = format!("grace-{secs}");
            let label_for = id.clone();
            view! {
                <label for=label_for class="flex items-center gap-2 rounded-md px-2 py-1.5 hover:bg-slate-50">
                    <input type="radio" id=id name="grace" value=secs.to_string()
                        checked=move || grace.get() == secs on:change=move |_| grace.set(secs)/>
                    <span>{label}</span>
                    {(secs == DEFAULT_GRACE_SECS).then(|| view! { <span class="text-xs text-slate-500">"(recommended)"</span> })}
                </label>
            }
        })
        .collect_view();
    view! {
        <Modal id="rotate-secret" title=format!("Rotate the secret of {name}?") on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">
                    "A new secret is issued now. Services still using the old one keep working until it stops, so you can roll the new one out first."
                </p>
                <fieldset>
                    <legend class="text-sm font-medium text-slate-700">"The old secret stops working"</legend>
                    <div class="mt-2 space-y-1 text-sm">{choices}</div>
                </fieldset>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Rotate secret" busy_label="Rotating…" busy=saving
                    test_id="confirm-rotate"/>
            </form>
        </Modal>
    }
}

#[component]
pub fn RenameDialog(app: RwSignal<Application>, state: TabState, dialog: RwSignal<Option<RowDialog>>) -> impl IntoView {
    let form = NameForm::new(app.with_untracked(|a| a.name.clone()));
    let NameForm { name, name_error, error, saving } = form;
    let close = Callback::new(move |()| dialog.set(None));
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            MAX_NAME_CHARS,
            move |name| rename_application(state.tenant(), client_id.get_value(), name),
            move |mut fresh: Application| {
                fresh.secret = app.with_untracked(|a| a.secret.clone());
                state.notice.set(Some(format!("Renamed to {}.", fresh.name)));
                app.set(fresh);
                dialog.set(None);
            },
        );
    };
    view! {
        <Modal id="rename-application" title="Rename application" on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit novalidate=true>
                <NameField id="rename-application-name" label="Name" value=name error=name_error/>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Save" busy_label="Saving…" busy=saving/>
            </form>
        </Modal>
    }
}

/// "2026-12-01T11:45:12Z" → "2026-12-01 11:45:12 UTC": a revocation's
/// moment to the second, since tokens are cut off by the second.
fn to_the_second(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(time) => format!("{} UTC", time.replacen('T', " ", 1)),
        None => rfc3339.to_owned(),
    }
}

#[component]
pub fn RevokeTokensDialog(
    app: RwSignal<Application>,
    state: TabState,
    dialog: RwSignal<Option<RowDialog>>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| dialog.set(None));
    let name = StoredValue::new(app.with_untracked(|a| a.name.clone()));
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match revoke_application_tokens(state.tenant(), client_id.get_value()).await {
                Ok(before) => {
                    dialog.set(None);
                    state.notice.set(Some(format!(
                        "Revoked every token issued to {} up to {}.",
                        name.get_value(),
                        to_the_second(&before)
                    )));
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <Modal id="revoke-tokens" title=format!("Revoke every token of {}?", name.get_value()) on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">
                    "Every token issued to this application before now stops being accepted by introspection and the management API."
                </p>
                <p class="text-sm text-slate-600">
                    "APIs that validate tokens offline cannot see a revocation: they honour it only when each token's lifetime ends. "
                    "The application's secrets keep working, so it can get new tokens at once; rotate the secret too if it leaked."
                </p>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Revoke all tokens" busy_label="Revoking…" busy=saving danger=true
                    test_id="confirm-revoke-tokens"/>
            </form>
        </Modal>
    }
}

#[component]
pub fn DeleteDialog(app: RwSignal<Application>, state: TabState, dialog: RwSignal<Option<RowDialog>>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| dialog.set(None));
    let name = StoredValue::new(app.with_untracked(|a| a.name.clone()));
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let confirmed = move || typed.with(|text| text == &name.get_value());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() || !confirmed() {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let id = client_id.get_value();
            match delete_application(state.tenant(), id.clone()).await {
                Ok(()) => {
                    dialog.set(None);
                    state.expanded.set(None);
                    state.removed.update(|removed| removed.push(id));
                    state.total_delta.update(|delta| *delta -= 1);
                    state.notice.set(Some(format!("Deleted {}. Its secrets no longer work.", name.get_value())));
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <Modal id="delete-application" title=format!("Delete {}?", name.get_value()) on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">
                    "The application and its secrets are deleted at once: services using them can no longer get tokens. This cannot be undone."
                </p>
                <div>
                    <label for="delete-confirm-name" class="block text-sm font-medium text-slate-700">
                        "Type " <span class="font-mono font-semibold">{name.get_value()}</span> " to confirm"
                    </label>
                    <input id="delete-confirm-name" type="text" autocomplete="off" spellcheck="false"
                        prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))
                        class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-red-500 focus:outline-none focus:ring-1 focus:ring-red-500"/>
                </div>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Delete application" busy_label="Deleting…" busy=saving
                    blocked=Signal::derive(move || !confirmed()) danger=true test_id="confirm-delete"/>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_grace_is_one_of_the_choices() {
        assert!(GRACE_CHOICES.iter().any(|&(secs, _)| secs == DEFAULT_GRACE_SECS));
        assert_eq!(GRACE_CHOICES.map(|(secs, _)| secs), [0, 3_600, 86_400, 604_800]);
    }

    #[test]
    fn revocation_times_read_to_the_second() {
        assert_eq!(to_the_second("2026-12-01T11:45:12Z"), "2026-12-01 11:45:12 UTC");
        assert_eq!(to_the_second("2026-12-01T11:45:12+01:00"), "2026-12-01T11:45:12+01:00");
    }
}
