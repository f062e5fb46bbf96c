//! The Members page's invitations: the invite form, the link shown once,
//! pending invitations with their revoke button, and the operators'
//! reset-link action.

use leptos::prelude::*;

use super::account::INPUT;
use crate::api::account::{LinkView, create_reset_link};
use crate::api::invitations::{invite_member, list_invitations, revoke_invitation};
use crate::components::buttons::{PRIMARY_BUTTON, SMALL_BUTTON};
use crate::components::copy::CopyButton;
use crate::components::feedback::ErrorMessage;
use crate::components::format::timestamp;
use crate::components::table::{TABLE, TABLE_FRAME, TableHead};

/// The client-side check of the invite form; the server checks again.
pub fn check_invite(email: &str) -> Result<(), String> {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(()),
        _ => Err("Enter the email address of the person to invite.".to_owned()),
    }
}

/// A one-time link, shown once, with what it is for.
#[component]
pub fn OnceLink(link: LinkView, #[prop(into)] what: String, #[prop(into)] test_id: String) -> impl IntoView {
    let url = StoredValue::new(link.url.clone());
    view! {
        <div class="mt-3 rounded-md bg-amber-50 p-3 text-sm ring-1 ring-amber-200" role="status">
            <p class="font-medium text-amber-900">{format!("{what} This link is shown only now; it works once, until {}.", timestamp(&link.expires_at))}</p>
            <div class="mt-2 flex items-center gap-2">
                <code class="min-w-0 flex-1 break-all rounded bg-white px-2 py-1 text-xs ring-1 ring-amber-200" data-testid=test_id>{link.url}</code>
                <CopyButton label="Copy the link" text=move || url.get_value()/>
            </div>
        </div>
    }
}

#[component]
pub fn InviteForm(tenant: StoredValue<String>, reload: RwSignal<u32>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("viewer".to_owned());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let created = RwSignal::new(None::<(String, LinkView)>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        if let Err(message) = check_invite(&email.get_untracked()) {
            error.set(Some(message));
            return;
        }
        saving.set(true);
        error.set(None);
        created.set(None);
        leptos::task::spawn_local(async move {
            match invite_member(tenant.get_value(), email.get_untracked(), role.get_untracked()).await {
                Ok(invite) => {
                    created.set(Some((invite.invitation.email, invite.link)));
                    email.set(String::new());
                    reload.update(|n| *n += 1);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <form class="mt-6 rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200" on:submit=on_submit novalidate=true
            aria-labelledby="invite-title">
            <h2 id="invite-title" class="text-base font-semibold">"Invite a member"</h2>
            <div class="mt-3 grid gap-4 sm:grid-cols-[2fr_1fr_auto] sm:items-end">
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
                <button type="submit" class=PRIMARY_BUTTON data-testid="invite-member" disabled=move || saving.get()>
                    {move || if saving.get() { "Inviting…" } else { "Invite" }}
                </button>
            </div>
            <p class="mt-2 text-xs text-slate-500">
                "Send the link privately. The person chooses their own password, or accepts with the one they already have."
            </p>
            {move || error.get().map(|message| view! { <div class="mt-3"><ErrorMessage message=message/></div> })}
            {move || created.get().map(|(email, link)| view! {
                <OnceLink link=link what=format!("Invitation for {email} created.") test_id="invite-link"/>
            })}
        </form>
    }
}

#[component]
pub fn PendingInvitations(tenant: StoredValue<String>, reload: RwSignal<u32>) -> impl IntoView {
    let invitations =
        Resource::new(move || (tenant.get_value(), reload.get()), |(tenant_id, _)| list_invitations(tenant_id));
    let error = RwSignal::new(None::<String>);
    let revoke = move |id: String| {
        error.set(None);
        leptos::task::spawn_local(async move {
            if let Err(err) = revoke_invitation(tenant.get_value(), id).await {
                error.set(Some(err.message));
            }
            reload.update(|n| *n += 1);
        });
    };
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match invitations.await {
                    Ok(rows) if rows.is_empty() => ().into_any(),
                    Ok(rows) => view! {
                        <section class="mt-6" aria-labelledby="pending-title">
                            <h2 id="pending-title" class="text-base font-semibold">"Pending invitations"</h2>
                            {move || error.get().map(|message| view! { <div class="mt-2"><ErrorMessage message=message/></div> })}
                            <div class=format!("mt-2 {TABLE_FRAME}")>
                                <table class=TABLE data-testid="invitations-table">
                                    <TableHead columns=&["Email", "Role", "Invited by", "Expires"] action="Actions"/>
                                    <tbody>
                                        {rows.into_iter().map(|row| {
                                            let id = row.id.clone();
                                            view! {
                                                <tr class="border-t border-slate-100" data-testid="invitation-row" data-email=row.email.clone()>
                                                    <td class="px-4 py-3 font-medium">{row.email.clone()}</td>
                                                    <td class="px-4 py-3 capitalize">{row.role.as_str()}</td>
                                                    <td class="px-4 py-3 text-slate-600">{row.invited_by}</td>
                                                    <td class="px-4 py-3 text-slate-600">{timestamp(&row.expires_at)}</td>
                                                    <td class="px-4 py-3 text-right">
                                                        <button type="button" class=SMALL_BUTTON data-testid="revoke-invitation"
                                                            aria-label=format!("Revoke the invitation of {}", row.email)
                                                            on:click=move |_| revoke(id.clone())>"Revoke"</button>
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        </section>
                    }.into_any(),
                    Err(err) => view! { <div class="mt-4"><ErrorMessage message=err.message/></div> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// For operators: a "Reset password" button that shows the account's reset link once.
#[component]
pub fn ResetLinkButton(
    email: String,
    shown: RwSignal<Option<(String, LinkView)>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let email = StoredValue::new(email);
    let on_click = move |_| {
        error.set(None);
        leptos::task::spawn_local(async move {
            match create_reset_link(email.get_value()).await {
                Ok(link) => shown.set(Some((email.get_value(), link))),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <button type="button" class=SMALL_BUTTON data-testid="reset-password"
            aria-label=format!("Reset password of {}", email.get_value()) on:click=on_click>"Reset password"</button>
    }
}

#[cfg(test)]
mod tests {
    use super::check_invite;

    #[test]
    fn the_invite_form_wants_an_email() {
        assert!(check_invite("").is_err());
        assert!(check_invite("nobody").is_err());
        assert!(check_invite("@example.com").is_err());
        assert!(check_invite(" ops@example.com ").is_ok());
    }
}
