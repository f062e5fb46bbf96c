//! `/login`: email and password, then the code of an authenticator app (or
//! a recovery code) for accounts with a second factor.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::{Login, LoginSecondFactor, LoginStep};
use crate::error::ErrorKind;

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";
const SUBMIT: &str = "w-full rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700 disabled:opacity-60";
const FORM: &str = "space-y-4 rounded-xl bg-white p-6 shadow-sm ring-1 ring-slate-200";

fn error_line(message: String) -> impl IntoView {
    view! { <p class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700" role="alert" data-testid="login-error">{message}</p> }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let second = ServerAction::<LoginSecondFactor>::new();
    // Which step shows: the password, or the code after a right password.
    let wants_code = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(LoginStep::SecondFactor)) = login.value().get() {
            wants_code.set(true);
        }
    });
    Effect::new(move |_| {
        // An expired pending sign-in needs the password again.
        if let Some(Err(err)) = second.value().get()
            && err.kind == ErrorKind::Validation
        {
            wants_code.set(false);
        }
    });
    let password_error = move || login.value().get().and_then(Result::err).map(|err| err.message);
    view! {
        <Title text="Sign in · Clavis"/>
        <main class="flex min-h-screen items-center justify-center px-4">
            <div class="w-full max-w-sm">
                <div class="mb-8 text-center">
                    <div class="mx-auto flex h-12 w-12 items-center justify-center rounded-xl bg-indigo-600 text-xl font-bold text-white">"C"</div>
                    <h1 class="mt-4 text-2xl font-bold tracking-tight">"Sign in to Clavis"</h1>
                    <p class="mt-1 text-sm text-slate-600">"Application identity for your services"</p>
                </div>
                <Show when=move || wants_code.get() fallback=move || view! {
                    <ActionForm action=login attr:class=FORM>
                        <div>
                            <label for="email" class="block text-sm font-medium text-slate-700">"Email"</label>
                            <input id="email" name="email" type="email" autocomplete="username" required class=INPUT/>
                        </div>
                        <div>
                            <label for="password" class="block text-sm font-medium text-slate-700">"Password"</label>
                            <input id="password" name="password" type="password" autocomplete="current-password" required class=INPUT/>
                        </div>
                        {move || password_error().map(error_line)}
                        {move || second.value().get().and_then(Result::err).filter(|e| e.kind == ErrorKind::Validation).map(|e| error_line(e.message))}
                        <button type="submit" disabled=move || login.pending().get() class=SUBMIT>
                            {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                        </button>
                    </ActionForm>
                }>
                    <SecondFactorStep action=second/>
                </Show>
            </div>
        </main>
    }
}

/// The second step: six digits from the authenticator app, or a recovery code.
#[component]
fn SecondFactorStep(action: ServerAction<LoginSecondFactor>) -> impl IntoView {
    let recovery = RwSignal::new(false);
    let error = move || action.value().get().and_then(Result::err).map(|err| err.message);
    view! {
        <ActionForm action=action attr:class=FORM attr:data-testid="second-factor-form">
            <h2 class="text-lg font-semibold">"Two-factor sign-in"</h2>
            <Show when=move || recovery.get() fallback=|| view! {
                <div>
                    <label for="code" class="block text-sm font-medium text-slate-700">"Code from your authenticator app"</label>
                    <input id="code" name="code" type="text" autocomplete="one-time-code" inputmode="numeric"
                        pattern="[0-9]{6}" maxlength="6" required autofocus class=INPUT data-testid="totp-code"/>
                </div>
            }>
                <div>
                    <label for="code" class="block text-sm font-medium text-slate-700">"Recovery code"</label>
                    <input id="code" name="code" type="text" autocomplete="off" spellcheck="false"
                        placeholder="xxxx-xxxx-xxxx" required autofocus class=INPUT data-testid="recovery-code"/>
                </div>
            </Show>
            {move || error().map(error_line)}
            <button type="submit" disabled=move || action.pending().get() class=SUBMIT data-testid="verify-code">
                {move || if action.pending().get() { "Checking…" } else { "Verify" }}
            </button>
            <button type="button" class="w-full text-sm font-medium text-indigo-600 hover:text-indigo-500"
                data-testid="toggle-recovery" on:click=move |_| recovery.update(|r| *r = !*r)>
                {move || if recovery.get() { "Use your authenticator app" } else { "Use a recovery code" }}
            </button>
        </ActionForm>
    }
}
