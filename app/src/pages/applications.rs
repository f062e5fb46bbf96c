//! `/t/{tenant}/applications`: the tenant's applications.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

use super::layout::TenantLayout;
use super::not_found::NotFound;
use crate::api::auth::current_user;
use crate::error::ErrorKind;

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let params = use_params_map();
    let tenant_id = move || params.read().get("tenant").unwrap_or_default();
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Title text="Applications · Clavis"/>
        <Suspense fallback=|| view! { <p class="p-8 text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let tenant = tenant_id();
                match user.await {
                    Ok(Some(user)) if user.tenants.iter().any(|t| t.tenant_id == tenant) => view! {
                        <TenantLayout user=user tenant_id=tenant>
                            <div class="mt-4 flex items-center justify-between">
                                <h2 class="text-2xl font-bold tracking-tight">"Applications"</h2>
                            </div>
                            <div class="mt-6 rounded-xl border border-dashed border-slate-300 bg-white p-12 text-center">
                                <p class="text-slate-600">"No applications yet."</p>
                            </div>
                        </TenantLayout>
                    }.into_any(),
                    Ok(Some(_)) => view! { <NotFound/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(err) if err.kind == ErrorKind::Unauthenticated => view! { <Redirect path="/login"/> }.into_any(),
                    Err(err) => view! { <p class="p-8 text-red-700" role="alert">{err.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
