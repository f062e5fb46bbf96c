//! `/account`: the signed-in person's own account. Each section is its own
//! component; the password change is here, others add theirs beside it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::layout::{Chrome, Section};
use crate::api::account::change_password;
use crate::api::auth::current_user;
use crate::api::totp::second_factor_status;
use crate::components::buttons::PRIMARY_BUTTON;
use crate::components::feedback::{ErrorMessage, Notice};

/// The shortest password the server accepts (its policy says more).
pub const MIN_PASSWORD_CHARS: usize = 12;

pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";

/// The client-side check of a new password and its repetition; the server
/// applies the whole policy.
pub fn check_new_password(password: &str, repeated: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("The new password needs at least {MIN_PASSWORD_CHARS} characters."));
    }
    if password != repeated {
        return Err("The two new passwords differ.".to_owned());
    }
    Ok(())
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    // Made here, not in the Suspense closure below, which the server runs
    // twice: each run would make (and fetch) a resource of its own.
    let second_factor = Resource::new(|| (), |_| second_factor_status());
    view! {
        <Title text="Your account · Clavis"/>
        <Suspense fallback=|| view! { <main><p class="p-8 text-slate-500">"Loading…"</p></main> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        let email = user.email.clone();
                        view! {
                            <Chrome user=user tenant=None section=Section::Account>
                                <div class="mt-4">
                                    <h1 class="text-2xl font-bold tracking-tight">"Your account"</h1>
                                    <p class="mt-1 text-sm text-slate-600">{format!("Signed in as {email}.")}</p>
                                </div>
                                <PasswordChange/>
                                <super::account_totp::AccountTotp status=second_factor/>
                            </Chrome>
                        }
                        .into_any()
                    }
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(err) => view! { <main class="mx-auto mt-24 max-w-md px-6"><ErrorMessage message=err.message/></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Change the password: the current one, the new one twice. Other sessions end.
#[component]
fn PasswordChange() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeated = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        if let Err(message) = check_new_password(&new.get_untracked(), &repeated.get_untracked()) {
            error.set(Some(message));
            return;
        }
        saving.set(true);
        error.set(None);
        notice.set(None);
        leptos::task::spawn_local(async move {
            match change_password(current.get_untracked(), new.get_untracked()).await {
                Ok(()) => {
                    notice.set(Some("Password changed. Your other sessions have been signed out.".to_owned()));
                    current.set(String::new());
                    new.set(String::new());
                    repeated.set(String::new());
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <section class="mt-6 max-w-lg rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200" aria-labelledby="password-title" data-testid="password-section">
            <h2 id="password-title" class="text-base font-semibold">"Change your password"</h2>
            <Notice notice=notice/>
            <form class="mt-3 space-y-4" on:submit=on_submit novalidate=true>
                <div>
                    <label for="current-password" class="block text-sm font-medium text-slate-700">"Current password"</label>
                    <input id="current-password" type="password" autocomplete="current-password" class=INPUT
                        prop:value=move || current.get() on:input=move |ev| current.set(event_target_value(&ev))/>
                </div>
                <div>
                    <label for="new-password" class="block text-sm font-medium text-slate-700">"New password"</label>
                    <input id="new-password" type="password" autocomplete="new-password" class=INPUT
                        aria-describedby="new-password-hint"
                        prop:value=move || new.get() on:input=move |ev| new.set(event_target_value(&ev))/>
                    <p id="new-password-hint" class="mt-1 text-xs text-slate-500">
                        "12 to 256 characters; not a common password, and not your email's name."
                    </p>
                </div>
                <div>
                    <label for="repeat-password" class="block text-sm font-medium text-slate-700">"New password again"</label>
                    <input id="repeat-password" type="password" autocomplete="new-password" class=INPUT
                        prop:value=move || repeated.get() on:input=move |ev| repeated.set(event_target_value(&ev))/>
                </div>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <button type="submit" class=PRIMARY_BUTTON data-testid="change-password" disabled=move || saving.get()>
                    {move || if saving.get() { "Changing…" } else { "Change password" }}
                </button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::check_new_password;

    #[test]
    fn the_form_checks_length_and_repetition() {
        assert!(check_new_password("short", "short").is_err());
        assert!(check_new_password("long enough password", "long enough passw0rd").is_err());
        assert!(check_new_password("long enough password", "long enough password").is_ok());
    }
}
