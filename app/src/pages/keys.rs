//! `/t/{tenant}/keys`: the tenant's token-signing keys — which one signs,
//! which are still published for the tokens they signed, which were
//! revoked — with the kill switches: rotate the active key (choosing the
//! algorithm) and revoke a key — and the rotation schedule (off, or every
//! N days; when the next key takes over). Viewers see the list and the
//! schedule only.

use leptos::prelude::*;
use leptos_meta::Title;

use super::layout::{Section, TenantGate};
use crate::api::key_rotation::{
    INTERVAL_MESSAGE, RotationSchedule, key_rotation_schedule, set_key_rotation_schedule, valid_interval,
};
use crate::api::keys::{KeyList, KeyRow, KeyState, list_signing_keys, revoke_signing_key, rotate_signing_key};
use crate::api::tenants::TenantContext;
use crate::components::buttons::{DialogActions, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::dialog::Modal;
use crate::components::feedback::{ErrorMessage, Notice};
use crate::components::format::timestamp;
use crate::components::table::{TABLE, TABLE_FRAME, TableHead};

/// Which dialog of the page is open.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeysDialog {
    /// The algorithms to choose from and the current one.
    Rotate {
        algorithms: Vec<String>,
        current: String,
    },
    Revoke(KeyRow),
}

/// State shared by the page and its dialogs. Every field is a cheap handle.
#[derive(Clone, Copy)]
struct KeysState {
    tenant_id: StoredValue<String>,
    can_write: bool,
    reload: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    dialog: RwSignal<Option<KeysDialog>>,
}

impl KeysState {
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
pub fn KeysPage() -> impl IntoView {
    view! {
        <Title text="Signing keys · Clavis"/>
        <TenantGate section=Section::Keys page=|context| view! { <KeysTab context=context/> }/>
    }
}

#[component]
fn KeysTab(context: TenantContext) -> impl IntoView {
    let state = KeysState {
        tenant_id: StoredValue::new(context.tenant_id.clone()),
        can_write: context.can_write,
        reload: RwSignal::new(0),
        notice: RwSignal::new(None),
        dialog: RwSignal::new(None),
    };
    let keys =
        Resource::new(move || (state.tenant(), state.reload.get()), |(tenant_id, _)| list_signing_keys(tenant_id));
    view! {
        <div class="mt-4">
            <h1 class="text-2xl font-bold tracking-tight">"Signing keys"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "The active key signs the tenant's tokens; APIs check them against the published keys (JWKS). "
                "A replaced key stays published until every token it signed has expired."
            </p>
        </div>
        <Notice notice=state.notice/>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading keys…"</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Ok(list) => view! { <KeysTable list=list state=state/> }.into_any(),
                    Err(err) => view! { <div class="mt-6"><ErrorMessage message=err.message/></div> }.into_any(),
                }
            })}
        </Transition>
        <ScheduleSection state=state/>
        {move || state.dialog.get().map(|dialog| match dialog {
            KeysDialog::Rotate { algorithms, current } => {
                view! { <RotateKeyDialog state=state algorithms=algorithms current=current/> }.into_any()
            }
            KeysDialog::Revoke(key) => view! { <RevokeKeyDialog state=state key=key/> }.into_any(),
        })}
    }
}

fn state_badge(state: KeyState) -> impl IntoView {
    let class = match state {
        KeyState::Active => "bg-emerald-50 text-emerald-800 ring-emerald-200",
        KeyState::Next => "bg-sky-50 text-sky-800 ring-sky-200",
        KeyState::Previous => "bg-amber-50 text-amber-900 ring-amber-200",
        KeyState::Expired => "bg-slate-100 text-slate-700 ring-slate-200",
        KeyState::Revoked => "bg-red-50 text-red-800 ring-red-200",
    };
    view! {
        <span class=format!("rounded px-2 py-0.5 text-xs font-medium ring-1 {class}") data-testid="key-state">
            {state.label()}
        </span>
    }
}

