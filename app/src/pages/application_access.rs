//! Access control in an expanded application row: the scopes it defines as
//! a protected application, the identifier a token request may name it by,
//! and the roles it holds as a caller. Admins change them here; viewers see
//! them read-only. What the roles grant also shapes the row's curl snippet.

use leptos::prelude::*;

use super::applications::TabState;
use crate::api::applications::{Application, application_scopes, set_application_identifier, set_application_scopes};
use crate::api::roles::{HeldRole, RoleRow, application_roles, list_roles, set_application_roles};
use crate::components::buttons::SMALL_BUTTON;
use crate::components::format::TokenTarget;
use crate::error::sentence;

const INPUT: &str = "block w-full min-w-0 rounded-md border border-slate-300 px-3 py-1.5 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500 aria-[invalid=true]:border-red-500";
const CARD: &str = "rounded-lg bg-white p-4 text-sm ring-1 ring-slate-200";

/// What the row knows about the application's access, loaded when it opens.
#[derive(Clone, Copy)]
pub struct RowAccess {
    /// The scopes it defines (as a protected application).
    pub scopes: RwSignal<Option<Vec<String>>>,
    /// The roles it holds (as a caller).
    pub held: RwSignal<Option<Vec<HeldRole>>>,
    /// The tenant's roles, with what each grants.
    pub roles: RwSignal<Option<Vec<RoleRow>>>,
    pub load_error: RwSignal<Option<String>>,
}

impl RowAccess {
    pub fn new() -> Self {
        Self {
            scopes: RwSignal::new(None),
            held: RwSignal::new(None),
            roles: RwSignal::new(None),
            load_error: RwSignal::new(None),
        }
    }

    /// Asks the server for all three; called from an effect, so only in
    /// the browser (rows open there).
    pub fn load(self, tenant_id: String, client_id: String) {
        let (tenant, client) = (tenant_id.clone(), client_id.clone());
        leptos::task::spawn_local(async move {
            match application_scopes(tenant, client).await {
                Ok(scopes) => self.scopes.set(Some(scopes)),
                Err(err) => self.load_error.set(Some(err.message)),
            }
        });
        let tenant = tenant_id.clone();
        leptos::task::spawn_local(async move {
            match application_roles(tenant, client_id).await {
                Ok(held) => self.held.set(Some(held)),
                Err(err) => self.load_error.set(Some(err.message)),
            }
        });
        self.reload_roles(tenant_id);
    }

    /// The tenant's roles again (a removed scope leaves the roles too).
    fn reload_roles(self, tenant_id: String) {
        leptos::task::spawn_local(async move {
            match list_roles(tenant_id).await {
                Ok(roles) => self.roles.set(Some(roles)),
                Err(err) => self.load_error.set(Some(err.message)),
            }
        });
    }

    /// What the snippet should ask for, once the roles are known.
    pub fn target(&self) -> Option<TokenTarget> {
        self.held.with(|held| self.roles.with(|roles| token_target(held.as_deref()?, roles.as_deref()?)))
    }
}

impl Default for RowAccess {
    fn default() -> Self {
        Self::new()
    }
}

/// The first protected application the `held` roles grant scopes on (in
/// role-name order), with every scope they grant there together, in the
/// order they first appear. `None` when the roles grant nothing.
pub fn token_target(held: &[HeldRole], roles: &[RoleRow]) -> Option<TokenTarget> {
    let granting: Vec<&RoleRow> = held.iter().filter_map(|held| roles.iter().find(|role| role.id == held.id)).collect();
    let audience = granting.iter().flat_map(|role| &role.access).find(|grant| !grant.scopes.is_empty())?;
    let mut scopes: Vec<String> = Vec::new();
    for grant in granting.iter().flat_map(|role| &role.access) {
        if grant.application_id == audience.application_id {
            for scope in &grant.scopes {
                if !scopes.contains(scope) {
                    scopes.push(scope.clone());
                }
            }
        }
    }
    Some(TokenTarget { audience: audience.application_id.clone(), scopes })
}

/// The client-side check of a new scope, with the rules the server applies
/// to the whole list; `Ok` is the name to add.
pub fn check_new_scope(current: &[String], typed: &str) -> Result<String, String> {
    let name = typed.trim();
    if name.is_empty() {
        return Err("Enter a scope name.".to_owned());
    }
    let mut list = current.to_vec();
    list.push(name.to_owned());
    clavis_types::validate_scope_list(&list).map_err(|err| sentence(&err.to_string()))?;
    Ok(name.to_owned())
}

