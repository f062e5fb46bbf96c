//! The chrome around tenant pages: tenant switcher, the user, sign-out.

use leptos::prelude::*;

use crate::api::auth::{Logout, SessionUserView};

#[component]
pub fn TenantLayout(user: SessionUserView, tenant_id: String, children: Children) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let current = user.tenants.iter().find(|t| t.tenant_id == tenant_id).cloned();
    let tenant_name = current.as_ref().map(|t| t.name.clone()).unwrap_or_default();
    let role = current.as_ref().map(|t| t.role.clone()).unwrap_or_default();
    let options = user
        .tenants
        .iter()
        .map(|t| {
            let selected = t.tenant_id == tenant_id;
            let href = format!("/t/{}/applications", t.tenant_id);
            view! { <option value=href selected=selected>{t.name.clone()}</option> }
        })
        .collect_view();
    let switch_tenant = move |ev: leptos::ev::Event| {
        let target = event_target_value(&ev);
        let navigate = leptos_router::hooks::use_navigate();
        navigate(&target, Default::default());
    };
    let applications_href = format!("/t/{tenant_id}/applications");
    view! {
        <div class="min-h-screen">
            <header class="border-b border-slate-200 bg-white">
                <div class="mx-auto flex max-w-6xl items-center gap-4 px-6 py-3">
                    <a href="/" class="flex items-center gap-2 font-bold">
                        <span class="flex h-8 w-8 items-center justify-center rounded-lg bg-indigo-600 text-white">"C"</span>
                        "Clavis"
                    </a>
                    <label class="sr-only" for="tenant-switcher">"Tenant"</label>
                    <select id="tenant-switcher" data-testid="tenant-switcher" on:change=switch_tenant
                        class="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm">
                        {options}
                    </select>
                    <nav class="flex gap-4 text-sm">
                        <a href=applications_href class="font-medium text-slate-700 hover:text-indigo-600">"Applications"</a>
                    </nav>
                    <div class="ml-auto flex items-center gap-3 text-sm">
                        <span class="text-slate-600" data-testid="user-email">{user.email.clone()}</span>
                        <span class="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-600">{role}</span>
                        <ActionForm action=logout>
                            <button type="submit" data-testid="logout"
                                class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50">"Sign out"</button>
                        </ActionForm>
                    </div>
                </div>
            </header>
            <main class="mx-auto max-w-6xl px-6 py-8">
                <h1 class="sr-only">{tenant_name.clone()}</h1>
                <p class="text-sm text-slate-500" data-testid="tenant-name">{tenant_name}</p>
                {children()}
            </main>
        </div>
    }
}
