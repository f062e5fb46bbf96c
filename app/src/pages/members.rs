//! `/t/{tenant}/members`: who may use the tenant's dashboard. Admins add
//! members with a role and an initial password, change roles and remove
//! members; the server keeps the last admin from being removed or demoted.

use clavis_types::MemberRole;
use leptos::prelude::*;
use leptos_meta::Title;

use super::layout::{Section, TenantGate};
use crate::api::members::{MemberRow, add_member, change_member_role, list_members, remove_member};
use crate::api::tenants::TenantContext;
use crate::components::buttons::{DialogActions, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::dialog::Modal;
use crate::components::feedback::{ErrorMessage, Notice};
use crate::components::format::day;
use crate::components::table::{TABLE, TABLE_FRAME, TableHead};

/// The shortest initial password the server accepts.
const MIN_PASSWORD_CHARS: usize = 12;

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";

#[component]
pub fn MembersPage() -> impl IntoView {
    view! {
        <Title text="Members · Clavis"/>
        <TenantGate section=Section::Members page=|context| view! { <MembersTab context=context/> }/>
    }
}

/// The client-side check of the add form; the server checks again.
fn check_new_member(email: &str, password: &str) -> Result<(), String> {
    if !email.trim().contains('@') {
        return Err("Enter the new member's email address.".to_owned());
    }
    if !password.is_empty() && password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("The initial password needs at least {MIN_PASSWORD_CHARS} characters."));
    }
    Ok(())
}

