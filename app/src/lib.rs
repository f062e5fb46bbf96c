//! The Clavis dashboard: Leptos pages, components and server functions.
//!
//! Server functions are thin: each checks the session and calls one domain
//! service (see `ssr`), so the dashboard and the REST API share every rule.
// The server renders each gated page as one `Suspend` (see
// `pages::layout::render_once`), whose nested view types go deeper than the
// default limit allows.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

pub use error::AppError;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Browser tests wait for this marker: clicks before hydration are lost.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/clavis.css"/>
        <Title text="Clavis"/>
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/") view=pages::home::Home/>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                // Async: the server waits for the data before sending headers,
                // so a tenant the user cannot see answers 404, not 200.
                <Route path=path!("/t/:tenant/applications") view=pages::applications::ApplicationsPage ssr=SsrMode::Async/>
                <Route path=path!("/t/:tenant/roles") view=pages::roles::RolesPage ssr=SsrMode::Async/>
                <Route path=path!("/t/:tenant/users") view=pages::users::UsersPage ssr=SsrMode::Async/>
                <Route path=path!("/t/:tenant/trusted-issuers") view=pages::trusted_issuers::TrustedIssuersPage ssr=SsrMode::Async/>
                <Route path=path!("/t/:tenant/keys") view=pages::keys::KeysPage ssr=SsrMode::Async/>
                <Route path=path!("/t/:tenant/members") view=pages::members::MembersPage ssr=SsrMode::Async/>
                <Route path=path!("/t/:tenant/audit") view=pages::audit::AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/t/:tenant/security") view=pages::tenant_security::TenantSecurityPage ssr=SsrMode::Async/>
                <Route path=path!("/tenants") view=pages::tenants::TenantsPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=pages::account::AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/invite/:token") view=pages::invite::InvitePage ssr=SsrMode::Async/>
                <Route path=path!("/reset/:token") view=pages::reset::ResetPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
