//! Messages in the page: errors a person can read, and confirmations.

use leptos::prelude::*;

use crate::error::AppError;

/// An error shown in place, announced to screen readers.
#[component]
pub fn ErrorMessage(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <p class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 ring-1 ring-red-200" role="alert" data-testid="error">
            {message}
        </p>
    }
}

/// An error from a server function, or nothing.
pub fn error_view(error: Option<AppError>) -> impl IntoView {
    error.map(|err| view! { <ErrorMessage message=err.message/> })
}

/// A confirmation of what just happened ("Deleted billing-api").
#[component]
pub fn Notice(notice: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <div role="status" aria-live="polite" data-testid="notice">
            {move || notice.get().map(|text| view! {
                <p class="mt-4 flex items-center justify-between rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 ring-1 ring-emerald-200">
                    <span>{text}</span>
                    <button type="button" class="text-emerald-700 hover:text-emerald-900" aria-label="Dismiss"
                        on:click=move |_| notice.set(None)>"×"</button>
                </p>
            })}
        </div>
    }
}
