//! `/t/{tenant}/applications`: the tenant's applications — a filterable,
//! incrementally loaded table whose rows expand to show credentials — and
//! the "Add application" dialog.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos_meta::Title;

use super::application_row::AppRow;
use super::layout::{Section, TenantGate};
use crate::api::applications::{Application, ApplicationList, create_application, list_applications};
use crate::api::tenants::TenantContext;
use crate::components::buttons::{DialogActions, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::dialog::Modal;
use crate::components::feedback::{ErrorMessage, Notice};
use crate::components::name_field::{MAX_NAME_CHARS, NameField, NameForm};
use crate::components::table::{TABLE, TABLE_FRAME, TableHead};
use crate::error::AppError;

/// How long the filter waits for typing to pause before asking the server.
const FILTER_DEBOUNCE_MS: u64 = 250;

/// State shared by the tab and its rows. Every field is a cheap handle.
#[derive(Clone, Copy)]
pub struct TabState {
    pub tenant_id: StoredValue<String>,
    pub can_write: bool,
    /// The client ID of the open row.
    pub expanded: RwSignal<Option<String>>,
    /// Applications created since the table was loaded, newest first.
    pub added: RwSignal<Vec<Application>>,
    /// Client IDs deleted since the table was loaded.
    pub removed: RwSignal<Vec<String>>,
    /// Adds minus deletes since the table was loaded, for the total.
    pub total_delta: RwSignal<i64>,
    pub notice: RwSignal<Option<String>>,
    pub adding: RwSignal<bool>,
}

impl TabState {
    fn new(context: &TenantContext) -> Self {
        Self {
            tenant_id: StoredValue::new(context.tenant_id.clone()),
            can_write: context.can_write,
            expanded: RwSignal::new(None),
            added: RwSignal::new(Vec::new()),
            removed: RwSignal::new(Vec::new()),
            total_delta: RwSignal::new(0),
            notice: RwSignal::new(None),
            adding: RwSignal::new(false),
        }
    }

    pub fn tenant(&self) -> String {
        self.tenant_id.get_value()
    }

    /// A fresh table (another filter) starts again from the server's view.
    fn forget_local_changes(&self) {
        self.added.set(Vec::new());
        self.removed.set(Vec::new());
        self.total_delta.set(0);
    }
}

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    view! {
        <Title text="Applications · Clavis"/>
        <TenantGate section=Section::Applications page=|context| view! { <ApplicationsTab context=context/> }/>
    }
}

/// 10000 → "10,000".
fn thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0 { format!("-{out}") } else { out }
}

#[component]
fn ApplicationsTab(context: TenantContext) -> impl IntoView {
    let state = TabState::new(&context);
    let filter_text = RwSignal::new(String::new());
    let filter = RwSignal::new(String::new());
    let page = Resource::new(
        move || (state.tenant(), filter.get()),
        |(tenant_id, filter)| list_applications(tenant_id, filter, None),
    );
    let on_filter = move |ev: leptos::ev::Event| {
        let typed = event_target_value(&ev);
        filter_text.set(typed.clone());
        set_timeout(
            move || {
                if filter_text.get_untracked() == typed && filter.get_untracked() != typed {
                    state.forget_local_changes();
                    filter.set(typed);
                }
            },
            std::time::Duration::from_millis(FILTER_DEBOUNCE_MS),
        );
    };
    view! {
        <div class="mt-4 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Applications"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Services that get access tokens from this tenant with their client ID and secret."
                </p>
            </div>
            {state.can_write.then(|| view! {
                <button type="button" class=PRIMARY_BUTTON data-testid="add-application"
                    on:click=move |_| state.adding.set(true)>"Add application"</button>
            })}
        </div>
        <Notice notice=state.notice/>
        <div class="mt-6">
            <label for="app-filter" class="sr-only">"Filter applications"</label>
            <input id="app-filter" type="search" placeholder="Filter by name or client ID" autocomplete="off"
                data-testid="app-filter" prop:value=move || filter_text.get() on:input=on_filter
                class="block w-full max-w-sm rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500"/>
        </div>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading applications…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(list) => view! { <AppTable list=list state=state filter=filter.get_untracked()/> }.into_any(),
                    Err(err) => view! { <div class="mt-6"><ErrorMessage message=err.message/></div> }.into_any(),
                }
            })}
        </Transition>
        {move || state.adding.get().then(|| view! { <AddApplicationDialog state=state/> })}
    }
}

