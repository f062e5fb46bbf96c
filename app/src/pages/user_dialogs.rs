//! The Users page's dialogs: add a user (with the tenant's password policy
//! and a generated password shown once), reset a password (which ends the
//! user's refresh tokens), choose a user's roles, and delete a user after a
//! confirmation naming their email.

use leptos::prelude::*;

use super::account::INPUT;
use super::users::UsersState;
use crate::api::directory::{
    PolicyView, SecretText, UserRow, add_directory_user, delete_directory_user, directory_password_policy,
    directory_user_roles, reset_directory_password, set_directory_user_roles,
};
use crate::api::roles::{RoleRow, list_roles};
use crate::components::buttons::{DialogActions, SMALL_BUTTON};
use crate::components::copy::CopyButton;
use crate::components::dialog::Modal;
use crate::components::feedback::ErrorMessage;
use crate::components::name_field::{MAX_NAME_CHARS, NameField, check_name};

/// 64 symbols: a random byte's low six bits pick one without bias.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// A generated password's length when the policy asks for less: 144 bits.
pub const GENERATED_CHARS: usize = 24;

/// The password that `bytes` (random) spell, one character per byte.
pub fn password_from(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| char::from(ALPHABET[usize::from(byte & 63)])).collect()
}

/// How long a generated password is under a policy asking for `min_chars`.
pub fn generated_length(min_chars: u32) -> usize {
    GENERATED_CHARS.max(usize::try_from(min_chars).unwrap_or(GENERATED_CHARS))
}

/// A strong random password from the browser's cryptographic generator.
fn random_password(min_chars: u32) -> Result<String, String> {
    let mut bytes = vec![0_u8; generated_length(min_chars)];
    #[cfg(feature = "hydrate")]
    {
        window()
            .crypto()
            .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes))
            .map_err(|_| "This browser cannot make a random password. Type one instead.".to_owned())?;
        Ok(password_from(&bytes))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        bytes.clear();
        Err("Generating a password needs the page to finish loading.".to_owned())
    }
}

/// The client-side check of a new password against the policy (when it is
/// known); the server applies the whole policy again.
pub fn check_password(password: &str, policy: Option<PolicyView>) -> Result<(), String> {
    let count = password.chars().count();
    let (min, max) = policy.map_or((1, u32::MAX), |policy| (policy.min_chars.max(1), policy.max_chars));
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    if count < min {
        return Err(format!("The password needs at least {min} characters; this one has {count}."));
    }
    if count > max {
        return Err(format!("The password can be at most {max} characters; this one has {count}."));
    }
    Ok(())
}

/// The client-side check of an email: something on both sides of an `@`.
pub fn check_email(email: &str) -> Result<(), String> {
    match email.trim().split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(()),
        _ => Err("Enter the user's email address.".to_owned()),
    }
}

/// A person's name may be empty; otherwise it follows the name rules.
fn check_person_name(name: &str) -> Result<String, String> {
    if name.trim().is_empty() { Ok(String::new()) } else { check_name(name, MAX_NAME_CHARS) }
}

/// What the policy asks, in words.
pub fn policy_text(policy: PolicyView) -> String {
    let common = if policy.reject_common { " The most common passwords are refused." } else { "" };
    format!("{} to {} characters.{common}", policy.min_chars, policy.max_chars)
}

