//! The name field with its live "n/50" counter. Names are counted in
//! characters, as the server counts them, so "é" or an emoji is one.

use std::future::Future;

use leptos::prelude::*;

use crate::error::{AppError, ErrorKind};

/// The longest application name, in characters: the rule the server enforces.
pub use clavis_types::MAX_APPLICATION_NAME_CHARS as MAX_NAME_CHARS;

/// How many characters the server will count: it trims first.
pub fn name_length(name: &str) -> usize {
    name.trim().chars().count()
}

/// The client-side check, the same rule the server enforces; `Err` is the
/// message shown next to the field.
pub fn check_name(name: &str, max_chars: usize) -> Result<String, String> {
    use clavis_types::NameError;
    clavis_types::validate_display_name(name, max_chars).map_err(|err| match err {
        NameError::Empty => "Enter a name.".to_owned(),
        NameError::TooLong { max, count } => format!("Names can be at most {max} characters; this one has {count}."),
        NameError::ControlCharacter => "Names cannot contain control characters.".to_owned(),
        NameError::InvisibleCharacter => "Names cannot contain invisible or direction-changing characters.".to_owned(),
    })
}

/// A form that saves one name: the value, the refusal shown next to the
/// field, any other error, and whether a request is in flight.
#[derive(Clone, Copy)]
pub struct NameForm {
    pub name: RwSignal<String>,
    pub name_error: RwSignal<Option<String>>,
    pub error: RwSignal<Option<String>>,
    pub saving: RwSignal<bool>,
}

impl NameForm {
    pub fn new(initial: String) -> Self {
        Self {
            name: RwSignal::new(initial),
            name_error: RwSignal::new(None),
            error: RwSignal::new(None),
            saving: RwSignal::new(false),
        }
    }

    /// Checks the name as the server will, then runs `save` with the
    /// trimmed name and hands its answer to `saved`. A refusal of the name
    /// (the client's check or the server's) goes next to the field; any
    /// other failure to the form. A second submit while saving is ignored.
    pub fn submit<T, Fut>(
        self,
        max_chars: usize,
        save: impl FnOnce(String) -> Fut + 'static,
        saved: impl FnOnce(T) + 'static,
    ) where
        T: 'static,
        Fut: Future<Output = Result<T, AppError>> + 'static,
    {
        if self.saving.get_untracked() {
            return;
        }
        let checked = match check_name(&self.name.get_untracked(), max_chars) {
            Ok(checked) => checked,
            Err(message) => {
                self.name_error.set(Some(message));
                return;
            }
        };
        self.saving.set(true);
        self.error.set(None);
        leptos::task::spawn_local(async move {
            match save(checked).await {
                Ok(answer) => saved(answer),
                Err(err) if err.kind == ErrorKind::Validation => self.name_error.set(Some(err.message)),
                Err(err) => self.error.set(Some(err.message)),
            }
            self.saving.set(false);
        });
    }
}

/// A labelled text input with a character counter and an error slot.
#[component]
pub fn NameField(
    /// The input's id; the counter and error derive theirs from it.
    #[prop(into)]
    id: String,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    error: RwSignal<Option<String>>,
    #[prop(default = MAX_NAME_CHARS)] max_chars: usize,
) -> impl IntoView {
    let counter_id = format!("{id}-counter");
    let error_id = format!("{id}-error");
    let count = move || name_length(&value.get());
    let over = move || count() > max_chars;
    let described_by = format!("{counter_id} {error_id}");
    view! {
        <div>
            <div class="flex items-baseline justify-between">
                <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
                <span id=counter_id data-testid="name-counter" aria-live="polite"
                    class=move || if over() { "text-xs font-semibold text-red-700" } else { "text-xs text-slate-500" }>
                    {move || format!("{}/{max_chars}", count())}
                </span>
            </div>
            <input id=id type="text" autocomplete="off" spellcheck="false"
                aria-describedby=described_by
                aria-invalid=move || if error.get().is_some() || over() { "true" } else { "false" }
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    error.set(None);
                }
                class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500 aria-[invalid=true]:border-red-500"/>
            <p id=error_id data-testid="name-error" class="mt-1 min-h-5 text-sm text-red-700" role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(name_length("é"), 1);
        assert_eq!(name_length("🦀🦀"), 2);
        assert_eq!(name_length("  billing  "), 7);
        assert!(check_name(&"é".repeat(50), 50).is_ok());
        assert!(check_name(&"🦀".repeat(50), 50).is_ok());
        assert_eq!(
            check_name(&"🦀".repeat(51), 50),
            Err("Names can be at most 50 characters; this one has 51.".to_owned())
        );
    }

    #[test]
    fn refuses_empty_and_control_characters() {
        assert_eq!(check_name("   ", 50), Err("Enter a name.".to_owned()));
        assert!(check_name("a\u{7}b", 50).is_err());
        assert_eq!(check_name("  api  ", 50), Ok("api".to_owned()));
    }
}
