//! Copying to the clipboard, with a short "Copied" confirmation.

use leptos::prelude::*;

use super::buttons::SMALL_BUTTON;

/// Writes `text` to the clipboard; `Err` is a message for the page.
pub async fn copy_to_clipboard(text: String) -> Result<(), String> {
    #[cfg(feature = "hydrate")]
    {
        let clipboard = window().navigator().clipboard();
        wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text))
            .await
            .map(|_| ())
            .map_err(|_| "The browser did not allow copying. Select the text and copy it by hand.".to_owned())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        Err("Copying needs the page to finish loading.".to_owned())
    }
}

/// How long "Copied" stays on a button.
const CONFIRM_MS: u64 = 2000;

/// What a copy button says right now.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CopyState {
    Idle,
    Copied,
    Failed,
}

/// Shows "Copied" (or "Copy failed") on a button for a moment.
pub fn flash(state: RwSignal<CopyState>, outcome: Result<(), String>) {
    state.set(if outcome.is_ok() { CopyState::Copied } else { CopyState::Failed });
    set_timeout(move || state.set(CopyState::Idle), std::time::Duration::from_millis(CONFIRM_MS));
}

/// A button that copies the text `text()` returns.
#[component]
pub fn CopyButton<F>(
    /// Read by screen readers: "Copy client ID".
    #[prop(into)]
    label: String,
    text: F,
    #[prop(optional, into)] test_id: String,
) -> impl IntoView
where
    F: Fn() -> String + Send + Sync + 'static,
{
    let state = RwSignal::new(CopyState::Idle);
    let on_click = move |_| {
        let value = text();
        leptos::task::spawn_local(async move { flash(state, copy_to_clipboard(value).await) });
    };
    view! {
        <button type="button" class=SMALL_BUTTON aria-label=label data-testid=test_id on:click=on_click>
            {move || match state.get() {
                CopyState::Idle => "Copy",
                CopyState::Copied => "Copied",
                CopyState::Failed => "Copy failed",
            }}
        </button>
    }
}
