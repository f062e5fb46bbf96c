//! `/login`: email and password.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || login.value().get().and_then(Result::err).map(|err| err.message);
    view! {
        <Title text="Sign in · Clavis"/>
        <main class="flex min-h-screen items-center justify-center px-4">
            <div class="w-full max-w-sm">
                <div class="mb-8 text-center">
                    <div class="mx-auto flex h-12 w-12 items-center justify-center rounded-xl bg-indigo-600 text-xl font-bold text-white">"C"</div>
                    <h1 class="mt-4 text-2xl font-bold tracking-tight">"Sign in to Clavis"</h1>
                    <p class="mt-1 text-sm text-slate-600">"Application identity for your services"</p>
                </div>
                <ActionForm action=login attr:class="space-y-4 rounded-xl bg-white p-6 shadow-sm ring-1 ring-slate-200">
                    <div>
                        <label for="email" class="block text-sm font-medium text-slate-700">"Email"</label>
                        <input id="email" name="email" type="email" autocomplete="username" required
                            class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500"/>
                    </div>
                    <div>
                        <label for="password" class="block text-sm font-medium text-slate-700">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required
                            class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500"/>
                    </div>
                    {move || error().map(|message| view! {
                        <p class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700" role="alert" data-testid="login-error">{message}</p>
                    })}
                    <button type="submit" disabled=move || login.pending().get()
                        class="w-full rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 disabled:opacity-60">
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
