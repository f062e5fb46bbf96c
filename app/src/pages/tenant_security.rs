//! `/t/{tenant}/security`: the tenant's sign-in rules (whether its admins
//! must use two-factor sign-in) and whether DPoP proofs need server nonces.

use leptos::prelude::*;
use leptos_meta::Title;

use super::dpop_settings::DpopNonceSection;
use super::layout::{Section, TenantGate};
use crate::api::tenants::TenantContext;
use crate::api::totp::{set_tenant_security, tenant_security};
use crate::components::feedback::{ErrorMessage, Notice};

#[component]
pub fn TenantSecurityPage() -> impl IntoView {
    view! {
        <Title text="Security · Clavis"/>
        <TenantGate section=Section::Security page=|context| view! { <SecurityTab context=context/> }/>
    }
}

#[component]
fn SecurityTab(context: TenantContext) -> impl IntoView {
    let tenant_id = StoredValue::new(context.tenant_id.clone());
    let can_write = context.can_write;
    let required = Resource::new(move || tenant_id.get_value(), tenant_security);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let toggle = move |want: bool| {
        saving.set(true);
        error.set(None);
        notice.set(None);
        leptos::task::spawn_local(async move {
            match set_tenant_security(tenant_id.get_value(), want).await {
                Ok(now) => {
                    notice.set(Some(
                        if now {
                            "Admins now need two-factor sign-in."
                        } else {
                            "Admins no longer need two-factor sign-in."
                        }
                        .to_owned(),
                    ));
                    required.refetch();
                }
                Err(err) => error.set(Some(err.message)),
            }
            saving.set(false);
        });
    };
    view! {
        <h1 class="mt-1 text-2xl font-bold tracking-tight">"Security"</h1>
        <section class="mt-6 max-w-lg rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200" aria-labelledby="require-2fa-title">
            <h2 id="require-2fa-title" class="text-base font-semibold">"Two-factor sign-in for admins"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "When it is required, an admin without two-factor sign-in cannot open this tenant until they set it up. Viewers are not affected."
            </p>
            <Notice notice=notice/>
            <Suspense fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match required.await {
                        Ok(on) => view! {
                            <label class="mt-4 flex items-center gap-3 text-sm font-medium text-slate-700">
                                <input type="checkbox" class="h-4 w-4 rounded border-slate-300" data-testid="require-2fa"
                                    checked=on disabled=move || !can_write || saving.get()
                                    on:change=move |ev| toggle(event_target_checked(&ev))/>
                                "Require two-factor sign-in for admins"
                            </label>
                        }
                        .into_any(),
                        Err(err) => view! { <ErrorMessage message=err.message/> }.into_any(),
                    }
                })}
            </Suspense>
            {move || error.get().map(|message| view! { <div class="mt-3"><ErrorMessage message=message/></div> })}
        </section>
        <DpopNonceSection tenant_id=tenant_id.get_value() can_write=can_write/>
    }
}
