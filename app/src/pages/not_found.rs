//! The page for a URL that leads nowhere (or to a tenant the user cannot see).

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <main class="mx-auto mt-24 max-w-md text-center" data-testid="not-found">
            <p class="text-sm font-semibold text-indigo-600">"404"</p>
            <h1 class="mt-2 text-2xl font-bold">"Page not found"</h1>
            <p class="mt-2 text-slate-600">"This page does not exist, or you do not have access to it."</p>
            <a href="/" class="mt-6 inline-block rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700">
                "Go to your dashboard"
            </a>
        </main>
    }
}
