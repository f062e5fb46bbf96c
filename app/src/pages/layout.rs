//! The chrome around signed-in pages (tenant switcher, navigation, the
//! user, sign-out) and the gates that decide what a URL may show.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

use super::not_found::NotFound;
use crate::api::auth::{Logout, SessionUserView, current_user};
use crate::api::tenants::{TenantContext, open_tenant};
use crate::components::feedback::ErrorMessage;
use crate::error::{AppError, ErrorKind};

/// The section a page belongs to, for the navigation's highlight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Applications,
    Roles,
    Users,
    TrustedIssuers,
    Keys,
    Members,
    Audit,
    Security,
    Tenants,
    Account,
}

impl Section {
    fn tenant_path(self) -> &'static str {
        match self {
            Section::Roles => "roles",
            Section::Users => "users",
            Section::TrustedIssuers => "trusted-issuers",
            Section::Keys => "keys",
            Section::Members => "members",
            Section::Audit => "audit",
            Section::Security => "security",
            Section::Applications | Section::Tenants | Section::Account => "applications",
        }
    }
}

fn nav_link(href: String, label: &'static str, active: bool) -> impl IntoView {
    let class = if active {
        "border-b-2 border-indigo-600 pb-1 font-semibold text-indigo-700"
    } else {
        "border-b-2 border-transparent pb-1 font-medium text-slate-600 hover:text-indigo-600"
    };
    view! { <a href=href class=class aria-current=if active { Some("page") } else { None }>{label}</a> }
}

/// The header and main column of every signed-in page.
#[component]
pub fn Chrome(
    user: SessionUserView,
    tenant: Option<TenantContext>,
    section: Section,
    children: Children,
) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let current_id = tenant.as_ref().map(|t| t.tenant_id.clone()).unwrap_or_default();
    let membership = user.tenants.iter().find(|t| t.tenant_id == current_id).cloned();
    let role = match (&membership, user.is_operator) {
        (Some(m), _) => m.role.clone(),
        (None, true) => "operator".to_owned(),
        (None, false) => String::new(),
    };
    // Operators may open tenants they are not members of; list that one too.
    let mut choices: Vec<(String, String)> =
        user.tenants.iter().map(|t| (t.tenant_id.clone(), t.name.clone())).collect();
    if let Some(t) = &tenant
        && membership.is_none()
    {
        choices.insert(0, (t.tenant_id.clone(), t.name.clone()));
    }
    let path_part = section.tenant_path();
    let options = choices
        .into_iter()
        .map(|(id, name)| {
            let selected = id == current_id;
            let href = format!("/t/{id}/{path_part}");
            view! { <option value=href selected=selected>{name}</option> }
        })
        .collect_view();
    let switch_tenant = move |ev: leptos::ev::Event| {
        let target = event_target_value(&ev);
        if !target.is_empty() {
            let navigate = leptos_router::hooks::use_navigate();
            navigate(&target, Default::default());
        }
    };
    let links = tenant.as_ref().map(|t| {
        let base = format!("/t/{}", t.tenant_id);
        view! {
            {nav_link(format!("{base}/applications"), "Applications", section == Section::Applications)}
            {nav_link(format!("{base}/roles"), "Roles", section == Section::Roles)}
            {nav_link(format!("{base}/users"), "Users", section == Section::Users)}
            {nav_link(format!("{base}/trusted-issuers"), "Trusted issuers", section == Section::TrustedIssuers)}
            {nav_link(format!("{base}/keys"), "Signing keys", section == Section::Keys)}
            {t.can_write.then(|| nav_link(format!("{base}/members"), "Members", section == Section::Members))}
            {nav_link(format!("{base}/audit"), "Audit log", section == Section::Audit)}
            {t.can_write.then(|| nav_link(format!("{base}/security"), "Security", section == Section::Security))}
        }
    });
    let tenants_link =
        user.is_operator.then(|| nav_link("/tenants".to_owned(), "Tenants", section == Section::Tenants));
    let tenant_name = tenant.as_ref().map(|t| t.name.clone());
    view! {
        <div class="min-h-screen">
            <header class="border-b border-slate-200 bg-white">
                <div class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-6 py-3">
                    <a href="/" class="flex items-center gap-2 font-bold">
                        <span class="flex h-8 w-8 items-center justify-center rounded-lg bg-indigo-600 text-white">"C"</span>
                        "Clavis"
                    </a>
                    <label class="sr-only" for="tenant-switcher">"Tenant"</label>
                    <select id="tenant-switcher" data-testid="tenant-switcher" on:change=switch_tenant
                        class="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm">
                        {tenant.is_none().then(|| view! { <option value="" selected=true disabled=true>"Choose a tenant"</option> })}
                        {options}
                    </select>
                    <nav class="flex gap-5 pt-1 text-sm" aria-label="Sections">
                        {links}
                        {tenants_link}
                    </nav>
                    <div class="ml-auto flex items-center gap-3 text-sm">
                        <a href="/account" class="text-slate-600 hover:text-indigo-600" data-testid="user-email" aria-current=(section == Section::Account).then_some("page")>{user.email.clone()}</a>
                        {(!role.is_empty()).then(|| view! {
                            <span class="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-600" data-testid="user-role">{role}</span>
                        })}
                        <ActionForm action=logout>
                            <button type="submit" data-testid="logout"
                                class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50">"Sign out"</button>
                        </ActionForm>
                    </div>
                </div>
            </header>
            <main class="mx-auto max-w-6xl px-6 py-8">
                {tenant_name.map(|name| view! {
                    <p class="text-sm text-slate-500" data-testid="tenant-name">{name}</p>
                })}
                {children()}
            </main>
        </div>
    }
}

