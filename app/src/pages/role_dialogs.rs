//! The Roles page's dialogs: create or edit a role (name, description, and
//! per protected application the scopes it grants, as checkboxes), and
//! delete one after naming the applications that hold it.

use leptos::prelude::*;

use super::roles::{Protected, RolesState};
use crate::api::applications::get_application;
use crate::api::roles::{RoleGrant, RoleRow, create_role, delete_role, role_holders, update_role};
use crate::components::buttons::{DialogActions, SMALL_BUTTON};
use crate::components::dialog::Modal;
use crate::components::feedback::ErrorMessage;
use crate::components::name_field::{MAX_NAME_CHARS, NameField, NameForm};
use crate::error::AppError;

use clavis_types::MAX_ROLE_DESCRIPTION_CHARS;

/// The client-side check of a description, the rule the server applies.
pub fn check_description(description: &str) -> Result<String, String> {
    let description = description.trim();
    let count = description.chars().count();
    if count > MAX_ROLE_DESCRIPTION_CHARS {
        return Err(format!(
            "Descriptions can be at most {MAX_ROLE_DESCRIPTION_CHARS} characters; this one has {count}."
        ));
    }
    Ok(description.to_owned())
}

/// `grants` with `scope` on `application_id` granted (`on`) or not.
pub fn toggle_grant(grants: &mut Vec<RoleGrant>, application_id: &str, scope: &str, on: bool) {
    match grants.iter_mut().find(|grant| grant.application_id == application_id) {
        Some(grant) => {
            grant.scopes.retain(|granted| granted != scope);
            if on {
                grant.scopes.push(scope.to_owned());
            }
        }
        None if on => {
            grants.push(RoleGrant { application_id: application_id.to_owned(), scopes: vec![scope.to_owned()] })
        }
        None => {}
    }
    grants.retain(|grant| !grant.scopes.is_empty());
}

fn is_granted(grants: &[RoleGrant], application_id: &str, scope: &str) -> bool {
    grants.iter().any(|grant| grant.application_id == application_id && grant.scopes.iter().any(|s| s == scope))
}

/// "Create role" (`role` is `None`) or "Edit role".
#[component]
pub fn RoleDialog(state: RolesState, role: Option<RoleRow>) -> impl IntoView {
    let role_id = StoredValue::new(role.as_ref().map(|role| role.id.clone()));
    let form = NameForm::new(role.as_ref().map(|role| role.name.clone()).unwrap_or_default());
    let NameForm { name, name_error, error, saving } = form;
    let description = RwSignal::new(role.as_ref().map(|role| role.description.clone()).unwrap_or_default());
    let description_error = RwSignal::new(None::<String>);
    // Grants on applications the page has not found stay as they are.
    let grants = RwSignal::new(role.map(|role| role.access).unwrap_or_default());
    let close = Callback::new(move |()| state.dialog.set(None));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let checked_description = match check_description(&description.get_untracked()) {
            Ok(checked) => checked,
            Err(message) => {
                description_error.set(Some(message));
                return;
            }
        };
        let access = grants.get_untracked();
        let tenant = state.tenant();
        let editing = role_id.get_value();
        form.submit(
            MAX_NAME_CHARS,
            move |name| async move {
                match editing {
                    Some(id) => update_role(tenant, id, name, checked_description, access).await,
                    None => create_role(tenant, name, checked_description, access).await,
                }
            },
            move |saved: RoleRow| {
                let verb = if role_id.get_value().is_some() { "Saved" } else { "Created" };
                state.notice.set(Some(format!("{verb} the role {}.", saved.name)));
                state.dialog.set(None);
                state.reload.update(|n| *n += 1);
            },
        );
    };
    let (title, label, test_id) = if role_id.get_value().is_some() {
        ("Edit role", "Save role", "save-role")
    } else {
        ("Create role", "Create role", "save-role")
    };
    let description_count = move || description.with(|text| text.trim().chars().count());
    view! {
        <Modal id="role-editor" title=title on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit novalidate=true>
                <NameField id="role-name" label="Name" value=name error=name_error/>
                <div>
                    <div class="flex items-baseline justify-between">
                        <label for="role-description" class="block text-sm font-medium text-slate-700">"Description"</label>
                        <span id="role-description-counter" class="text-xs text-slate-500">
                            {move || format!("{}/{MAX_ROLE_DESCRIPTION_CHARS}", description_count())}
                        </span>
                    </div>
                    <textarea id="role-description" rows="2" aria-describedby="role-description-counter role-description-error"
                        aria-invalid=move || if description_error.get().is_some() { "true" } else { "false" }
                        prop:value=move || description.get()
                        on:input=move |ev| {
                            description.set(event_target_value(&ev));
                            description_error.set(None);
                        }
                        class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500"></textarea>
                    <p id="role-description-error" class="mt-1 min-h-5 text-sm text-red-700" role="alert">
                        {move || description_error.get()}
                    </p>
                </div>
                <GrantPicker state=state grants=grants/>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label=label busy_label="Saving…" busy=saving test_id=test_id/>
            </form>
        </Modal>
    }
}

