//! One row of the Users table: the user's email, name, status and age, and
//! for admins the switch that disables or enables them (it flips at once
//! and snaps back if the server refuses) and the buttons of the dialogs.

use leptos::prelude::*;

use super::users::{UsersDialog, UsersState};
use crate::api::directory::{UserRow, set_directory_user_active};
use crate::components::buttons::SMALL_BUTTON;
use crate::components::format::day;

/// What the status column says of a user.
pub fn status_label(active: bool, confirmed: bool) -> &'static str {
    match (active, confirmed) {
        (false, _) => "Disabled",
        (true, false) => "Pending",
        (true, true) => "Active",
    }
}

#[component]
pub fn UserTableRow(user: UserRow, state: UsersState) -> impl IntoView {
    let row = RwSignal::new(user);
    let email = row.with_untracked(|user| user.email.clone());
    let name = row.with_untracked(|user| user.name.clone());
    let created_at = row.with_untracked(|user| user.created_at.clone());
    let open = move |make: fn(UserRow) -> UsersDialog| {
        move |_: leptos::ev::MouseEvent| state.dialog.set(Some(make(row.get_untracked())))
    };
    let actions = state.can_write.then(|| {
        let email = email.clone();
        view! {
            <td class="whitespace-nowrap px-4 py-3 text-right space-x-2">
                <button type="button" class=SMALL_BUTTON data-testid="reset-user-password"
                    aria-label=format!("Reset password of {email}") on:click=open(UsersDialog::ResetPassword)>"Reset password"</button>
                <button type="button" class=SMALL_BUTTON data-testid="user-roles"
                    aria-label=format!("Roles of {email}") on:click=open(UsersDialog::Roles)>"Roles"</button>
                <button type="button" class=SMALL_BUTTON data-testid="delete-user"
                    aria-label=format!("Delete {email}") on:click=open(UsersDialog::Delete)>"Delete"</button>
            </td>
        }
    });
    let status = if state.can_write {
        view! { <ActiveSwitch row=row state=state/> }.into_any()
    } else {
        view! {
            <span data-testid="user-status">
                {move || row.with(|user| status_label(user.active, user.confirmed))}
            </span>
        }
        .into_any()
    };
    view! {
        <tr class="border-t border-slate-100" data-testid="user-row" data-email=email.clone()>
            <td class="px-4 py-3 font-medium" data-testid="directory-email">{email.clone()}</td>
            <td class="px-4 py-3 text-slate-600" data-testid="directory-name">
                {if name.is_empty() { view! { <span class="text-slate-500">"—"</span> }.into_any() } else { name.into_any() }}
            </td>
            <td class="px-4 py-3">{status}</td>
            <td class="whitespace-nowrap px-4 py-3 text-slate-600">
                <time datetime=created_at.clone()>{day(&created_at)}</time>
            </td>
            {actions}
        </tr>
    }
}

/// The disable/enable switch. It shows the new state at once; while the
/// server answers it is busy, and a refusal puts the old state back.
#[component]
fn ActiveSwitch(row: RwSignal<UserRow>, state: UsersState) -> impl IntoView {
    let busy = RwSignal::new(false);
    let active = move || row.with(|user| user.active);
    let email = StoredValue::new(row.with_untracked(|user| user.email.clone()));
    let on_click = move |_| {
        if busy.get_untracked() {
            return;
        }
        let want = !row.with_untracked(|user| user.active);
        busy.set(true);
        state.error.set(None);
        row.update(|user| user.active = want);
        leptos::task::spawn_local(async move {
            let id = row.with_untracked(|user| user.id.clone());
            match set_directory_user_active(state.tenant(), id, want).await {
                Ok(fresh) => {
                    row.set(fresh);
                    state.notice.set(Some(if want {
                        format!("Enabled {}. They can sign in again.", email.get_value())
                    } else {
                        format!(
                            "Disabled {}. They can no longer sign in, and their refresh tokens stopped working.",
                            email.get_value()
                        )
                    }));
                }
                Err(err) => {
                    row.update(|user| user.active = !want);
                    state.error.set(Some(err.message));
                }
            }
            busy.set(false);
        });
    };
    view! {
        <button type="button" role="switch" data-testid="user-active"
            aria-checked=move || if active() { "true" } else { "false" }
            aria-label=format!("{} may sign in", email.get_value())
            aria-busy=move || if busy.get() { "true" } else { "false" }
            on:click=on_click
            class="group inline-flex items-center gap-2 rounded-md px-1 py-0.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
            <span aria-hidden="true"
                class=move || if active() {
                    "relative inline-flex h-5 w-9 shrink-0 items-center rounded-full bg-emerald-600 transition"
                } else {
                    "relative inline-flex h-5 w-9 shrink-0 items-center rounded-full bg-slate-300 transition"
                }>
                <span class=move || if active() {
                    "inline-block h-4 w-4 translate-x-4 rounded-full bg-white shadow transition"
                } else {
                    "inline-block h-4 w-4 translate-x-0.5 rounded-full bg-white shadow transition"
                }></span>
            </span>
            <span data-testid="user-status" class=move || if active() { "text-emerald-800" } else { "text-slate-600" }>
                {move || row.with(|user| status_label(user.active, user.confirmed))}
            </span>
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::status_label;

    #[test]
    fn disabled_wins_over_pending() {
        assert_eq!(status_label(true, true), "Active");
        assert_eq!(status_label(true, false), "Pending");
        assert_eq!(status_label(false, false), "Disabled");
        assert_eq!(status_label(false, true), "Disabled");
    }
}