fn loading() -> impl IntoView {
    view! { <main><p class="p-8 text-slate-500">"Loading…"</p></main> }
}

/// What a gate shows when it cannot show the page.
fn refusal(err: AppError) -> AnyView {
    match err.kind {
        ErrorKind::Unauthenticated => view! { <Redirect path="/login"/> }.into_any(),
        ErrorKind::NotFound | ErrorKind::Forbidden => view! { <NotFound/> }.into_any(),
        ErrorKind::SecondFactorRequired => view! {
            <main class="mx-auto mt-24 max-w-md space-y-4 px-6" data-testid="second-factor-required">
                <h1 class="text-2xl font-bold">"Set up two-factor to continue"</h1>
                <p class="text-sm text-slate-600">{err.message}</p>
                <a href="/account" class="text-sm font-medium text-indigo-600 hover:text-indigo-500">"Set up two-factor sign-in"</a>
            </main>
        }
        .into_any(),
        _ => view! {
            <main class="mx-auto mt-24 max-w-md space-y-4 px-6">
                <h1 class="text-2xl font-bold">"Something went wrong"</h1>
                <ErrorMessage message=err.message/>
                <a href="" class="text-sm font-medium text-indigo-600 hover:text-indigo-500">"Try again"</a>
            </main>
        }
        .into_any(),
    }
}

/// A page under `/t/{tenant}/…`: signs the visitor in, checks (on the
/// server) that they may see the tenant, and renders `page` inside the
/// chrome. A tenant they cannot see shows the not-found page and nothing
/// of its data: `page` is never called for it.
#[component]
pub fn TenantGate<F, V>(section: Section, page: F) -> impl IntoView
where
    F: Fn(TenantContext) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let params = use_params_map();
    let tenant_id = move || params.read().get("tenant").unwrap_or_default();
    let user = Resource::new(|| (), |_| current_user());
    let tenant = Resource::new(tenant_id, open_tenant);
    let gate = move || {
        let page = page.clone();
        Suspend::new(async move {
            let user = match user.await {
                Ok(Some(user)) => user,
                Ok(None) => return refusal(AppError::unauthenticated()),
                Err(err) => return refusal(err),
            };
            match tenant.await {
                Ok(context) => view! {
                    <Chrome user=user tenant=Some(context.clone()) section=section>{page(context)}</Chrome>
                }
                .into_any(),
                Err(err) => refusal(err),
            }
        })
    };
    #[cfg(feature = "ssr")]
    let gate = render_once(gate);
    view! { <Suspense fallback=loading>{gate}</Suspense> }
}

/// On the server a closure inside `<Suspense>` is called twice (once to find
/// the resources it reads, once to render), and each call would build the
/// page again, with resources of its own: the HTML came from the second
/// copy while the browser hydrated from the first copy's data, a hydration
/// mismatch whenever the two reads differed (a flaky Roles page). The server
/// renders one `Suspend`, whose body runs once; the browser keeps the
/// closure, so another tenant in the URL renders that tenant's page.
#[cfg(feature = "ssr")]
fn render_once<V>(gate: impl Fn() -> Suspend<V>) -> Suspend<V> {
    gate()
}

/// A page for operators only; anyone else sees the not-found page.
#[component]
pub fn OperatorGate<F, V>(section: Section, page: F) -> impl IntoView
where
    F: Fn(SessionUserView) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let user = Resource::new(|| (), |_| current_user());
    let gate = move || {
        let page = page.clone();
        Suspend::new(async move {
            match user.await {
                Ok(Some(user)) if user.is_operator => view! {
                    <Chrome user=user.clone() tenant=None section=section>{page(user)}</Chrome>
                }
                .into_any(),
                Ok(Some(_)) => view! { <NotFound/> }.into_any(),
                Ok(None) => refusal(AppError::unauthenticated()),
                Err(err) => refusal(err),
            }
        })
    };
    // See `render_once`.
    #[cfg(feature = "ssr")]
    let gate = render_once(gate);
    view! { <Suspense fallback=loading>{gate}</Suspense> }
}
