//! `/invite/{token}`: the page an invitation link opens. One form for
//! everyone (the inviting admin holds the link too, so the page must not
//! tell whether the email has an account): the password is the existing
//! account's own, or the new account's. The token is read from the path and sent in request bodies
//! only (the page is served with `Referrer-Policy: no-referrer`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::account::{INPUT, check_new_password};
use crate::api::invitations::{InvitationView, accept_invitation, invitation_details};
use crate::components::buttons::PRIMARY_BUTTON;
use crate::components::feedback::ErrorMessage;

/// The frame of the pages one reaches from a link, signed out.
#[component]
pub fn LinkPageFrame(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <main class="flex min-h-screen items-center justify-center px-4">
            <div class="w-full max-w-md">
                <div class="mb-8 text-center">
                    <div class="mx-auto flex h-12 w-12 items-center justify-center rounded-xl bg-indigo-600 text-xl font-bold text-white">"C"</div>
                    <h1 class="mt-4 text-2xl font-bold tracking-tight">{title}</h1>
                </div>
                <div class="space-y-4 rounded-xl bg-white p-6 shadow-sm ring-1 ring-slate-200">{children()}</div>
            </div>
        </main>
    }
}

/// What a link page shows when its link is unknown, spent or expired.
#[component]
pub fn UnusableLink(#[prop(into)] title: String, message: String) -> impl IntoView {
    view! {
        <LinkPageFrame title=title>
            <ErrorMessage message=message/>
            <a href="/login" class="text-sm font-medium text-indigo-600 hover:text-indigo-500">"Go to sign-in"</a>
        </LinkPageFrame>
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let details = Resource::new(token, invitation_details);
    view! {
        <Title text="Invitation · Clavis"/>
        <Suspense fallback=|| view! { <main><p class="p-8 text-slate-500">"Loading…"</p></main> }>
            {move || Suspend::new(async move {
                match details.await {
                    Ok(invitation) => view! { <AcceptForm token=token() invitation=invitation/> }.into_any(),
                    Err(err) => view! { <UnusableLink title="This invitation cannot be used" message=err.message/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AcceptForm(token: String, invitation: InvitationView) -> impl IntoView {
    let token = StoredValue::new(token);
    let password = RwSignal::new(String::new());
    let repeated = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let done = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        if let Err(message) = check_new_password(&password.get_untracked(), &repeated.get_untracked()) {
            error.set(Some(message));
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match accept_invitation(token.get_value(), password.get_untracked()).await {
                Ok(()) => done.set(true),
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let title = format!("Join {}", invitation.tenant_name);
    let role = invitation.role.as_str();
    let intro =
        format!("You are invited as {} of {} with the account {}.", role, invitation.tenant_name, invitation.email);
    view! {
        <LinkPageFrame title=title>
            <p class="text-sm text-slate-600" data-testid="invite-intro">{intro}</p>
            {move || if done.get() {
                view! {
                    <p class="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800" role="status" data-testid="invite-accepted">
                        "You have joined. Sign in to open the tenant."
                    </p>
                    <a href="/login" class=PRIMARY_BUTTON data-testid="invite-sign-in">"Sign in"</a>
                }.into_any()
            } else {
                view! {
                    <form class="space-y-4" on:submit=on_submit novalidate=true>
                        <input type="email" class="sr-only" tabindex="-1" aria-hidden="true" autocomplete="username"
                            value=invitation.email.clone() readonly=true/>
                        <div>
                            <label for="invite-password" class="block text-sm font-medium text-slate-700">
                                "Password"
                            </label>
                            <input id="invite-password" type="password" class=INPUT
                                autocomplete="new-password"
                                aria-describedby="invite-password-hint"
                                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                            <p id="invite-password-hint" class="mt-1 text-xs text-slate-500">
                                "If you already have a Clavis account with this email, enter its password. \
                                 Otherwise choose one: 12 to 256 characters, not a common password, and not your email's name."
                            </p>
                        </div>
                        <div>
                            <label for="invite-repeat" class="block text-sm font-medium text-slate-700">"The password again"</label>
                            <input id="invite-repeat" type="password" autocomplete="new-password" class=INPUT
                                prop:value=move || repeated.get() on:input=move |ev| repeated.set(event_target_value(&ev))/>
                        </div>
                        {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                        <button type="submit" class=format!("w-full {PRIMARY_BUTTON}") data-testid="accept-invite"
                            disabled=move || saving.get()>
                            {move || if saving.get() { "Accepting…" } else { "Accept the invitation" }}
                        </button>
                    </form>
                }.into_any()
            }}
        </LinkPageFrame>
    }
}
