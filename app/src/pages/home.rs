//! `/`: sends the visitor to their tenant, or to sign in.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::auth::current_user;
use crate::components::feedback::ErrorMessage;

#[component]
pub fn Home() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| view! { <main><p class="p-8 text-slate-500">"Loading…"</p></main> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => match user.tenants.first() {
                        Some(home) => {
                            let path = format!("/t/{}/applications", home.tenant_id);
                            view! { <Redirect path=path/> }.into_any()
                        }
                        None if user.is_operator => view! { <Redirect path="/tenants"/> }.into_any(),
                        None => view! {
                            <main class="mx-auto mt-24 max-w-md space-y-2 px-6" data-testid="no-tenant">
                                <h1 class="text-2xl font-bold">"No tenant yet"</h1>
                                <p>"Your account is not a member of any tenant yet. Ask an admin to add you."</p>
                            </main>
                        }.into_any(),
                    },
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(err) => view! {
                        <main class="mx-auto mt-24 max-w-md space-y-4 px-6">
                            <h1 class="text-2xl font-bold">"Something went wrong"</h1>
                            <ErrorMessage message=err.message/>
                        </main>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
