//! The account page's two-factor section: turn TOTP on (QR code, secret,
//! first code, recovery codes shown once), turn it off, new recovery codes.

use leptos::prelude::*;

use super::account::INPUT;
use crate::api::totp::{
    EnrolmentView, SecondFactorView, begin_totp_enrolment, confirm_totp_enrolment, disable_totp,
    regenerate_recovery_codes,
};
use crate::components::buttons::{DANGER_BUTTON, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::copy::CopyButton;
use crate::components::feedback::{ErrorMessage, Notice};
use crate::error::AppError;

const SECTION: &str = "mt-6 max-w-lg rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200";

/// The status a page gives [`AccountTotp`].
pub type SecondFactorResource = Resource<Result<SecondFactorView, AppError>>;

/// The two-factor section of `/account`. The page creates `status` outside
/// its `<Suspense>`: on the server that closure runs twice, and a resource
/// made inside would be fetched twice, the browser hydrating from the copy
/// the HTML was not rendered from.
#[component]
pub fn AccountTotp(status: SecondFactorResource) -> impl IntoView {
    // Recovery codes just made, shown until the person says they kept them.
    let fresh_codes = RwSignal::new(None::<Vec<String>>);
    let notice = RwSignal::new(None::<String>);
    view! {
        <section class=SECTION aria-labelledby="totp-title" data-testid="totp-section">
            <h2 id="totp-title" class="text-base font-semibold">"Two-factor sign-in"</h2>
            <Notice notice=notice/>
            {move || match fresh_codes.get() {
                Some(codes) => {
                    let on_done = move || {
                        fresh_codes.set(None);
                        status.refetch();
                    };
                    view! { <RecoveryCodeList codes=codes on_done=on_done/> }.into_any()
                }
                None => view! {
                    <Suspense fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match status.await {
                                Ok(view) if view.enabled => view! {
                                    <Enabled status=view fresh_codes=fresh_codes notice=notice on_off=move || status.refetch()/>
                                }
                                .into_any(),
                                Ok(view) => view! { <Enrol status=view fresh_codes=fresh_codes/> }.into_any(),
                                Err(err) => view! { <ErrorMessage message=err.message/> }.into_any(),
                            }
                        })}
                    </Suspense>
                }
                .into_any(),
            }}
        </section>
    }
}

/// Off: explain, then start an enrolment (with the current password, so a
/// stolen session alone cannot turn it on) and confirm it with a first code.
#[component]
fn Enrol(status: SecondFactorView, fresh_codes: RwSignal<Option<Vec<String>>>) -> impl IntoView {
    let enrolment = RwSignal::new(None::<EnrolmentView>);
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // Success replaces this component (codes shown, factor off), so what
    // runs after a call only tries its signals: they may be gone.
    let busy = RwSignal::new(false);
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match begin_totp_enrolment(password.get_untracked()).await {
                Ok(view) => {
                    password.try_set(String::new());
                    enrolment.try_set(Some(view));
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.try_set(false);
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match confirm_totp_enrolment(code.get_untracked()).await {
                Ok(codes) => fresh_codes.set(Some(codes.0)),
                Err(err) => error.set(Some(err.message)),
            }
            busy.try_set(false);
        });
    };
    view! {
        {status.setup_required.then(|| view! {
            <p class="mt-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-amber-200" role="status" data-testid="totp-setup-required">
                "A tenant you administer requires two-factor sign-in. Set up two-factor to continue."
            </p>
        })}
        <p class="mt-2 text-sm text-slate-600" data-testid="totp-status">
            "Off. With it on, signing in also asks for a code from an authenticator app on your phone."
        </p>
        {move || match enrolment.get() {
            None => view! {
                <form class="mt-3 space-y-3" on:submit=start novalidate=true>
                    <div>
                        <label for="totp-begin-password" class="block text-sm font-medium text-slate-700">"Current password"</label>
                        <input id="totp-begin-password" type="password" autocomplete="current-password" class=INPUT
                            data-testid="totp-begin-password"
                            prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                    </div>
                    <button type="submit" class=PRIMARY_BUTTON data-testid="totp-begin" disabled=move || busy.try_get().unwrap_or(true)>
                        "Set up two-factor sign-in"
                    </button>
                </form>
            }
            .into_any(),
            Some(view) => {
                let secret = view.secret_base32.clone();
                let copied = secret.clone();
                view! {
                    <div class="mt-3 space-y-3">
                        <p class="text-sm text-slate-700">"Scan this code with your authenticator app, or type the key in by hand."</p>
                        <img src=view.qr_data_url.clone() width="200" height="200" class="rounded ring-1 ring-slate-200"
                            alt="QR code that adds Clavis to an authenticator app" data-testid="totp-qr"/>
                        <div class="flex items-center gap-2">
                            <code class="rounded bg-slate-100 px-2 py-1 font-mono text-sm" data-testid="totp-secret">{secret}</code>
                            <CopyButton label="Copy the key" text=move || copied.clone()/>
                        </div>
                        <form class="space-y-3" on:submit=confirm novalidate=true>
                            <div>
                                <label for="totp-confirm-code" class="block text-sm font-medium text-slate-700">"Code from the app"</label>
                                <input id="totp-confirm-code" type="text" autocomplete="one-time-code" inputmode="numeric" maxlength="6"
                                    class=INPUT data-testid="totp-confirm-code"
                                    prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
                            </div>
                            <button type="submit" class=PRIMARY_BUTTON data-testid="totp-confirm" disabled=move || busy.try_get().unwrap_or(true)>
                                "Turn on"
                            </button>
                        </form>
                    </div>
                }
                .into_any()
            }
        }}
        {move || error.get().map(|message| view! { <div class="mt-3"><ErrorMessage message=message/></div> })}
    }
}

