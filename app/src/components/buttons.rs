//! Button styles, and the Cancel / confirm row that ends every dialog form.

use leptos::prelude::*;

pub const PRIMARY_BUTTON: &str = "rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700 disabled:opacity-60";
pub const SECONDARY_BUTTON: &str = "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50 disabled:opacity-60";
pub const DANGER_BUTTON: &str =
    "rounded-md bg-red-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-red-700 disabled:opacity-50";
/// Small buttons beside a value: Copy, Reveal, Refresh.
pub const SMALL_BUTTON: &str = "rounded-md border border-slate-300 bg-white px-2.5 py-1 text-xs font-medium text-slate-700 hover:bg-slate-50 disabled:opacity-50";

/// "Cancel" and the submit button of a dialog's form. The submit button
/// shows `busy_label` and is disabled while `busy`, so a second click
/// cannot send the request twice; `blocked` disables it for other reasons
/// (a confirmation not yet typed).
#[component]
pub fn DialogActions(
    on_cancel: Callback<()>,
    #[prop(into)] label: String,
    #[prop(into)] busy_label: String,
    #[prop(into)] busy: Signal<bool>,
    #[prop(optional, into)] blocked: Option<Signal<bool>>,
    /// A red button, for acts that destroy something.
    #[prop(optional)]
    danger: bool,
    #[prop(optional)] test_id: Option<&'static str>,
) -> impl IntoView {
    let class = if danger { DANGER_BUTTON } else { PRIMARY_BUTTON };
    let disabled = move || busy.get() || blocked.is_some_and(|blocked| blocked.get());
    view! {
        <div class="flex justify-end gap-3">
            <button type="button" class=SECONDARY_BUTTON on:click=move |_| on_cancel.run(())>"Cancel"</button>
            <button type="submit" class=class data-testid=test_id disabled=disabled>
                {move || if busy.get() { busy_label.clone() } else { label.clone() }}
            </button>
        </div>
    }
}
