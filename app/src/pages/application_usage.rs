//! An application's tokens per minute over the last hour, as a bar chart in
//! its expanded row: the quickest way to see whether a service is calling
//! (and whether it still uses a secret that is about to be rotated away).

use leptos::prelude::*;

use crate::api::applications::{Usage, application_usage};
use crate::components::buttons::SMALL_BUTTON;
use crate::components::format::clock_time;

#[component]
pub fn UsageChart(tenant_id: String, client_id: String) -> impl IntoView {
    let usage = RwSignal::new(None::<Result<Usage, String>>);
    let ids = StoredValue::new((tenant_id, client_id));
    let load = move || {
        let (tenant_id, client_id) = ids.get_value();
        leptos::task::spawn_local(async move {
            usage.set(Some(application_usage(tenant_id, client_id).await.map_err(|err| err.message)));
        });
    };
    // Effects run only in the browser: the row is opened there, so the
    // chart loads when it is first shown and never during a server render.
    Effect::new(move |_| load());

    view! {
        <div class="rounded-lg bg-white p-4 text-sm ring-1 ring-slate-200" data-testid="usage">
            <div class="flex items-center justify-between">
                <h2 class="font-semibold text-slate-800">"Tokens issued, last hour"</h2>
                <button type="button" class=SMALL_BUTTON on:click=move |_| load()>"Refresh"</button>
            </div>
            {move || match usage.get() {
                None => view! { <p class="mt-2 text-slate-500">"Loading…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="mt-2 text-red-700" role="alert">{message}</p> }.into_any(),
                Some(Ok(usage)) => view! { <Bars usage=usage/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn Bars(usage: Usage) -> impl IntoView {
    let peak = usage.per_minute.iter().copied().max().unwrap_or(0).max(1);
    let last = usage.from_unix + 60 * (usage.per_minute.len() as i64 - 1).max(0);
    let summary = match usage.per_minute.iter().sum::<i64>() {
        0 => "No tokens in the last hour.".to_owned(),
        1 => "1 token in the last hour.".to_owned(),
        total => format!("{total} tokens in the last hour, at most {peak} in one minute."),
    };
    let bars = usage
        .per_minute
        .iter()
        .enumerate()
        .map(|(index, &count)| {
            let minute = usage.from_unix + 60 * index as i64;
            // Any use shows at least a sliver, so one call is not lost next
            // to a busy minute.
            let height = if count == 0 { 0 } else { (count * 100 / peak).max(4) };
            view! {
                <div class="flex h-full flex-1 items-end" title=format!("{} · {count}", clock_time(minute))>
                    // An SVG bar, not a `style` height: the page's CSP admits no inline styles.
                    <svg class="h-full w-full" viewBox="0 0 1 100" preserveAspectRatio="none" aria-hidden="true">
                        <rect x="0" y=(100 - height).to_string() width="1" height=height.to_string() class="fill-indigo-500"/>
                    </svg>
                </div>
            }
        })
        .collect_view();
    view! {
        <p class="mt-1 text-slate-600" data-testid="usage-summary">{summary.clone()}</p>
        <div class="mt-3 flex h-16 items-end gap-px border-b border-slate-200" role="img" aria-label=summary>
            {bars}
        </div>
        <div class="mt-1 flex justify-between text-xs text-slate-500">
            <span>{clock_time(usage.from_unix)}</span>
            <span>{clock_time(last)}</span>
        </div>
    }
}
