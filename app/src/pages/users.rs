//! `/t/{tenant}/users`: the tenant's Cloud Directory — the end users who
//! sign in to its applications with the password grant. A search box and
//! pages of 20 (`?q=…&start=…`, so both work without JavaScript); admins
//! add users, disable and enable them, reset their passwords, choose their
//! roles and delete them. Viewers see the list.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::layout::{Section, TenantGate};
use super::user_dialogs::{AddUserDialog, DeleteUserDialog, ResetPasswordDialog, UserRolesDialog};
use super::user_row::UserTableRow;
use crate::api::directory::{USERS_PER_PAGE, UserPage, UserRow, list_directory_users};
use crate::api::tenants::TenantContext;
use crate::components::buttons::{PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::feedback::{ErrorMessage, Notice};
use crate::components::table::{TABLE, TABLE_FRAME, TableHead};

/// How long the search waits for typing to pause before asking the server.
const SEARCH_DEBOUNCE_MS: u64 = 300;

const INPUT: &str = "block w-full max-w-sm rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";

/// Which dialog of the page is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsersDialog {
    Add,
    ResetPassword(UserRow),
    Roles(UserRow),
    Delete(UserRow),
}

/// State shared by the page, its rows and its dialogs. Every field is a
/// cheap handle.
#[derive(Clone, Copy)]
pub struct UsersState {
    pub tenant_id: StoredValue<String>,
    pub can_write: bool,
    pub reload: RwSignal<u32>,
    pub notice: RwSignal<Option<String>>,
    /// A failed action of a row (the toggle), shown above the table.
    pub error: RwSignal<Option<String>>,
    pub dialog: RwSignal<Option<UsersDialog>>,
}

impl UsersState {
    fn new(context: &TenantContext) -> Self {
        Self {
            tenant_id: StoredValue::new(context.tenant_id.clone()),
            can_write: context.can_write,
            reload: RwSignal::new(0),
            notice: RwSignal::new(None),
            error: RwSignal::new(None),
            dialog: RwSignal::new(None),
        }
    }

    pub fn tenant(&self) -> String {
        self.tenant_id.get_value()
    }

    /// Shows the server's view again (after an add or a delete).
    pub fn refresh(&self) {
        self.reload.update(|n| *n += 1);
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Title text="Users · Clavis"/>
        <TenantGate section=Section::Users page=|context| view! { <UsersTab context=context/> }/>
    }
}

/// The page's URL for a search and a first row: what a GET of the search
/// form produces, so links and the form agree.
pub fn users_href(base: &str, query: &str, start: u64) -> String {
    let mut params = form_urlencoded::Serializer::new(String::new());
    let query = query.trim();
    if !query.is_empty() {
        params.append_pair("q", query);
    }
    if start > 1 {
        params.append_pair("start", &start.to_string());
    }
    let params = params.finish();
    if params.is_empty() { base.to_owned() } else { format!("{base}?{params}") }
}

/// "1–20 of 57": the rows of this page and how many match.
pub fn range_text(start: u64, shown: usize, total: u64) -> String {
    let last = start + shown as u64 - 1;
    format!("{start}–{last} of {total}")
}

/// Where the previous and next pages start, when there are such pages.
pub fn neighbours(start: u64, shown: usize, total: u64) -> (Option<u64>, Option<u64>) {
    let previous = (start > 1).then(|| start.saturating_sub(USERS_PER_PAGE).max(1));
    let next = (shown > 0 && start + (shown as u64) <= total).then(|| start + shown as u64);
    (previous, next)
}

#[component]
fn UsersTab(context: TenantContext) -> impl IntoView {
    let state = UsersState::new(&context);
    let base = StoredValue::new(format!("/t/{}/users", context.tenant_id));
    let query_map = use_query_map();
    let query = move || query_map.read().get("q").unwrap_or_default();
    let start = move || query_map.read().get("start").and_then(|value| value.parse::<u64>().ok()).unwrap_or(1).max(1);
    let page = Resource::new(
        move || (state.tenant(), query(), start(), state.reload.get()),
        |(tenant_id, query, start, _)| list_directory_users(tenant_id, query, start),
    );
    let typed = RwSignal::new(query_map.with_untracked(|map| map.get("q").unwrap_or_default()));
    let navigate = use_navigate();
    let search = move |text: String| {
        if text.trim() != query_map.with_untracked(|map| map.get("q").unwrap_or_default()).trim() {
            let options = NavigateOptions { replace: true, scroll: false, ..Default::default() };
            navigate(&users_href(&base.get_value(), &text, 1), options);
        }
    };
    let on_input = {
        let search = search.clone();
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            typed.set(text.clone());
            let search = search.clone();
            set_timeout(
                move || {
                    if typed.get_untracked() == text {
                        search(text);
                    }
                },
                std::time::Duration::from_millis(SEARCH_DEBOUNCE_MS),
            );
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        search(typed.get_untracked());
    };
    view! {
        <div class="mt-4 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Users"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "The tenant's Cloud Directory: people who sign in to its applications with their email and password."
                </p>
            </div>
            {state.can_write.then(|| view! {
                <button type="button" class=PRIMARY_BUTTON data-testid="add-user"
                    on:click=move |_| state.dialog.set(Some(UsersDialog::Add))>"Add user"</button>
            })}
        </div>
        <Notice notice=state.notice/>
        <form method="get" role="search" aria-label="Users" class="mt-6 flex flex-wrap gap-2" on:submit=on_submit>
            <label for="user-search" class="sr-only">"Search users"</label>
            <input id="user-search" name="q" type="search" placeholder="Search by email or name" autocomplete="off"
                data-testid="user-search" class=INPUT prop:value=move || typed.get() on:input=on_input/>
            <button type="submit" class=SECONDARY_BUTTON>"Search"</button>
        </form>
        <div class="mt-4">{move || state.error.get().map(|message| view! { <ErrorMessage message=message/> })}</div>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(list) => view! { <UsersList list=list state=state base=base.get_value() query=query_map.with_untracked(|map| map.get("q").unwrap_or_default())/> }.into_any(),
                    Err(err) => view! { <div class="mt-6"><ErrorMessage message=err.message/></div> }.into_any(),
                }
            })}
        </Transition>
        {move || state.dialog.get().map(|dialog| match dialog {
            UsersDialog::Add => view! { <AddUserDialog state=state/> }.into_any(),
            UsersDialog::ResetPassword(user) => view! { <ResetPasswordDialog state=state user=user/> }.into_any(),
            UsersDialog::Roles(user) => view! { <UserRolesDialog state=state user=user/> }.into_any(),
            UsersDialog::Delete(user) => view! { <DeleteUserDialog state=state user=user/> }.into_any(),
        })}
    }
}