#[component]
pub fn AccessPanel(app: RwSignal<Application>, state: TabState, access: RowAccess) -> impl IntoView {
    view! {
        <section aria-labelledby=format!("access-{}", app.with_untracked(|a| a.client_id.clone()))>
            <h2 id=format!("access-{}", app.with_untracked(|a| a.client_id.clone()))
                class="text-sm font-semibold text-slate-800">"Access control"</h2>
            {move || access.load_error.get().map(|message| view! {
                <p class="mt-2 text-sm text-red-700" role="alert">{message}</p>
            })}
            <div class="mt-2 grid gap-4 lg:grid-cols-3">
                <ScopesCard app=app state=state access=access/>
                <IdentifierCard app=app state=state/>
                <RolesCard app=app state=state access=access/>
            </div>
        </section>
    }
}

#[component]
fn ScopesCard(app: RwSignal<Application>, state: TabState, access: RowAccess) -> impl IntoView {
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let input_id = format!("new-scope-{}", client_id.get_value());
    let error_id = format!("{input_id}-error");
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    // Sends the whole new list; the server checks it again.
    let save = move |scopes: Vec<String>, done: String| {
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match set_application_scopes(state.tenant(), client_id.get_value(), scopes).await {
                Ok(saved) => {
                    access.scopes.set(Some(saved));
                    access.reload_roles(state.tenant());
                    typed.set(String::new());
                    state.notice.set(Some(done));
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let current = access.scopes.get_untracked().unwrap_or_default();
        match check_new_scope(&current, &typed.get_untracked()) {
            Ok(name) => {
                let done = format!("Added the scope {name}.");
                let mut scopes = current;
                scopes.push(name);
                save(scopes, done);
            }
            Err(message) => error.set(Some(message)),
        }
    };
    let remove = move |name: String| {
        let current = access.scopes.get_untracked().unwrap_or_default();
        let scopes = current.into_iter().filter(|scope| *scope != name).collect();
        save(scopes, format!("Removed the scope {name}, and it from every role."));
    };
    let list = move || {
        access.scopes.get().map(|scopes| {
            if scopes.is_empty() {
                return view! { <p class="mt-2 text-slate-500" data-testid="no-scopes">"No scopes: not a protected application."</p> }.into_any();
            }
            view! {
                <ul class="mt-2 flex flex-wrap gap-2" data-testid="scope-list">
                    {scopes.into_iter().map(|scope| {
                        let label = format!("Remove scope {scope}");
                        let name = scope.clone();
                        let data_scope = scope.clone();
                        view! {
                            <li class="flex items-center gap-1 rounded-md bg-slate-100 py-0.5 pl-2 pr-1 font-mono text-xs"
                                data-testid="scope-item" data-scope=data_scope>
                                <span data-testid="scope-name">{scope}</span>
                                {state.can_write.then(|| view! {
                                    <button type="button" class="rounded px-1 text-slate-500 hover:bg-slate-200 hover:text-red-700"
                                        aria-label=label data-testid="remove-scope" disabled=move || saving.get()
                                        on:click=move |_| remove(name.clone())>"×"</button>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        })
    };
    view! {
        <div class=CARD data-testid="scopes-card">
            <h3 class="font-semibold text-slate-800">"Scopes"</h3>
            <p class="mt-1 text-slate-600">"What callers may be granted on this application through roles."</p>
            {move || access.scopes.with(Option::is_none).then(|| view! { <p class="mt-2 text-slate-500">"Loading…"</p> })}
            {list}
            {state.can_write.then(|| view! {
                <form class="mt-3" on:submit=add novalidate=true>
                    <label for=input_id.clone() class="block text-xs font-medium text-slate-700">"New scope"</label>
                    <div class="mt-1 flex items-center gap-2">
                        <input id=input_id.clone() type="text" autocomplete="off" spellcheck="false" class=INPUT
                            data-testid="new-scope" aria-describedby=error_id.clone()
                            aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                            prop:value=move || typed.get()
                            on:input=move |ev| {
                                typed.set(event_target_value(&ev));
                                error.set(None);
                            }/>
                        <button type="submit" class=format!("shrink-0 whitespace-nowrap {SMALL_BUTTON}") data-testid="add-scope"
                            disabled=move || saving.get()>"Add scope"</button>
                    </div>
                    <p id=error_id.clone() class="mt-1 min-h-5 text-sm text-red-700" role="alert" data-testid="scope-error">
                        {move || error.get()}
                    </p>
                    <p class="text-xs text-slate-500">"Removing a scope also takes it out of every role."</p>
                </form>
            })}
        </div>
    }
}

#[component]
fn IdentifierCard(app: RwSignal<Application>, state: TabState) -> impl IntoView {
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let input_id = format!("identifier-{}", client_id.get_value());
    let error_id = format!("{input_id}-error");
    let typed = RwSignal::new(app.with_untracked(|a| a.identifier.clone().unwrap_or_default()));
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let current = move || app.with(|a| a.identifier.clone());
    let save = move |identifier: Option<String>| {
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let name = app.with_untracked(|a| a.name.clone());
            match set_application_identifier(state.tenant(), client_id.get_value(), name, identifier).await {
                Ok(mut fresh) => {
                    fresh.secret = app.with_untracked(|a| a.secret.clone());
                    typed.set(fresh.identifier.clone().unwrap_or_default());
                    state.notice.set(Some(match &fresh.identifier {
                        Some(identifier) => format!("The identifier of {} is now {identifier}.", fresh.name),
                        None => format!("{} no longer has an identifier.", fresh.name),
                    }));
                    app.set(fresh);
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let identifier = typed.get_untracked().trim().to_owned();
        if identifier.is_empty() {
            error.set(Some("Enter an identifier, or press Remove to take it away.".to_owned()));
            return;
        }
        save(Some(identifier));
    };
    view! {
        <div class=CARD data-testid="identifier-card">
            <h3 class="font-semibold text-slate-800">"Identifier"</h3>
            <p class="mt-1 text-slate-600">"A URI callers may name as the audience instead of the client ID."</p>
            {if state.can_write {
                view! {
                    <form class="mt-3" on:submit=on_submit novalidate=true>
                        <label for=input_id.clone() class="block text-xs font-medium text-slate-700">"Identifier"</label>
                        <input id=input_id.clone() type="url" autocomplete="off" spellcheck="false"
                            placeholder="https://api.example.com" class=format!("mt-1 {INPUT}")
                            data-testid="identifier-input" aria-describedby=error_id.clone()
                            aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                            prop:value=move || typed.get()
                            on:input=move |ev| {
                                typed.set(event_target_value(&ev));
                                error.set(None);
                            }/>
                        <p id=error_id.clone() class="mt-1 min-h-5 text-sm text-red-700" role="alert" data-testid="identifier-error">
                            {move || error.get()}
                        </p>
                        <div class="flex gap-2">
                            <button type="submit" class=SMALL_BUTTON data-testid="save-identifier"
                                disabled=move || saving.get()>"Save identifier"</button>
                            {move || current().is_some().then(|| view! {
                                <button type="button" class=SMALL_BUTTON data-testid="remove-identifier"
                                    disabled=move || saving.get() on:click=move |_| save(None)>"Remove identifier"</button>
                            })}
                        </div>
                    </form>
                }.into_any()
            } else {
                view! {
                    <p class="mt-2 break-all font-mono text-xs text-slate-900" data-testid="identifier-value">
                        {move || current().unwrap_or_else(|| "None".to_owned())}
                    </p>
                }.into_any()
            }}
        </div>
    }
}

#[component]
fn RolesCard(app: RwSignal<Application>, state: TabState, access: RowAccess) -> impl IntoView {
    let client_id = StoredValue::new(app.with_untracked(|a| a.client_id.clone()));
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let holds = move |role_id: &str| access.held.with(|held| held.iter().flatten().any(|role| role.id == role_id));
    let toggle = move |role_id: String, on: bool| {
        if saving.get_untracked() {
            return;
        }
        let mut ids: Vec<String> =
            access.held.get_untracked().unwrap_or_default().into_iter().map(|role| role.id).collect();
        ids.retain(|id| *id != role_id);
        if on {
            ids.push(role_id);
        }
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match set_application_roles(state.tenant(), client_id.get_value(), ids).await {
                Ok(held) => access.held.set(Some(held)),
                Err(err) => {
                    error.set(Some(err.message));
                    // The boxes show what the server holds.
                    access.held.update(|_| {});
                }
            }
            saving.set(false);
        });
    };
    let roles_link = format!("/t/{}/roles", state.tenant());
    let editable = move || {
        access.roles.get().map(|roles| {
            if roles.is_empty() {
                return view! {
                    <p class="mt-2 text-slate-500" data-testid="no-roles">
                        "This tenant has no roles yet. " <a href=roles_link.clone() class="font-medium text-indigo-600 hover:text-indigo-500">"Create one"</a>
                    </p>
                }.into_any();
            }
            let boxes = roles.into_iter().map(|role| {
                let id = format!("role-{}-{}", client_id.get_value(), role.id);
                let label_for = id.clone();
                let role_id = StoredValue::new(role.id.clone());
                view! {
                    <label for=label_for class="flex items-start gap-2 rounded-md px-1 py-1 hover:bg-slate-50">
                        <input id=id type="checkbox" class="mt-0.5" data-testid="role-checkbox" data-role=role.name.clone()
                            prop:checked=move || holds(&role_id.get_value()) disabled=move || saving.get()
                            on:change=move |ev| toggle(role_id.get_value(), event_target_checked(&ev))/>
                        <span>
                            <span class="font-medium">{role.name.clone()}</span>
                            {(!role.description.is_empty()).then(|| view! { <span class="block text-xs text-slate-500">{role.description.clone()}</span> })}
                        </span>
                    </label>
                }
            }).collect_view();
            view! {
                <fieldset class="mt-2">
                    <legend class="sr-only">{format!("Roles of {}", app.with_untracked(|a| a.name.clone()))}</legend>
                    <div class="space-y-1">{boxes}</div>
                </fieldset>
            }.into_any()
        })
    };
    let read_only = move || {
        access.held.get().map(|held| {
            if held.is_empty() {
                return view! { <p class="mt-2 text-slate-500" data-testid="no-held-roles">"None"</p> }.into_any();
            }
            view! {
                <ul class="mt-2 space-y-1" data-testid="held-roles">
                    {held.into_iter().map(|role| view! { <li class="font-medium" data-testid="held-role">{role.name}</li> }).collect_view()}
                </ul>
            }.into_any()
        })
    };
    // A memo, so a toggle (which changes `held`) does not rebuild the boxes.
    let loading = Memo::new(move |_| {
        access.held.with(Option::is_none) || (state.can_write && access.roles.with(Option::is_none))
    });
    view! {
        <div class=CARD data-testid="roles-card">
            <h3 class="font-semibold text-slate-800">"Roles"</h3>
            <p class="mt-1 text-slate-600">"What this application may be granted on protected applications."</p>
            {move || loading.get().then(|| view! { <p class="mt-2 text-slate-500">"Loading…"</p> })}
            {move || if loading.get() {
                None
            } else if state.can_write {
                Some(editable().into_any())
            } else {
                Some(read_only().into_any())
            }}
            {move || error.get().map(|message| view! { <p class="mt-2 text-sm text-red-700" role="alert">{message}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::roles::RoleGrant;

    fn role(id: &str, access: &[(&str, &[&str])]) -> RoleRow {
        RoleRow {
            id: id.into(),
            name: id.into(),
            description: String::new(),
            access: access
                .iter()
                .map(|(app, scopes)| RoleGrant {
                    application_id: (*app).into(),
                    scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                })
                .collect(),
        }
    }

    fn held(ids: &[&str]) -> Vec<HeldRole> {
        ids.iter().map(|id| HeldRole { id: (*id).into(), name: (*id).into() }).collect()
    }

    #[test]
    fn the_target_is_the_first_granted_audience_with_every_scope_granted_there() {
        let roles = [
            role("a", &[("inventory", &["read"]), ("billing", &["pay"])]),
            role("b", &[("inventory", &["write", "read"])]),
            role("c", &[("other", &["x"])]),
        ];
        let target = token_target(&held(&["a", "b"]), &roles);
        assert_eq!(
            target,
            Some(TokenTarget { audience: "inventory".into(), scopes: vec!["read".into(), "write".into()] })
        );
        assert_eq!(token_target(&held(&["c"]), &roles).map(|t| t.audience), Some("other".into()));
        assert_eq!(token_target(&held(&[]), &roles), None);
        assert_eq!(token_target(&held(&["gone"]), &roles), None);
        assert_eq!(token_target(&held(&["empty"]), &[role("empty", &[])]), None);
    }

    #[test]
    fn new_scopes_are_checked_with_the_servers_rules() {
        let current = vec!["read".to_owned()];
        assert_eq!(check_new_scope(&current, " write "), Ok("write".to_owned()));
        assert_eq!(check_new_scope(&current, "  "), Err("Enter a scope name.".to_owned()));
        assert_eq!(check_new_scope(&current, "read"), Err("Scope \"read\" is listed twice.".to_owned()));
        assert_eq!(
            check_new_scope(&current, "Write"),
            Err("Scope \"Write\" may contain only lowercase letters, digits, '.' and '_'.".to_owned())
        );
        assert_eq!(
            check_new_scope(&current, "appid_x"),
            Err("Scope \"appid_x\" must not start with appid or openid.".to_owned())
        );
    }
}
