//! `/`: sends the visitor to their tenant, or to sign in.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::auth::current_user;

#[component]
pub fn Home() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| view! { <p class="p-8 text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => match user.tenants.first() {
                        Some(home) => {
                            let path = format!("/t/{}/applications", home.tenant_id);
                            view! { <Redirect path=path/> }.into_any()
                        }
                        None if user.is_operator => view! { <Redirect path="/tenants"/> }.into_any(),
                        None => view! {
                            <p class="p-8">"Your account is not a member of any tenant yet. Ask an admin to add you."</p>
                        }.into_any(),
                    },
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(err) => view! { <p class="p-8 text-red-700" role="alert">{err.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