const PAGE_LINK: &str =
    "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50";

/// The table of one page, its range and its page links; or why it is empty.
#[component]
fn UsersList(list: UserPage, state: UsersState, base: String, query: String) -> impl IntoView {
    let shown = list.users.len();
    if shown == 0 {
        return empty_view(state, &list, &base, &query).into_any();
    }
    let (previous, next) = neighbours(list.start_index, shown, list.total);
    let previous = previous.map(|at| {
        view! { <a href=users_href(&base, &query, at) class=PAGE_LINK data-testid="users-previous" rel="prev">"← Previous"</a> }
    });
    let next = next.map(|at| {
        view! { <a href=users_href(&base, &query, at) class=PAGE_LINK data-testid="users-next" rel="next">"Next →"</a> }
    });
    const COLUMNS: &[&str] = &["Email", "Name", "Status", "Created"];
    let head = if state.can_write {
        view! { <TableHead columns=COLUMNS action="Actions"/> }.into_any()
    } else {
        view! { <TableHead columns=COLUMNS/> }.into_any()
    };
    view! {
        <p class="mt-4 text-xs text-slate-500" data-testid="users-range">{range_text(list.start_index, shown, list.total)}</p>
        <div class=format!("mt-2 {TABLE_FRAME}")>
            <table class=TABLE data-testid="users-table">
                {head}
                <tbody>
                    {list.users.into_iter().map(|user| view! { <UserTableRow user=user state=state/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="mt-4 flex justify-between" aria-label="User pages">
            <div>{previous}</div>
            <div>{next}</div>
        </nav>
    }
    .into_any()
}

/// No users at all, none matching the search, or a page past the end.
fn empty_view(state: UsersState, list: &UserPage, base: &str, query: &str) -> impl IntoView {
    if list.total > 0 {
        return view! {
            <p class="mt-6 rounded-xl bg-white p-8 text-center text-sm text-slate-600 ring-1 ring-slate-200" data-testid="users-past-end">
                "No users on this page. "
                <a href=users_href(base, query, 1) class="font-medium text-indigo-600 hover:text-indigo-500">"Go to the first page"</a>
            </p>
        }
        .into_any();
    }
    if !query.trim().is_empty() {
        return view! {
            <p class="mt-6 rounded-xl bg-white p-8 text-center text-sm text-slate-600 ring-1 ring-slate-200" data-testid="users-no-match">
                {format!("No users match “{}”.", query.trim())}
            </p>
        }
        .into_any();
    }
    view! {
        <div class="mt-6 rounded-xl border border-dashed border-slate-300 bg-white p-12 text-center" data-testid="no-users">
            <h2 class="text-base font-semibold">"No users yet"</h2>
            <p class="mt-1 text-sm text-slate-600">
                {if state.can_write {
                    "Add a user, or let an application sign them up through the management API."
                } else {
                    "An admin of this tenant can add users."
                }}
            </p>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_search_and_the_first_row() {
        assert_eq!(users_href("/t/x/users", "", 1), "/t/x/users");
        assert_eq!(users_href("/t/x/users", "  ", 0), "/t/x/users");
        assert_eq!(users_href("/t/x/users", " ada@example.com ", 21), "/t/x/users?q=ada%40example.com&start=21");
        assert_eq!(users_href("/t/x/users", "a&b c", 1), "/t/x/users?q=a%26b+c");
    }

    #[test]
    fn the_range_counts_from_one() {
        assert_eq!(range_text(1, 20, 57), "1–20 of 57");
        assert_eq!(range_text(41, 17, 57), "41–57 of 57");
        assert_eq!(range_text(1, 1, 1), "1–1 of 1");
    }

    #[test]
    fn pages_link_to_their_neighbours_only_when_they_exist() {
        assert_eq!(neighbours(1, 20, 57), (None, Some(21)));
        assert_eq!(neighbours(21, 20, 57), (Some(1), Some(41)));
        assert_eq!(neighbours(41, 17, 57), (Some(21), None));
        assert_eq!(neighbours(1, 20, 20), (None, None));
        // A start that is not a multiple of the page size still reaches the first row.
        assert_eq!(neighbours(5, 20, 57), (Some(1), Some(25)));
    }
}
