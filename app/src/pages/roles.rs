//! `/t/{tenant}/roles`: the tenant's roles — named sets of scopes on
//! protected applications that calling applications hold. Admins create,
//! edit and delete them; viewers see the list.

use leptos::prelude::*;
use leptos_meta::Title;

use super::layout::{Section, TenantGate};
use super::role_dialogs::{DeleteRoleDialog, RoleDialog};
use crate::api::applications::{application_scopes, get_application, list_applications};
use crate::api::roles::{RoleRow, list_roles};
use crate::api::tenants::TenantContext;
use crate::components::buttons::{PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::feedback::{ErrorMessage, Notice};
use crate::components::table::{TABLE, TABLE_FRAME, TableHead};
use crate::error::AppError;

/// A protected application (one that defines scopes), as the role editor
/// offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
}

/// Which dialog of the page is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolesDialog {
    Create,
    Edit(RoleRow),
    Delete(RoleRow),
}

/// State shared by the page and its dialogs. Every field is a cheap handle.
#[derive(Clone, Copy)]
pub struct RolesState {
    pub tenant_id: StoredValue<String>,
    pub can_write: bool,
    pub reload: RwSignal<u32>,
    pub notice: RwSignal<Option<String>>,
    pub dialog: RwSignal<Option<RolesDialog>>,
    /// The protected applications found so far, by name.
    pub catalog: RwSignal<Vec<Protected>>,
    /// How many of the tenant's applications were looked at for scopes.
    pub scanned: RwSignal<usize>,
    /// Where the next page of applications to look at starts; `None` when
    /// every application was looked at.
    pub cursor: RwSignal<Option<String>>,
    pub scanning: RwSignal<bool>,
    /// Whether the first page was looked at.
    pub started: RwSignal<bool>,
    pub catalog_error: RwSignal<Option<String>>,
    /// Client IDs already looked at (or being looked at).
    checked: StoredValue<Vec<String>>,
}

impl RolesState {
    fn new(context: &TenantContext) -> Self {
        Self {
            tenant_id: StoredValue::new(context.tenant_id.clone()),
            can_write: context.can_write,
            reload: RwSignal::new(0),
            notice: RwSignal::new(None),
            dialog: RwSignal::new(None),
            catalog: RwSignal::new(Vec::new()),
            scanned: RwSignal::new(0),
            cursor: RwSignal::new(None),
            scanning: RwSignal::new(false),
            started: RwSignal::new(false),
            catalog_error: RwSignal::new(None),
            checked: StoredValue::new(Vec::new()),
        }
    }

    pub fn tenant(&self) -> String {
        self.tenant_id.get_value()
    }

    /// The name of the application `client_id`, if the page knows it.
    pub fn name_of(&self, client_id: &str) -> String {
        self.catalog.with(|catalog| {
            catalog
                .iter()
                .find(|app| app.client_id == client_id)
                .map_or_else(|| client_id.to_owned(), |app| app.name.clone())
        })
    }

    /// Marks `client_id` as looked at; `false` if it already was.
    fn claim(&self, client_id: &str) -> bool {
        let mut fresh = false;
        self.checked.update_value(|checked| {
            if !checked.iter().any(|id| id == client_id) {
                checked.push(client_id.to_owned());
                fresh = true;
            }
        });
        fresh
    }

    fn add_protected(&self, found: Protected) {
        self.catalog.update(|catalog| {
            catalog.retain(|app| app.client_id != found.client_id);
            catalog.push(found);
            catalog.sort_by_key(|app| app.name.to_lowercase());
        });
    }

    /// Looks at the next page of the tenant's applications (newest first)
    /// and keeps those that define scopes.
    pub fn scan_more(self) {
        if self.scanning.get_untracked() || (self.started.get_untracked() && self.cursor.get_untracked().is_none()) {
            return;
        }
        self.scanning.set(true);
        self.catalog_error.set(None);
        leptos::task::spawn_local(async move {
            if let Err(err) = self.scan_page().await {
                self.catalog_error.set(Some(err.message));
            }
            self.started.set(true);
            self.scanning.set(false);
        });
    }

    async fn scan_page(self) -> Result<(), AppError> {
        let tenant = self.tenant();
        let page = list_applications(tenant.clone(), String::new(), self.cursor.get_untracked()).await?;
        self.cursor.set(page.next_cursor);
        for app in page.applications {
            self.scanned.update(|n| *n += 1);
            if !self.claim(&app.client_id) {
                continue;
            }
            let scopes = application_scopes(tenant.clone(), app.client_id.clone()).await?;
            if !scopes.is_empty() {
                self.add_protected(Protected { client_id: app.client_id, name: app.name, scopes });
            }
        }
        Ok(())
    }

    /// Looks up the applications roles grant on that the scan has not
    /// reached, so their names show and the editor keeps their scopes.
    fn look_up(self, client_ids: Vec<String>) {
        let fresh: Vec<String> = client_ids.into_iter().filter(|id| self.claim(id)).collect();
        if fresh.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            let tenant = self.tenant();
            for client_id in fresh {
                let found = async {
                    let app = get_application(tenant.clone(), client_id.clone()).await?;
                    let scopes = application_scopes(tenant.clone(), client_id.clone()).await?;
                    Ok::<_, AppError>(Protected { client_id: app.client_id, name: app.name, scopes })
                };
                match found.await {
                    Ok(found) if !found.scopes.is_empty() => self.add_protected(found),
                    Ok(_) => {}
                    Err(err) => self.catalog_error.set(Some(err.message)),
                }
            }
        });
    }
}