#[component]
fn MembersTab(context: TenantContext) -> impl IntoView {
    let tenant = StoredValue::new(context.tenant_id.clone());
    let can_write = context.can_write;
    let reload = RwSignal::new(0_u32);
    let members = Resource::new(move || (tenant.get_value(), reload.get()), |(tenant_id, _)| list_members(tenant_id));
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let removing = RwSignal::new(None::<MemberRow>);

    let change_role = move |member: MemberRow, role: String| {
        error.set(None);
        leptos::task::spawn_local(async move {
            match change_member_role(tenant.get_value(), member.user_id.clone(), role.clone()).await {
                Ok(()) => notice.set(Some(format!(
                    "{} is now {}.",
                    member.email,
                    if role == "admin" { "an admin" } else { "a viewer" }
                ))),
                Err(err) => error.set(Some(err.message)),
            }
            // Either way, show what the server holds (a refused change snaps back).
            reload.update(|n| *n += 1);
        });
    };

    view! {
        <div class="mt-4">
            <h1 class="text-2xl font-bold tracking-tight">"Members"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Admins manage applications and members; viewers see applications but not their secrets."
            </p>
        </div>
        <Notice notice=notice/>
        {can_write.then(|| view! { <AddMemberForm tenant=tenant reload=reload notice=notice/> })}
        <div class="mt-6">{move || error.get().map(|message| view! { <ErrorMessage message=message/> })}</div>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading members…"</p> }>
            {move || Suspend::new(async move {
                match members.await {
                    Ok(rows) => view! {
                        <div class=format!("mt-4 {TABLE_FRAME}")>
                            <table class=TABLE data-testid="members-table">
                                <TableHead columns=&["Email", "Role", "Added"] action="Actions"/>
                                <tbody>
                                    {rows.into_iter().map(|member| {
                                        let select_id = format!("role-{}", member.user_id);
                                        let for_change = member.clone();
                                        let for_remove = member.clone();
                                        view! {
                                            <tr class="border-t border-slate-100" data-testid="member-row" data-email=member.email.clone()>
                                                <td class="px-4 py-3 font-medium">{member.email.clone()}</td>
                                                <td class="px-4 py-3">
                                                    {if can_write {
                                                        view! {
                                                            <label for=select_id.clone() class="sr-only">{format!("Role of {}", member.email)}</label>
                                                            <select id=select_id data-testid="member-role"
                                                                on:change=move |ev| change_role(for_change.clone(), event_target_value(&ev))
                                                                class="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm">
                                                                <option value="admin" selected=member.role == MemberRole::Admin>"Admin"</option>
                                                                <option value="viewer" selected=member.role == MemberRole::Viewer>"Viewer"</option>
                                                            </select>
                                                        }.into_any()
                                                    } else {
                                                        view! { <span class="capitalize">{member.role.as_str()}</span> }.into_any()
                                                    }}
                                                </td>
                                                <td class="px-4 py-3 text-slate-600">{day(&member.added_at)}</td>
                                                <td class="px-4 py-3 text-right">
                                                    {can_write.then(|| view! {
                                                        <button type="button" class=SECONDARY_BUTTON data-testid="remove-member"
                                                            on:click=move |_| removing.set(Some(for_remove.clone()))>"Remove"</button>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(err) => view! { <div class="mt-4"><ErrorMessage message=err.message/></div> }.into_any(),
                }
            })}
        </Transition>
        {move || removing.get().map(|member| view! {
            <RemoveMemberDialog member=member tenant=tenant removing=removing reload=reload notice=notice/>
        })}
    }
}

#[component]
fn AddMemberForm(
    tenant: StoredValue<String>,
    reload: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("viewer".to_owned());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        if let Err(message) = check_new_member(&email.get_untracked(), &password.get_untracked()) {
            error.set(Some(message));
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match add_member(tenant.get_value(), email.get_untracked(), role.get_untracked(), password.get_untracked())
                .await
            {
                Ok(member) => {
                    notice.set(Some(format!("Added {} as {}.", member.email, member.role.as_str())));
                    email.set(String::new());
                    password.set(String::new());
                    reload.update(|n| *n += 1);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <form class="mt-6 rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200" on:submit=on_submit novalidate=true
            aria-labelledby="add-member-title">
            <h2 id="add-member-title" class="text-base font-semibold">"Add a member"</h2>
            <div class="mt-3 grid gap-4 sm:grid-cols-[2fr_1fr_2fr_auto] sm:items-end">
                <div>
                    <label for="member-email" class="block text-sm font-medium text-slate-700">"Email"</label>
                    <input id="member-email" type="email" autocomplete="off" class=INPUT
                        prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
                </div>
                <div>
                    <label for="member-role" class="block text-sm font-medium text-slate-700">"Role"</label>
                    <select id="member-role" class=INPUT prop:value=move || role.get()
                        on:change=move |ev| role.set(event_target_value(&ev))>
                        <option value="viewer" selected=true>"Viewer"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </div>
                <div>
                    <label for="member-password" class="block text-sm font-medium text-slate-700">"Initial password"</label>
                    <input id="member-password" type="password" autocomplete="new-password" class=INPUT
                        aria-describedby="member-password-hint"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                </div>
                <button type="submit" class=PRIMARY_BUTTON disabled=move || saving.get()>
                    {move || if saving.get() { "Adding…" } else { "Add member" }}
                </button>
            </div>
            <p id="member-password-hint" class="mt-2 text-xs text-slate-500">
                "For a new user: at least 12 characters; give it to them privately. Existing users keep their password."
            </p>
            {move || error.get().map(|message| view! { <div class="mt-3"><ErrorMessage message=message/></div> })}
        </form>
    }
}

#[component]
fn RemoveMemberDialog(
    member: MemberRow,
    tenant: StoredValue<String>,
    removing: RwSignal<Option<MemberRow>>,
    reload: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| removing.set(None));
    let email = StoredValue::new(member.email.clone());
    let user_id = StoredValue::new(member.user_id);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match remove_member(tenant.get_value(), user_id.get_value()).await {
                Ok(()) => {
                    notice.set(Some(format!("Removed {}.", email.get_value())));
                    removing.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <Modal id="remove-member" title=format!("Remove {}?", member.email) on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">"They lose access to this tenant at once. Their account stays, with any other tenants."</p>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Remove" busy_label="Removing…" busy=saving danger=true
                    test_id="confirm-remove"/>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::check_new_member;

    #[test]
    fn the_add_form_checks_email_and_password_length() {
        assert!(check_new_member("", "long-enough-password").is_err());
        assert!(check_new_member("ops@example.com", "short").is_err());
        assert!(check_new_member("ops@example.com", "").is_ok());
        assert!(check_new_member("ops@example.com", "ümlaut-passwort").is_ok());
    }
}