/// One fieldset per protected application, a checkbox per scope.
#[component]
fn GrantPicker(state: RolesState, grants: RwSignal<Vec<RoleGrant>>) -> impl IntoView {
    let app_fieldset = move |app: Protected| {
        let boxes = app
            .scopes
            .into_iter()
            .map(|scope| {
                let id = format!("grant-{}-{scope}", app.client_id);
                let label_for = id.clone();
                let client_id = StoredValue::new(app.client_id.clone());
                let scope_name = StoredValue::new(scope.clone());
                view! {
                    <label for=label_for class="flex items-center gap-2 font-mono text-xs">
                        <input id=id type="checkbox" data-testid="grant-checkbox"
                            prop:checked=move || grants.with(|g| is_granted(g, &client_id.get_value(), &scope_name.get_value()))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                grants.update(|g| toggle_grant(g, &client_id.get_value(), &scope_name.get_value(), on));
                            }/>
                        <span>{scope}</span>
                    </label>
                }
            })
            .collect_view();
        view! {
            <fieldset class="rounded-md border border-slate-200 px-3 py-2" data-testid="grant-application"
                data-client-id=app.client_id.clone()>
                <legend class="px-1 text-sm font-medium text-slate-800">{app.name.clone()}</legend>
                <div class="flex flex-wrap gap-x-4 gap-y-1">{boxes}</div>
            </fieldset>
        }
    };
    let apps = move || {
        let catalog = state.catalog.get();
        if catalog.is_empty() {
            let text = if state.scanning.get() || !state.started.get() {
                "Looking for applications that define scopes…"
            } else {
                "No application defines scopes yet. Add scopes to an application on the Applications page first."
            };
            return view! { <p class="text-sm text-slate-500" data-testid="no-protected">{text}</p> }.into_any();
        }
        view! { <div class="space-y-2">{catalog.into_iter().map(app_fieldset).collect_view()}</div> }.into_any()
    };
    view! {
        <div>
            <h3 class="text-sm font-medium text-slate-700">"Grants"</h3>
            <p class="mb-2 text-xs text-slate-500">"The scopes this role grants on each protected application."</p>
            {apps}
            {move || state.cursor.get().is_some().then(|| view! {
                <p class="mt-2 text-xs text-slate-500">
                    {move || format!("The {} newest applications were looked at. ", state.scanned.get())}
                    <button type="button" class=SMALL_BUTTON disabled=move || state.scanning.get()
                        on:click=move |_| state.scan_more()>"Look at more applications"</button>
                </p>
            })}
            {move || state.catalog_error.get().map(|message| view! { <div class="mt-2"><ErrorMessage message=message/></div> })}
        </div>
    }
}

/// The names of the applications holding `role_id` (client IDs where a
/// name cannot be read).
async fn holder_names(tenant: String, role_id: String) -> Result<Vec<String>, AppError> {
    let mut names = Vec::new();
    for client_id in role_holders(tenant.clone(), role_id).await? {
        names.push(match get_application(tenant.clone(), client_id.clone()).await {
            Ok(app) => app.name,
            Err(_) => client_id,
        });
    }
    Ok(names)
}

#[component]
pub fn DeleteRoleDialog(state: RolesState, role: RoleRow) -> impl IntoView {
    let holders = RwSignal::new(None::<Vec<String>>);
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let close = Callback::new(move |()| state.dialog.set(None));
    let name = StoredValue::new(role.name.clone());
    let role_id = StoredValue::new(role.id);
    // Dialogs open only in the browser, after a click.
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match holder_names(state.tenant(), role_id.get_value()).await {
                Ok(names) => holders.set(Some(names)),
                Err(err) => error.set(Some(err.message)),
            }
        });
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match delete_role(state.tenant(), role_id.get_value()).await {
                Ok(()) => {
                    state.notice.set(Some(format!("Deleted the role {}.", name.get_value())));
                    state.dialog.set(None);
                    state.reload.update(|n| *n += 1);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let holders_view = move || match holders.get() {
        None => view! { <p class="text-sm text-slate-500">"Looking up the applications that hold it…"</p> }.into_any(),
        Some(names) if names.is_empty() => view! {
            <p class="text-sm text-slate-600" data-testid="role-holders">"No application holds this role."</p>
        }
        .into_any(),
        Some(names) => view! {
            <div class="text-sm text-slate-600">
                <p>"These applications hold it and lose what it grants at once:"</p>
                <ul class="mt-1 list-disc pl-5 font-medium text-slate-900" data-testid="role-holders">
                    {names.into_iter().map(|name| view! { <li>{name}</li> }).collect_view()}
                </ul>
            </div>
        }
        .into_any(),
    };
    view! {
        <Modal id="delete-role" title=format!("Delete the role {}?", name.get_value()) on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit>
                {holders_view}
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Delete role" busy_label="Deleting…" busy=saving danger=true
                    blocked=Signal::derive(move || holders.with(Option::is_none)) test_id="confirm-delete-role"/>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_toggle_per_application_and_drop_when_empty() {
        let mut grants = Vec::new();
        toggle_grant(&mut grants, "inventory", "read", true);
        toggle_grant(&mut grants, "inventory", "write", true);
        toggle_grant(&mut grants, "billing", "pay", true);
        assert!(is_granted(&grants, "inventory", "write"));
        toggle_grant(&mut grants, "inventory", "read", false);
        toggle_grant(&mut grants, "inventory", "write", false);
        assert_eq!(grants, vec![RoleGrant { application_id: "billing".into(), scopes: vec!["pay".into()] }]);
        toggle_grant(&mut grants, "billing", "pay", true);
        assert_eq!(grants[0].scopes, vec!["pay".to_owned()]);
    }

    #[test]
    fn descriptions_are_counted_in_characters() {
        assert_eq!(check_description("  readers  "), Ok("readers".to_owned()));
        assert!(check_description(&"é".repeat(MAX_ROLE_DESCRIPTION_CHARS)).is_ok());
        assert!(check_description(&"é".repeat(MAX_ROLE_DESCRIPTION_CHARS + 1)).is_err());
    }
}
