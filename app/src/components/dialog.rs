//! An accessible modal dialog: focus moves into it when it opens, Tab and
//! Shift+Tab cycle inside it, Esc closes it, and focus returns to whatever
//! opened it. Dialogs open only in the browser (after a click), so the
//! keyboard handling exists only in the hydrated build.

use leptos::html;
use leptos::prelude::*;

/// What can take focus inside a dialog.
#[cfg(feature = "hydrate")]
const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), \
     textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

#[cfg(feature = "hydrate")]
fn focusable_in(panel: &web_sys::HtmlDivElement) -> Vec<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    let Ok(nodes) = panel.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// Keeps Tab inside the dialog: from the last element it wraps to the
/// first, and Shift+Tab from the first wraps to the last.
#[cfg(feature = "hydrate")]
fn trap_tab(panel: &web_sys::HtmlDivElement, ev: &web_sys::KeyboardEvent) {
    let focusable = focusable_in(panel);
    let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
        ev.prevent_default();
        return;
    };
    let active = document().active_element();
    let inside = active.as_ref().is_some_and(|el| panel.contains(Some(el)));
    let at = |target: &web_sys::HtmlElement| active.as_ref().is_some_and(|el| target.is_same_node(Some(el)));
    if ev.shift_key() && (!inside || at(first)) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && (!inside || at(last)) {
        ev.prevent_default();
        let _ = first.focus();
    }
}

/// A modal dialog. `id` must be unique on the page; the title labels it.
#[component]
pub fn Modal(
    #[prop(into)] id: String,
    #[prop(into)] title: String,
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let panel = NodeRef::<html::Div>::new();
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();

    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let opener = document().active_element().and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        let opener = StoredValue::new_local(opener);
        // Focus the first field (or button) once the dialog is in the page.
        Effect::new(move |_| {
            if let Some(panel) = panel.get()
                && let Some(first) = focusable_in(&panel).first()
            {
                let _ = first.focus();
            }
        });
        // Listen on the window, not the dialog: focus can be on the body
        // (a clicked button that became disabled drops it), and Esc and Tab
        // must work from there too.
        let keys = window_event_listener(leptos::ev::keydown, move |ev| match ev.key().as_str() {
            "Escape" => {
                ev.prevent_default();
                on_close.run(());
            }
            "Tab" => {
                if let Some(panel) = panel.get_untracked() {
                    trap_tab(&panel, &ev);
                }
            }
            _ => {}
        });
        on_cleanup(move || {
            keys.remove();
            if let Some(Some(opener)) = opener.try_get_value() {
                let _ = opener.focus();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = on_close;

    view! {
        <div class="fixed inset-0 z-50 flex items-start justify-center overflow-y-auto bg-slate-900/40 p-4 pt-24">
            <div node_ref=panel id=id role="dialog" aria-modal="true" aria-labelledby=labelled_by
                class="w-full max-w-lg rounded-xl bg-white p-6 shadow-xl ring-1 ring-slate-200">
                <h2 id=title_id class="text-lg font-semibold text-slate-900">{title}</h2>
                {children()}
            </div>
        </div>
    }
}