#[component]
fn KeysTable(list: KeyList, state: KeysState) -> impl IntoView {
    const COLUMNS: &[&str] = &["Key ID", "Algorithm", "Status", "Created"];
    let head = if state.can_write {
        view! { <TableHead columns=COLUMNS action="Actions"/> }.into_any()
    } else {
        view! { <TableHead columns=COLUMNS/> }.into_any()
    };
    let rotate = state.can_write.then(|| {
        let current = list.current_algorithm().unwrap_or_default();
        let algorithms = list.algorithms.clone();
        view! {
            <div class="mt-6 flex justify-end">
                <button type="button" class=PRIMARY_BUTTON data-testid="rotate-key"
                    on:click=move |_| state.dialog.set(Some(KeysDialog::Rotate {
                        algorithms: algorithms.clone(),
                        current: current.clone(),
                    }))>"Rotate key"</button>
            </div>
        }
    });
    let rows = list
        .keys
        .into_iter()
        .map(|key| {
            let kid = key.kid.clone();
            let for_revoke = key.clone();
            let revocable = key.state != KeyState::Revoked;
            view! {
                <tr class="border-t border-slate-100" data-testid="key-row" data-kid=kid.clone()>
                    <td class="px-4 py-3 font-mono text-xs" data-testid="key-id">{kid.clone()}</td>
                    <td class="px-4 py-3" data-testid="key-alg">{key.algorithm.clone()}</td>
                    <td class="px-4 py-3">
                        {state_badge(key.state)}
                        {key.published_until.as_ref().map(|until| view! {
                            <span class="ml-2 text-xs text-slate-500">{format!("published until {}", timestamp(until))}</span>
                        })}
                    </td>
                    <td class="px-4 py-3 text-slate-600">{timestamp(&key.created_at)}</td>
                    {state.can_write.then(|| view! {
                        <td class="whitespace-nowrap px-4 py-3 text-right">
                            {revocable.then(|| view! {
                                <button type="button" class=SECONDARY_BUTTON data-testid="revoke-key"
                                    aria-label=format!("Revoke key {kid}")
                                    on:click=move |_| state.dialog.set(Some(KeysDialog::Revoke(for_revoke.clone())))>"Revoke"</button>
                            })}
                        </td>
                    })}
                </tr>
            }
        })
        .collect_view();
    view! {
        {rotate}
        <div class=format!("mt-4 {TABLE_FRAME}")>
            <table class=TABLE data-testid="keys-table">
                {head}
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The rotation schedule, read again whenever the keys are (a rotation
/// moves the next one).
#[component]
fn ScheduleSection(state: KeysState) -> impl IntoView {
    let schedule =
        Resource::new(move || (state.tenant(), state.reload.get()), |(tenant_id, _)| key_rotation_schedule(tenant_id));
    view! {
        <section class="mt-8 max-w-xl rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200"
            aria-labelledby="rotation-title" data-testid="rotation-schedule">
            <h2 id="rotation-title" class="text-base font-semibold">"Scheduled rotation"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "When it is on, a new key is published an hour before it starts signing, and the key it replaces stays published until its tokens have expired."
            </p>
            <Transition fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match schedule.await {
                        Ok(current) => view! { <ScheduleView state=state current=current/> }.into_any(),
                        Err(err) => view! { <div class="mt-3"><ErrorMessage message=err.message/></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn schedule_words(schedule: &RotationSchedule) -> String {
    match (schedule.enabled, schedule.interval_days) {
        (false, _) => "Off".to_owned(),
        (true, 1) => "Every day".to_owned(),
        (true, days) => format!("Every {days} days"),
    }
}

#[component]
fn ScheduleView(state: KeysState, current: RotationSchedule) -> impl IntoView {
    let facts = view! {
        <dl class="mt-4 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
            <dt class="text-slate-500">"Schedule"</dt>
            <dd data-testid="rotation-status">{schedule_words(&current)}</dd>
            {current.next_rotation_at.clone().map(|at| view! {
                <dt class="text-slate-500">"Next rotation"</dt>
                <dd data-testid="rotation-next">{timestamp(&at)}</dd>
            })}
            {current.next_kid.clone().map(|kid| view! {
                <dt class="text-slate-500">"Published ahead"</dt>
                <dd class="font-mono text-xs" data-testid="rotation-next-key">{kid}</dd>
            })}
        </dl>
    };
    view! {
        {facts}
        {state.can_write.then(|| view! { <ScheduleForm state=state current=current/> })}
    }
}

#[component]
fn ScheduleForm(state: KeysState, current: RotationSchedule) -> impl IntoView {
    let enabled = RwSignal::new(current.enabled);
    let days = RwSignal::new(current.interval_days.to_string());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let Some(interval) = days.get_untracked().trim().parse::<i64>().ok().filter(|d| valid_interval(*d)) else {
            error.set(Some(INTERVAL_MESSAGE.to_owned()));
            return;
        };
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match set_key_rotation_schedule(state.tenant(), enabled.get_untracked(), interval).await {
                Ok(now) => state.done(if now.enabled {
                    format!("Keys now rotate {}.", schedule_words(&now).to_lowercase())
                } else {
                    "Scheduled rotation is off.".to_owned()
                }),
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <form class="mt-4 space-y-3 border-t border-slate-100 pt-4" on:submit=on_submit novalidate>
            <label class="flex items-center gap-3 text-sm font-medium text-slate-700">
                <input type="checkbox" class="h-4 w-4 rounded border-slate-300" data-testid="rotation-enabled"
                    checked=current.enabled
                    on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                "Rotate the signing key on a schedule"
            </label>
            <div>
                <label for="rotation-days" class="block text-sm font-medium text-slate-700">"Interval (days)"</label>
                <input id="rotation-days" type="number" min="1" max="365" step="1" inputmode="numeric"
                    data-testid="rotation-days" value=current.interval_days.to_string()
                    on:input=move |ev| days.set(event_target_value(&ev))
                    class="mt-1 block w-32 rounded-md border border-slate-300 px-3 py-2 text-sm"/>
                <p class="mt-1 text-xs text-slate-500">"1 to 365 days."</p>
            </div>
            {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
            <button type="submit" class=PRIMARY_BUTTON data-testid="save-rotation" disabled=move || saving.get()>
                {move || if saving.get() { "Saving…" } else { "Save schedule" }}
            </button>
        </form>
    }
}

#[component]
fn RotateKeyDialog(state: KeysState, algorithms: Vec<String>, current: String) -> impl IntoView {
    let chosen = RwSignal::new(current.clone());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| state.dialog.set(None));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let algorithm = chosen.get_untracked();
            match rotate_signing_key(state.tenant(), Some(algorithm.clone())).await {
                Ok(kid) => state.done(format!("Key {kid} ({algorithm}) now signs new tokens.")),
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let options = algorithms
        .into_iter()
        .map(|alg| {
            let selected = alg == current;
            let label = if selected { format!("{alg} (current)") } else { alg.clone() };
            view! { <option value=alg selected=selected>{label}</option> }
        })
        .collect_view();
    view! {
        <Modal id="rotate-key" title="Rotate the signing key?" on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">
                    "A new key signs every token from now on. The current key stays published until the tokens it signed have expired, so APIs keep accepting them."
                </p>
                <div>
                    <label for="rotate-key-alg" class="block text-sm font-medium text-slate-700">"Algorithm"</label>
                    <select id="rotate-key-alg" data-testid="rotate-key-alg"
                        on:change=move |ev| chosen.set(event_target_value(&ev))
                        class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
                        {options}
                    </select>
                </div>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Rotate key" busy_label="Rotating…" busy=saving
                    test_id="confirm-rotate-key"/>
            </form>
        </Modal>
    }
}

#[component]
fn RevokeKeyDialog(state: KeysState, key: KeyRow) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| state.dialog.set(None));
    let kid = StoredValue::new(key.kid.clone());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let revoked = kid.get_value();
            match revoke_signing_key(state.tenant(), revoked.clone()).await {
                Ok(active) => state.done(format!("Revoked key {revoked}. Key {active} signs new tokens.")),
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let active_note = (key.state == KeyState::Active).then(|| {
        view! {
            <p class="text-sm text-slate-600" data-testid="revoke-active-note">
                "This is the active key: a new key with the same algorithm takes its place first."
            </p>
        }
    });
    view! {
        <Modal id="revoke-key" title=format!("Revoke key {}?", key.kid) on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">
                    "The key leaves the published keys (JWKS) now, and no token it signed is accepted any more by introspection or the management API. "
                    "APIs that validate tokens offline stop accepting them when they fetch the keys again, at the latest when the tokens expire. This cannot be undone."
                </p>
                {active_note}
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Revoke key" busy_label="Revoking…" busy=saving danger=true
                    test_id="confirm-revoke-key"/>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(state: KeyState, algorithm: &str) -> KeyRow {
        KeyRow {
            kid: format!("{}-{algorithm}", state.label()),
            algorithm: algorithm.to_owned(),
            state,
            created_at: "2026-12-01T10:00:00Z".to_owned(),
            published_until: None,
        }
    }

    #[test]
    fn the_schedule_reads_as_words() {
        let schedule = |enabled, interval_days| RotationSchedule {
            enabled,
            interval_days,
            next_rotation_at: None,
            next_kid: None,
        };
        assert_eq!(schedule_words(&schedule(false, 90)), "Off");
        assert_eq!(schedule_words(&schedule(true, 1)), "Every day");
        assert_eq!(schedule_words(&schedule(true, 30)), "Every 30 days");
    }

    #[test]
    fn a_rotation_keeps_the_active_keys_algorithm_by_default() {
        let list = KeyList {
            keys: vec![key(KeyState::Previous, "RS256"), key(KeyState::Active, "ES256")],
            algorithms: vec!["RS256".into(), "ES256".into(), "EdDSA".into()],
        };
        assert_eq!(list.current_algorithm().as_deref(), Some("ES256"));
        let none = KeyList { keys: vec![key(KeyState::Revoked, "RS256")], algorithms: Vec::new() };
        assert_eq!(none.current_algorithm(), None);
    }
}
