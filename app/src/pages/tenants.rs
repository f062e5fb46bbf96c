//! `/tenants`: for operators, every tenant, and creating a new one.

use leptos::prelude::*;
use leptos_meta::Title;

use super::layout::{OperatorGate, Section};
use crate::api::tenants::{TenantRow, create_tenant, list_tenants};
use crate::components::buttons::PRIMARY_BUTTON;
use crate::components::feedback::{ErrorMessage, Notice};
use crate::components::format::day;
use crate::components::name_field::{NameField, NameForm};
use crate::components::table::{TABLE, TABLE_FRAME, TableHead};

/// The longest tenant name, in characters (the domain's rule).
use clavis_types::MAX_TENANT_NAME_CHARS;

#[component]
pub fn TenantsPage() -> impl IntoView {
    view! {
        <Title text="Tenants · Clavis"/>
        <OperatorGate section=Section::Tenants page=|_| view! { <TenantsTab/> }/>
    }
}

#[component]
fn TenantsTab() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let tenants = Resource::new(move || reload.get(), |_| list_tenants());
    let notice = RwSignal::new(None::<String>);
    let form = NameForm::new(String::new());
    let NameForm { name, name_error, error, saving } = form;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.submit(MAX_TENANT_NAME_CHARS, create_tenant, move |tenant: TenantRow| {
            notice.set(Some(format!("Created tenant {}.", tenant.name)));
            name.set(String::new());
            reload.update(|n| *n += 1);
        });
    };
    view! {
        <div class="mt-4">
            <h1 class="text-2xl font-bold tracking-tight">"Tenants"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Each tenant has its own applications, signing keys, members and token endpoint."
            </p>
        </div>
        <Notice notice=notice/>
        <form class="mt-6 flex flex-wrap items-start gap-3 rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200"
            on:submit=on_submit novalidate=true>
            <div class="min-w-64 flex-1">
                <NameField id="tenant-name-input" label="New tenant name" value=name error=name_error
                    max_chars=MAX_TENANT_NAME_CHARS/>
            </div>
            // Level with the input, below the label row.
            <button type="submit" class=format!("sm:mt-6 {PRIMARY_BUTTON}") disabled=move || saving.get()>
                {move || if saving.get() { "Creating…" } else { "Create tenant" }}
            </button>
            <div class="basis-full">
                {move || error.get().map(|message| view! { <ErrorMessage message=message/> })}
            </div>
        </form>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading tenants…"</p> }>
            {move || Suspend::new(async move {
                match tenants.await {
                    Ok(rows) => view! {
                        <div class=format!("mt-6 {TABLE_FRAME}")>
                            <table class=TABLE data-testid="tenants-table">
                                <TableHead columns=&["Name", "Tenant ID", "Created"] action="Open"/>
                                <tbody>
                                    {rows.into_iter().map(|tenant| {
                                        let href = format!("/t/{}/applications", tenant.tenant_id);
                                        view! {
                                            <tr class="border-t border-slate-100" data-testid="tenant-row" data-tenant-id=tenant.tenant_id.clone()>
                                                <td class="px-4 py-3 font-medium">{tenant.name.clone()}</td>
                                                <td class="px-4 py-3 font-mono text-xs text-slate-600">{tenant.tenant_id.clone()}</td>
                                                <td class="px-4 py-3 text-slate-600">{day(&tenant.created_at)}</td>
                                                <td class="px-4 py-3 text-right">
                                                    <a href=href class="font-medium text-indigo-600 hover:text-indigo-500"
                                                        aria-label=format!("Open {}", tenant.name)>"Open"</a>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(err) => view! { <div class="mt-6"><ErrorMessage message=err.message/></div> }.into_any(),
                }
            })}
        </Transition>
    }
}
