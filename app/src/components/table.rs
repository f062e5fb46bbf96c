//! The frame and header row every data table of the dashboard shares.

use leptos::prelude::*;

/// The card a data table sits in (scrolls sideways on narrow screens).
pub const TABLE_FRAME: &str = "overflow-x-auto rounded-xl bg-white shadow-sm ring-1 ring-slate-200";
pub const TABLE: &str = "min-w-full text-left text-sm";

/// A table's header row: `columns` as visible headings, then, if given,
/// `action` as the heading of a column of buttons or links, which only
/// screen readers announce.
#[component]
pub fn TableHead(columns: &'static [&'static str], #[prop(optional)] action: Option<&'static str>) -> impl IntoView {
    view! {
        <thead class="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
            <tr>
                {columns.iter().map(|label| view! { <th scope="col" class="px-4 py-3 font-medium">{*label}</th> }).collect_view()}
                {action.map(|label| view! { <th scope="col" class="px-4 py-3 font-medium"><span class="sr-only">{label}</span></th> })}
            </tr>
        </thead>
    }
}
