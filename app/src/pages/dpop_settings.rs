//! The tenant's DPoP setting on the Security page: whether DPoP proofs at
//! its token endpoint must carry a nonce the server handed out (RFC 9449
//! §8), which keeps a proof made in advance from being used later.

use leptos::prelude::*;

use crate::api::trusted_issuers::{dpop_nonce_required, set_dpop_nonce_required};
use crate::components::feedback::ErrorMessage;

#[component]
pub fn DpopNonceSection(tenant_id: String, can_write: bool) -> impl IntoView {
    let tenant_id = StoredValue::new(tenant_id);
    let required = Resource::new(move || tenant_id.get_value(), dpop_nonce_required);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let toggle = move |want: bool| {
        saving.set(true);
        error.set(None);
        notice.set(None);
        leptos::task::spawn_local(async move {
            match set_dpop_nonce_required(tenant_id.get_value(), want).await {
                Ok(now) => {
                    notice.set(Some(
                        if now {
                            "DPoP proofs now need a server nonce."
                        } else {
                            "DPoP proofs no longer need a server nonce."
                        }
                        .to_owned(),
                    ));
                    required.refetch();
                }
                Err(err) => {
                    error.set(Some(err.message));
                    required.refetch();
                }
            }
            saving.set(false);
        });
    };
    view! {
        <section class="mt-6 max-w-lg rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200" aria-labelledby="dpop-nonce-title">
            <h2 id="dpop-nonce-title" class="text-base font-semibold">"DPoP nonces"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "When they are required, a token request with a DPoP proof must carry a nonce from the server: the first request is answered with use_dpop_nonce and a DPoP-Nonce header, and the client sends its proof again with it."
            </p>
            // Its own live region: the page's other section has the `notice` one.
            <div role="status" aria-live="polite" data-testid="dpop-notice">
                {move || notice.get().map(|text| view! {
                    <p class="mt-4 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 ring-1 ring-emerald-200">{text}</p>
                })}
            </div>
            <Suspense fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match required.await {
                        Ok(on) => view! {
                            <label class="mt-4 flex items-center gap-3 text-sm font-medium text-slate-700">
                                <input type="checkbox" class="h-4 w-4 rounded border-slate-300" data-testid="require-dpop-nonce"
                                    checked=on disabled=move || !can_write || saving.get()
                                    on:change=move |ev| toggle(event_target_checked(&ev))/>
                                "Require DPoP nonces"
                            </label>
                        }
                        .into_any(),
                        Err(err) => view! { <ErrorMessage message=err.message/> }.into_any(),
                    }
                })}
            </Suspense>
            {move || error.get().map(|message| view! { <div class="mt-3"><ErrorMessage message=message/></div> })}
        </section>
    }
}