#[component]
pub fn RolesPage() -> impl IntoView {
    view! {
        <Title text="Roles · Clavis"/>
        <TenantGate section=Section::Roles page=|context| view! { <RolesTab context=context/> }/>
    }
}

/// "inventory-api: read, write" for each application a role grants on.
fn grants_text(state: RolesState, role: &RoleRow) -> Vec<String> {
    role.access
        .iter()
        .map(|grant| format!("{}: {}", state.name_of(&grant.application_id), grant.scopes.join(", ")))
        .collect()
}

#[component]
fn RolesTab(context: TenantContext) -> impl IntoView {
    let state = RolesState::new(&context);
    let roles = Resource::new(move || (state.tenant(), state.reload.get()), |(tenant_id, _)| list_roles(tenant_id));
    // Effects run only in the browser: the editor's catalog is built there.
    Effect::new(move |_| state.scan_more());
    Effect::new(move |_| {
        if let Some(Ok(list)) = roles.get() {
            let referenced =
                list.iter().flat_map(|role| role.access.iter().map(|grant| grant.application_id.clone())).collect();
            state.look_up(referenced);
        }
    });
    let create_button = move || {
        state.can_write.then(|| {
            view! {
                <button type="button" class=PRIMARY_BUTTON data-testid="create-role"
                    on:click=move |_| state.dialog.set(Some(RolesDialog::Create))>"Create role"</button>
            }
        })
    };
    view! {
        <div class="mt-4 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Roles"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "A role grants scopes on protected applications; applications that hold it get those scopes in their tokens."
                </p>
            </div>
            {create_button}
        </div>
        <Notice notice=state.notice/>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading roles…"</p> }>
            {move || Suspend::new(async move {
                match roles.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <div class="mt-6 rounded-xl border border-dashed border-slate-300 bg-white p-12 text-center" data-testid="no-roles">
                            <h2 class="text-base font-semibold">"No roles yet"</h2>
                            <p class="mt-1 text-sm text-slate-600">
                                {if state.can_write {
                                    "Create a role, then assign it to the applications that call your protected applications."
                                } else {
                                    "An admin of this tenant can create roles."
                                }}
                            </p>
                        </div>
                    }.into_any(),
                    Ok(rows) => view! { <RolesTable rows=rows state=state/> }.into_any(),
                    Err(err) => view! { <div class="mt-6"><ErrorMessage message=err.message/></div> }.into_any(),
                }
            })}
        </Transition>
        {move || state.dialog.get().map(|dialog| match dialog {
            RolesDialog::Create => view! { <RoleDialog state=state role=None/> }.into_any(),
            RolesDialog::Edit(role) => view! { <RoleDialog state=state role=Some(role)/> }.into_any(),
            RolesDialog::Delete(role) => view! { <DeleteRoleDialog state=state role=role/> }.into_any(),
        })}
    }
}

#[component]
fn RolesTable(rows: Vec<RoleRow>, state: RolesState) -> impl IntoView {
    const COLUMNS: &[&str] = &["Name", "Description", "Grants"];
    let head = if state.can_write {
        view! { <TableHead columns=COLUMNS action="Actions"/> }.into_any()
    } else {
        view! { <TableHead columns=COLUMNS/> }.into_any()
    };
    view! {
        <div class=format!("mt-6 {TABLE_FRAME}")>
            <table class=TABLE data-testid="roles-table">
                {head}
                <tbody>
                    {rows.into_iter().map(|role| {
                        let for_grants = role.clone();
                        let for_edit = role.clone();
                        let for_delete = role.clone();
                        let name = role.name.clone();
                        view! {
                            <tr class="border-t border-slate-100 align-top" data-testid="role-row" data-name=role.name.clone()>
                                <td class="px-4 py-3 font-medium" data-testid="role-name">{role.name.clone()}</td>
                                <td class="px-4 py-3 text-slate-600" data-testid="role-description">{role.description.clone()}</td>
                                <td class="px-4 py-3 text-slate-600" data-testid="role-grants">
                                    {move || {
                                        let lines = grants_text(state, &for_grants);
                                        if lines.is_empty() {
                                            view! { <span class="text-slate-500">"Nothing yet"</span> }.into_any()
                                        } else {
                                            view! { <ul>{lines.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul> }.into_any()
                                        }
                                    }}
                                </td>
                                {state.can_write.then(|| view! {
                                    <td class="whitespace-nowrap px-4 py-3 text-right">
                                        <button type="button" class=SECONDARY_BUTTON data-testid="edit-role"
                                            aria-label=format!("Edit {name}")
                                            on:click=move |_| state.dialog.set(Some(RolesDialog::Edit(for_edit.clone())))>"Edit"</button>
                                        <button type="button" class=format!("ml-2 {SECONDARY_BUTTON}") data-testid="delete-role"
                                            aria-label=format!("Delete {name}")
                                            on:click=move |_| state.dialog.set(Some(RolesDialog::Delete(for_delete.clone())))>"Delete"</button>
                                    </td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