/// On: how many recovery codes are left, new ones, and turning it off.
#[component]
fn Enabled<F>(
    status: SecondFactorView,
    fresh_codes: RwSignal<Option<Vec<String>>>,
    notice: RwSignal<Option<String>>,
    on_off: F,
) -> impl IntoView
where
    F: Fn() + Copy + Send + Sync + 'static,
{
    let regenerate_code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let disable_code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let regenerate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match regenerate_recovery_codes(regenerate_code.get_untracked()).await {
                Ok(codes) => fresh_codes.set(Some(codes.0)),
                Err(err) => error.set(Some(err.message)),
            }
            busy.try_set(false);
        });
    };
    let disable = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match disable_totp(password.get_untracked(), disable_code.get_untracked()).await {
                Ok(()) => {
                    notice.set(Some("Two-factor sign-in is off.".to_owned()));
                    on_off();
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.try_set(false);
        });
    };
    view! {
        <p class="mt-2 text-sm text-slate-600" data-testid="totp-status">
            {format!("On. {} recovery codes left.", status.recovery_codes_left)}
        </p>
        {move || error.get().map(|message| view! { <div class="mt-3"><ErrorMessage message=message/></div> })}
        <form class="mt-4 space-y-3" on:submit=regenerate novalidate=true aria-labelledby="totp-regenerate-title">
            <h3 id="totp-regenerate-title" class="text-sm font-semibold">"New recovery codes"</h3>
            <div>
                <label for="totp-regenerate-code" class="block text-sm font-medium text-slate-700">"Code from your authenticator app"</label>
                <input id="totp-regenerate-code" type="text" autocomplete="one-time-code" inputmode="numeric" class=INPUT
                    data-testid="totp-regenerate-code"
                    prop:value=move || regenerate_code.get() on:input=move |ev| regenerate_code.set(event_target_value(&ev))/>
            </div>
            <button type="submit" class=SECONDARY_BUTTON data-testid="totp-regenerate" disabled=move || busy.try_get().unwrap_or(true)>
                "Make new recovery codes"
            </button>
        </form>
        <form class="mt-6 space-y-3" on:submit=disable novalidate=true aria-labelledby="totp-disable-title">
            <h3 id="totp-disable-title" class="text-sm font-semibold">"Turn off two-factor sign-in"</h3>
            <div>
                <label for="totp-disable-password" class="block text-sm font-medium text-slate-700">"Current password"</label>
                <input id="totp-disable-password" type="password" autocomplete="current-password" class=INPUT
                    data-testid="totp-disable-password"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            </div>
            <div>
                <label for="totp-disable-code" class="block text-sm font-medium text-slate-700">"Code from your app, or a recovery code"</label>
                <input id="totp-disable-code" type="text" autocomplete="one-time-code" class=INPUT data-testid="totp-disable-code"
                    prop:value=move || disable_code.get() on:input=move |ev| disable_code.set(event_target_value(&ev))/>
            </div>
            <button type="submit" class=DANGER_BUTTON data-testid="totp-disable" disabled=move || busy.try_get().unwrap_or(true)>
                "Turn off"
            </button>
        </form>
    }
}

/// Recovery codes, shown once, with a way to copy them all.
#[component]
fn RecoveryCodeList<F>(codes: Vec<String>, on_done: F) -> impl IntoView
where
    F: Fn() + Copy + Send + Sync + 'static,
{
    let all = codes.join("\n");
    let items = codes
        .into_iter()
        .map(|code| view! { <li class="font-mono text-sm" data-testid="recovery-code-item">{code}</li> })
        .collect_view();
    view! {
        <div class="mt-3 space-y-3" data-testid="recovery-codes">
            <p class="text-sm text-slate-700">
                "Two-factor sign-in is on. Keep these recovery codes somewhere safe: each one signs you in once if you lose your phone. They are shown only now."
            </p>
            <ul class="grid grid-cols-2 gap-1 rounded-md bg-slate-50 p-3 ring-1 ring-slate-200">{items}</ul>
            <div class="flex items-center gap-2">
                <CopyButton label="Copy the recovery codes" text=move || all.clone() test_id="copy-recovery-codes"/>
                <button type="button" class=PRIMARY_BUTTON data-testid="recovery-codes-done" on:click=move |_| on_done()>
                    "I have kept them"
                </button>
            </div>
        </div>
    }
}