#[component]
fn AppTable(list: ApplicationList, state: TabState, filter: String) -> impl IntoView {
    let now = list.now_unix;
    let total = i64::try_from(list.total).unwrap_or(i64::MAX);
    let first = StoredValue::new(list.applications);
    let more = RwSignal::new(Vec::<Application>::new());
    let cursor = RwSignal::new(list.next_cursor);
    let loading_more = RwSignal::new(false);
    let more_error = RwSignal::new(None::<AppError>);
    let filter = StoredValue::new(filter);

    let rows = move || {
        let removed = state.removed.get();
        let mut seen = HashSet::new();
        state
            .added
            .get()
            .into_iter()
            .chain(first.get_value())
            .chain(more.get())
            .filter(|app| !removed.contains(&app.client_id) && seen.insert(app.client_id.clone()))
            .collect::<Vec<_>>()
    };
    let shown = move || rows().len();
    let load_more = move |_| {
        let Some(after) = cursor.get_untracked() else { return };
        loading_more.set(true);
        more_error.set(None);
        leptos::task::spawn_local(async move {
            match list_applications(state.tenant(), filter.get_value(), Some(after)).await {
                Ok(page) => {
                    more.update(|rows| rows.extend(page.applications));
                    cursor.set(page.next_cursor);
                }
                Err(err) => more_error.set(Some(err)),
            }
            loading_more.set(false);
        });
    };

    view! {
        {move || {
            if shown() > 0 {
                return None;
            }
            Some(if filter.get_value().trim().is_empty() {
                view! {
                    <div class="mt-6 rounded-xl border border-dashed border-slate-300 bg-white p-12 text-center" data-testid="empty-state">
                        <h2 class="text-base font-semibold">"No applications yet"</h2>
                        <p class="mt-1 text-sm text-slate-600">
                            {if state.can_write {
                                "Add an application to give a service its own client ID and secret."
                            } else {
                                "An admin of this tenant can add applications."
                            }}
                        </p>
                        {state.can_write.then(|| view! {
                            <button type="button" class=format!("mt-4 {PRIMARY_BUTTON}")
                                on:click=move |_| state.adding.set(true)>"Add application"</button>
                        })}
                    </div>
                }
                .into_any()
            } else {
                view! {
                    <p class="mt-6 rounded-xl bg-white p-8 text-center text-sm text-slate-600 ring-1 ring-slate-200" data-testid="no-match">
                        {format!("No applications match “{}”.", filter.get_value().trim())}
                    </p>
                }
                .into_any()
            })
        }}
        <Show when=move || { shown() > 0 }>
            <p class="mt-4 text-xs text-slate-500" data-testid="app-count">
                {move || format!("Showing {} of {} applications", thousands(shown() as i64), thousands(total + state.total_delta.get()))}
            </p>
            <div class=format!("mt-2 {TABLE_FRAME}")>
                <table class=TABLE data-testid="applications-table">
                    <TableHead columns=&["Name", "Client ID", "Created", "Last used", "Secret age"]/>
                    <For each=rows key=|app| app.client_id.clone()
                        children=move |app| view! { <AppRow app=app state=state now=now/> }/>
                </table>
            </div>
        </Show>
        {move || more_error.get().map(|err| view! { <div class="mt-3"><ErrorMessage message=err.message/></div> })}
        <Show when=move || cursor.get().is_some()>
            <div class="mt-4 text-center">
                <button type="button" class=SECONDARY_BUTTON data-testid="load-more"
                    disabled=move || loading_more.get() on:click=load_more>
                    {move || if loading_more.get() { "Loading…" } else { "Load more" }}
                </button>
            </div>
        </Show>
    }
}

/// "Add application": a name, then the new row opens with its credentials.
#[component]
fn AddApplicationDialog(state: TabState) -> impl IntoView {
    let form = NameForm::new(String::new());
    let NameForm { name, name_error, error, saving } = form;
    let close = Callback::new(move |()| state.adding.set(false));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(
            MAX_NAME_CHARS,
            move |name| create_application(state.tenant(), name),
            move |app: Application| {
                let client_id = app.client_id.clone();
                state.notice.set(Some(format!("Created {}. Its credentials are shown below.", app.name)));
                state.added.update(|added| added.insert(0, app));
                state.total_delta.update(|delta| *delta += 1);
                state.expanded.set(Some(client_id));
                state.adding.set(false);
            },
        );
    };
    view! {
        <Modal id="add-application" title="Add application" on_close=close>
            <form class="mt-4 space-y-4" on:submit=on_submit novalidate=true>
                <p class="text-sm text-slate-600">
                    "The application gets a client ID and a secret it exchanges for access tokens."
                </p>
                <NameField id="new-application-name" label="Name" value=name error=name_error/>
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
                <DialogActions on_cancel=close label="Save" busy_label="Saving…" busy=saving/>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1_000), "-1,000");
    }
}