/// A new-password field with the tenant's policy under it and a "Generate"
/// button that fills in a random password, shows it (once: it is nowhere
/// else), and offers to copy it.
#[component]
fn NewPasswordField(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    error: RwSignal<Option<String>>,
    policy: RwSignal<Option<PolicyView>>,
    tenant: String,
) -> impl IntoView {
    let generated = RwSignal::new(false);
    let policy_error = RwSignal::new(None::<String>);
    // Dialogs open only in the browser, after a click.
    Effect::new(move |_| {
        let tenant = tenant.clone();
        leptos::task::spawn_local(async move {
            match directory_password_policy(tenant).await {
                Ok(found) => policy.set(Some(found)),
                Err(err) => policy_error.set(Some(err.message)),
            }
        });
    });
    let generate = move |_| match random_password(policy.get_untracked().map_or(0, |p| p.min_chars)) {
        Ok(password) => {
            value.set(password);
            generated.set(true);
            error.set(None);
        }
        Err(message) => error.set(Some(message)),
    };
    let policy_id = format!("{id}-policy");
    let error_id = format!("{id}-error");
    let described_by = format!("{policy_id} {error_id}");
    view! {
        <div>
            <div class="flex items-baseline justify-between">
                <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
                <button type="button" class=SMALL_BUTTON data-testid="generate-password" on:click=generate>"Generate"</button>
            </div>
            <input id=id type=move || if generated.get() { "text" } else { "password" } autocomplete="new-password"
                spellcheck="false" class=INPUT aria-describedby=described_by data-testid="new-password"
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    generated.set(false);
                    error.set(None);
                }/>
            <p id=policy_id class="mt-1 text-xs text-slate-500" data-testid="password-policy">
                {move || match (policy.get(), policy_error.get()) {
                    (Some(found), _) => policy_text(found),
                    (None, Some(message)) => message,
                    (None, None) => "Loading the password policy…".to_owned(),
                }}
            </p>
            {move || generated.get().then(|| view! {
                <div class="mt-2 flex items-center gap-2 rounded-md bg-amber-50 p-2 text-xs text-amber-900 ring-1 ring-amber-200" role="status">
                    <span class="flex-1">"A generated password: copy it now and hand it over privately. Clavis shows it only here."</span>
                    <CopyButton label="Copy the password" text=move || value.get_untracked() test_id="copy-password"/>
                </div>
            })}
            <p id=error_id class="mt-1 min-h-5 text-sm text-red-700" role="alert" data-testid="password-error">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A labelled email input with its error slot.
#[component]
fn EmailField(value: RwSignal<String>, error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <div>
            <label for="new-user-email" class="block text-sm font-medium text-slate-700">"Email"</label>
            <input id="new-user-email" type="email" autocomplete="off" spellcheck="false" class=INPUT
                aria-describedby="new-user-email-error"
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    error.set(None);
                }/>
            <p id="new-user-email-error" class="mt-1 min-h-5 text-sm text-red-700" role="alert" data-testid="email-error">
                {move || error.get()}
            </p>
        </div>
    }
}

#[component]
pub fn AddUserDialog(state: UsersState) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let email_error = RwSignal::new(None::<String>);
    let given = RwSignal::new(String::new());
    let given_error = RwSignal::new(None::<String>);
    let family = RwSignal::new(String::new());
    let family_error = RwSignal::new(None::<String>);
    let password = RwSignal::new(String::new());
    let password_error = RwSignal::new(None::<String>);
    let policy = RwSignal::new(None::<PolicyView>);
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| state.dialog.set(None));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let email_ok = check_email(&email.get_untracked()).map_err(|message| email_error.set(Some(message)));
        let given_ok = check_person_name(&given.get_untracked()).map_err(|message| given_error.set(Some(message)));
        let family_ok = check_person_name(&family.get_untracked()).map_err(|message| family_error.set(Some(message)));
        let password_ok = check_password(&password.get_untracked(), policy.get_untracked())
            .map_err(|message| password_error.set(Some(message)));
        let (Ok(()), Ok(given_name), Ok(family_name), Ok(())) = (email_ok, given_ok, family_ok, password_ok) else {
            return;
        };
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let secret = SecretText(password.get_untracked());
            match add_directory_user(state.tenant(), email.get_untracked(), given_name, family_name, secret).await {
                Ok(user) => {
                    state.notice.set(Some(format!("Added {}. They can sign in now.", user.email)));
                    state.dialog.set(None);
                    state.refresh();
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <Modal id="add-user" title="Add user" on_close=close>
            <form class="mt-4 space-y-3" on:submit=on_submit novalidate=true>
                <EmailField value=email error=email_error/>
                <div class="grid gap-3 sm:grid-cols-2">
                    <NameField id="new-user-given-name" label="Given name" value=given error=given_error/>
                    <NameField id="new-user-family-name" label="Family name" value=family error=family_error/>
                </div>
                <NewPasswordField id="new-user-password" label="Password" value=password error=password_error
                    policy=policy tenant=state.tenant()/>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Add user" busy_label="Adding…" busy=saving test_id="save-user"/>
            </form>
        </Modal>
    }
}

