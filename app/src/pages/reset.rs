//! `/reset/{token}`: the page an operator's reset link opens; the person
//! sets a new password and every session of the account ends. The token is
//! read from the path and sent in request bodies only.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::account::{INPUT, check_new_password};
use super::invite::{LinkPageFrame, UnusableLink};
use crate::api::account::{reset_link_email, reset_password};
use crate::components::buttons::PRIMARY_BUTTON;
use crate::components::feedback::ErrorMessage;

#[component]
pub fn ResetPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let email = Resource::new(token, reset_link_email);
    view! {
        <Title text="Reset your password · Clavis"/>
        <Suspense fallback=|| view! { <main><p class="p-8 text-slate-500">"Loading…"</p></main> }>
            {move || Suspend::new(async move {
                match email.await {
                    Ok(email) => view! { <ResetForm token=token() email=email/> }.into_any(),
                    Err(err) => view! { <UnusableLink title="This reset link cannot be used" message=err.message/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ResetForm(token: String, email: String) -> impl IntoView {
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
            match reset_password(token.get_value(), password.get_untracked()).await {
                Ok(()) => done.set(true),
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <LinkPageFrame title="Reset your password">
            <p class="text-sm text-slate-600">{format!("A new password for {email}.")}</p>
            {move || if done.get() {
                view! {
                    <p class="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800" role="status" data-testid="reset-done">
                        "Your password is set, and every session of the account was signed out."
                    </p>
                    <a href="/login" class=PRIMARY_BUTTON>"Sign in"</a>
                }.into_any()
            } else {
                view! {
                    <form class="space-y-4" on:submit=on_submit novalidate=true>
                        <input type="email" class="sr-only" tabindex="-1" aria-hidden="true" autocomplete="username"
                            value=email.clone() readonly=true/>
                        <div>
                            <label for="reset-password" class="block text-sm font-medium text-slate-700">"New password"</label>
                            <input id="reset-password" type="password" autocomplete="new-password" class=INPUT
                                aria-describedby="reset-password-hint"
                                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                            <p id="reset-password-hint" class="mt-1 text-xs text-slate-500">
                                "12 to 256 characters; not a common password, and not your email's name."
                            </p>
                        </div>
                        <div>
                            <label for="reset-repeat" class="block text-sm font-medium text-slate-700">"New password again"</label>
                            <input id="reset-repeat" type="password" autocomplete="new-password" class=INPUT
                                prop:value=move || repeated.get() on:input=move |ev| repeated.set(event_target_value(&ev))/>
                        </div>
                        {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                        <button type="submit" class=format!("w-full {PRIMARY_BUTTON}") data-testid="reset-submit"
                            disabled=move || saving.get()>
                            {move || if saving.get() { "Saving…" } else { "Set the new password" }}
                        </button>
                    </form>
                }.into_any()
            }}
        </LinkPageFrame>
    }
}
