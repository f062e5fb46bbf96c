//! `/t/{tenant}/members`: who may use the tenant's dashboard. Admins invite
//! members with a role (nobody chooses another person's password), revoke
//! pending invitations, change roles and remove members; the server keeps
//! the last admin from being removed or demoted. Operators can also issue a
//! member's password-reset link.

use clavis_types::MemberRole;
use leptos::prelude::*;
use leptos_meta::Title;

use super::layout::{Section, TenantGate};
use super::member_invites::{InviteForm, OnceLink, PendingInvitations, ResetLinkButton};
use crate::api::account::LinkView;
use crate::api::auth::current_user;
use crate::api::members::{MemberRow, change_member_role, list_members, remove_member};
use crate::api::tenants::TenantContext;
use crate::components::buttons::{DialogActions, SECONDARY_BUTTON};
use crate::components::dialog::Modal;
use crate::components::feedback::{ErrorMessage, Notice};
use crate::components::format::day;
use crate::components::table::{TABLE, TABLE_FRAME, TableHead};

#[component]
pub fn MembersPage() -> impl IntoView {
    view! {
        <Title text="Members · Clavis"/>
        <TenantGate section=Section::Members page=|context| view! { <MembersTab context=context/> }/>
    }
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
    let me = Resource::new(|| (), |_| current_user());
    let reset_link = RwSignal::new(None::<(String, LinkView)>);

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
        {can_write.then(|| view! {
            <InviteForm tenant=tenant reload=reload/>
            <PendingInvitations tenant=tenant reload=reload/>
        })}
        <div class="mt-6">{move || error.get().map(|message| view! { <ErrorMessage message=message/> })}</div>
        {move || reset_link.get().map(|(email, link)| view! {
            <OnceLink link=link what=format!("Password reset link for {email} created.") test_id="reset-link"/>
        })}
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading members…"</p> }>
            {move || Suspend::new(async move {
                // Only operators reset passwords: an account may be in other tenants too.
                let is_operator = me.await.ok().flatten().is_some_and(|user| user.is_operator);
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
                                        let email = member.email.clone();
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
                                                <td class="px-4 py-3 text-right space-x-2">
                                                    {is_operator.then(|| view! { <ResetLinkButton email=email shown=reset_link error=error/> })}
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