#[component]
pub fn ResetPasswordDialog(state: UsersState, user: UserRow) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let password_error = RwSignal::new(None::<String>);
    let policy = RwSignal::new(None::<PolicyView>);
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| state.dialog.set(None));
    let email = StoredValue::new(user.email.clone());
    let user_id = StoredValue::new(user.id);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        if let Err(message) = check_password(&password.get_untracked(), policy.get_untracked()) {
            password_error.set(Some(message));
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let secret = SecretText(password.get_untracked());
            match reset_directory_password(state.tenant(), user_id.get_value(), secret).await {
                Ok(_) => {
                    state.notice.set(Some(format!(
                        "Set a new password for {}. They were signed out of every application.",
                        email.get_value()
                    )));
                    state.dialog.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <Modal id="reset-user-password" title=format!("Reset the password of {}?", email.get_value()) on_close=close>
            <form class="mt-4 space-y-3" on:submit=on_submit novalidate=true>
                <p class="text-sm text-slate-600">
                    "This signs them out of every application: their refresh tokens stop working at once, and they sign in again with the new password. Access tokens already issued run until they expire."
                </p>
                <NewPasswordField id="reset-user-password-value" label="New password" value=password error=password_error
                    policy=policy tenant=state.tenant()/>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Set password" busy_label="Saving…" busy=saving
                    test_id="confirm-reset-password"/>
            </form>
        </Modal>
    }
}

/// The tenant's roles and the ones the user holds, fetched together.
async fn roles_and_held(tenant: String, profile_id: String) -> Result<(Vec<RoleRow>, Vec<String>), String> {
    let roles = list_roles(tenant.clone()).await.map_err(|err| err.message)?;
    let held = directory_user_roles(tenant, profile_id).await.map_err(|err| err.message)?;
    Ok((roles, held.into_iter().map(|role| role.id).collect()))
}

#[component]
pub fn UserRolesDialog(state: UsersState, user: UserRow) -> impl IntoView {
    let roles = RwSignal::new(None::<Vec<RoleRow>>);
    let chosen = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| state.dialog.set(None));
    let email = StoredValue::new(user.email.clone());
    let profile_id = StoredValue::new(user.profile_id);
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match roles_and_held(state.tenant(), profile_id.get_value()).await {
                Ok((all, held)) => {
                    chosen.set(held);
                    roles.set(Some(all));
                }
                Err(message) => error.set(Some(message)),
            }
        });
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() || roles.with_untracked(Option::is_none) {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match set_directory_user_roles(state.tenant(), profile_id.get_value(), chosen.get_untracked()).await {
                Ok(held) => {
                    let names: Vec<String> = held.into_iter().map(|role| role.name).collect();
                    state.notice.set(Some(if names.is_empty() {
                        format!("{} holds no roles now.", email.get_value())
                    } else {
                        format!("{} holds {} now.", email.get_value(), names.join(", "))
                    }));
                    state.dialog.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let checkbox = move |role: RoleRow| {
        let id = format!("user-role-{}", role.id);
        let label_for = id.clone();
        let role_id = StoredValue::new(role.id.clone());
        view! {
            <label for=label_for class="flex items-start gap-2 rounded-md px-2 py-1.5 hover:bg-slate-50">
                <input id=id type="checkbox" class="mt-0.5" data-testid="user-role-checkbox"
                    prop:checked=move || chosen.with(|ids| ids.contains(&role_id.get_value()))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        chosen.update(|ids| {
                            ids.retain(|id| id != &role_id.get_value());
                            if on {
                                ids.push(role_id.get_value());
                            }
                        });
                    }/>
                <span>
                    <span class="block text-sm font-medium text-slate-800">{role.name.clone()}</span>
                    {(!role.description.is_empty()).then(|| view! {
                        <span class="block text-xs text-slate-500">{role.description.clone()}</span>
                    })}
                </span>
            </label>
        }
    };
    let choices = move || {
        match roles.get() {
        None => view! { <p class="text-sm text-slate-500">"Loading the roles…"</p> }.into_any(),
        Some(all) if all.is_empty() => view! {
            <p class="text-sm text-slate-600" data-testid="no-roles">
                "This tenant has no roles yet. Create one on the "
                <a href=format!("/t/{}/roles", state.tenant()) class="font-medium text-indigo-600 hover:text-indigo-500">"Roles page"</a>
                " first."
            </p>
        }
        .into_any(),
        Some(all) => view! {
            <fieldset>
                <legend class="text-sm font-medium text-slate-700">"Roles"</legend>
                <div class="mt-1 max-h-72 space-y-1 overflow-y-auto">{all.into_iter().map(checkbox).collect_view()}</div>
            </fieldset>
        }
        .into_any(),
    }
    };
    view! {
        <Modal id="user-roles" title=format!("Roles of {}", email.get_value()) on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">
                    "The user's tokens carry the scopes their roles grant on the application they sign in to."
                </p>
                {choices}
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Save roles" busy_label="Saving…" busy=saving
                    blocked=Signal::derive(move || roles.with(Option::is_none)) test_id="save-user-roles"/>
            </form>
        </Modal>
    }
}

#[component]
pub fn DeleteUserDialog(state: UsersState, user: UserRow) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| state.dialog.set(None));
    let email = StoredValue::new(user.email.clone());
    let user_id = StoredValue::new(user.id);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match delete_directory_user(state.tenant(), user_id.get_value()).await {
                Ok(()) => {
                    state.notice.set(Some(format!("Deleted {}.", email.get_value())));
                    state.dialog.set(None);
                    state.refresh();
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <Modal id="delete-user" title=format!("Delete {}?", email.get_value()) on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                <p class="text-sm text-slate-600">
                    "The user, their roles and their refresh tokens are deleted at once: no application can sign them in any more. This cannot be undone."
                </p>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Delete user" busy_label="Deleting…" busy=saving danger=true
                    test_id="confirm-delete-user"/>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: PolicyView = PolicyView { min_chars: 10, max_chars: 256, reject_common: true };

    #[test]
    fn generated_passwords_use_every_symbol_and_meet_the_policy() {
        let bytes: Vec<u8> = (0..=255).collect();
        let password = password_from(&bytes);
        assert_eq!(password.chars().count(), 256);
        // Each of the 64 symbols appears four times: no symbol is favoured.
        for symbol in ALPHABET.iter() {
            assert_eq!(password.chars().filter(|c| *c == char::from(*symbol)).count(), 4);
        }
        assert_eq!(generated_length(8), GENERATED_CHARS);
        assert_eq!(generated_length(40), 40);
        assert!(check_password(&password_from(&[7; GENERATED_CHARS]), Some(POLICY)).is_ok());
    }

    #[test]
    fn passwords_are_checked_against_the_policy_in_characters() {
        assert_eq!(
            check_password("ééééé", Some(POLICY)),
            Err("The password needs at least 10 characters; this one has 5.".to_owned())
        );
        assert!(check_password(&"é".repeat(10), Some(POLICY)).is_ok());
        assert!(check_password(&"x".repeat(257), Some(POLICY)).is_err());
        assert!(check_password("", None).is_err());
        assert!(check_password("x", None).is_ok());
    }

    #[test]
    fn emails_and_names_are_checked_before_sending() {
        assert!(check_email(" ada@example.com ").is_ok());
        assert!(check_email("ada").is_err());
        assert!(check_email("@example.com").is_err());
        assert_eq!(check_person_name("   "), Ok(String::new()));
        assert_eq!(check_person_name(" Ada "), Ok("Ada".to_owned()));
        assert!(check_person_name(&"x".repeat(51)).is_err());
    }

    #[test]
    fn the_policy_reads_as_a_sentence() {
        assert_eq!(policy_text(POLICY), "10 to 256 characters. The most common passwords are refused.");
        assert_eq!(policy_text(PolicyView { reject_common: false, ..POLICY }), "10 to 256 characters.");
    }
}
