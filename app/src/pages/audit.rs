//! `/t/{tenant}/audit`: the tenant's audit log, newest first, a page at a
//! time (`?before=ID` opens the page of older entries).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::layout::{Section, TenantGate};
use crate::api::audit::{AuditRow, list_audit, list_operator_audit};
use crate::api::auth::current_user;
use crate::api::tenants::TenantContext;
use crate::components::feedback::ErrorMessage;
use crate::components::format::timestamp;
use crate::components::table::{TABLE, TABLE_FRAME, TableHead};

#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Title text="Audit log · Clavis"/>
        <TenantGate section=Section::Audit page=|context| view! { <AuditTab context=context/> }/>
    }
}

/// A person's words for an audit action code.
pub fn action_label(action: &str) -> &str {
    match action {
        "application.create" => "Created an application",
        "application.rename" => "Renamed an application",
        "application.delete" => "Deleted an application",
        "application.management_access" => "Changed management access",
        "application.scopes" => "Changed an application's scopes",
        "application.identifier" => "Changed an application's identifier",
        "application.roles" => "Changed an application's roles",
        "role.create" => "Created a role",
        "role.update" => "Changed a role",
        "role.delete" => "Deleted a role",
        "config.tokens" => "Changed the token settings",
        "secret.rotate" => "Rotated a secret",
        "secret.revoke_previous" => "Revoked a previous secret",
        "secret.reveal" => "Revealed a secret",
        "member.add" => "Added a member",
        "member.role" => "Changed a member's role",
        "member.remove" => "Removed a member",
        "member.invite" => "Invited a member",
        "member.invite_accepted" => "Accepted an invitation",
        "member.invite_revoked" => "Revoked an invitation",
        "login.success" => "Signed in",
        "login.failure" => "Failed to sign in",
        "login.password_verified" => "Entered the right password",
        "login.second_factor_failure" => "Entered a wrong sign-in code",
        "second_factor.enabled" => "Turned on two-factor sign-in",
        "second_factor.enable_failure" => "Entered a wrong code setting up two-factor sign-in",
        "second_factor.disabled" => "Turned off two-factor sign-in",
        "second_factor.disable_failure" => "Failed to turn off two-factor sign-in",
        "second_factor.recovery_codes_regenerated" => "Made new recovery codes",
        "second_factor.recovery_codes_failure" => "Failed to make new recovery codes",
        "config.security" => "Changed the sign-in security settings",
        "password.change" => "Changed their password",
        "password.reset_link" => "Issued a password reset link",
        "password.reset" => "Reset their password",
        "tenant.create" => "Created the tenant",
        other => other,
    }
}

const LINK: &str =
    "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50";

#[component]
fn AuditTab(context: TenantContext) -> impl IntoView {
    let tenant = StoredValue::new(context.tenant_id.clone());
    let query = use_query_map();
    let before = move || query.read().get("before").and_then(|value| value.parse::<i64>().ok());
    let page =
        Resource::new(move || (tenant.get_value(), before()), |(tenant_id, before)| list_audit(tenant_id, before));
    let base = format!("/t/{}/audit", context.tenant_id);
    view! {
        <div class="mt-4">
            <h1 class="text-2xl font-bold tracking-tight">"Audit log"</h1>
            <p class="mt-1 text-sm text-slate-600">"Every change in this tenant, and every reveal of a secret: who, what, when, from where."</p>
        </div>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the audit log…"</p> }>
            {move || {
                let base = base.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(list) => {
                            let newer = before().is_some().then(|| view! { <a href=base.clone() class=LINK data-testid="audit-newest">"← Newest"</a> });
                            let older = list.older_before.map(|id| {
                                view! { <a href=format!("{base}?before={id}") class=LINK data-testid="audit-older">"Older →"</a> }
                            });
                            let empty = list.entries.is_empty();
                            view! {
                                <div class=format!("mt-6 {TABLE_FRAME}")>
                                    <table class=TABLE data-testid="audit-table">
                                        <TableHead columns=&["When", "Who", "What", "Target", "From", "Details"]/>
                                        <tbody>
                                            {list.entries.into_iter().map(|entry| entry_row(entry, "audit-row")).collect_view()}
                                        </tbody>
                                    </table>
                                    {empty.then(|| view! { <p class="p-8 text-center text-sm text-slate-600">"Nothing recorded yet."</p> })}
                                </div>
                                <nav class="mt-4 flex justify-between" aria-label="Audit log pages">
                                    <div>{newer}</div>
                                    <div>{older}</div>
                                </nav>
                            }.into_any()
                        }
                        Err(err) => view! { <div class="mt-6"><ErrorMessage message=err.message/></div> }.into_any(),
                    }
                })
            }}
        </Transition>
        <OperatorAudit/>
    }
}

/// One entry as a table row.
fn entry_row(entry: AuditRow, test_id: &'static str) -> impl IntoView {
    view! {
        <tr class="border-t border-slate-100 align-top" data-testid=test_id data-id=entry.id data-action=entry.action.clone()>
            <td class="whitespace-nowrap px-4 py-3 text-slate-600">
                <time datetime=entry.created_at.clone()>{timestamp(&entry.created_at)}</time>
            </td>
            <td class="px-4 py-3">{entry.actor.clone()}</td>
            <td class="px-4 py-3">
                <span class="font-medium">{action_label(&entry.action).to_owned()}</span>
                <span class="block font-mono text-xs text-slate-500">{entry.action.clone()}</span>
            </td>
            <td class="px-4 py-3 font-mono text-xs text-slate-600">{entry.target.clone()}</td>
            <td class="px-4 py-3 text-slate-600">{entry.source_addr.clone().unwrap_or_else(|| "—".to_owned())}</td>
            <td class="max-w-xs break-all px-4 py-3 font-mono text-xs text-slate-600">{entry.details.clone().unwrap_or_default()}</td>
        </tr>
    }
}

/// For operators: the newest acts about accounts rather than this tenant
/// (sign-ins, also of unknown emails; password changes and resets).
#[component]
fn OperatorAudit() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    let page = Resource::new(|| (), |_| list_operator_audit(None));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                if !me.await.ok().flatten().is_some_and(|user| user.is_operator) {
                    return ().into_any();
                }
                match page.await {
                    Ok(list) => view! {
                        <section class="mt-10" aria-labelledby="operator-audit-title">
                            <h2 id="operator-audit-title" class="text-lg font-semibold">"Account activity (operators only)"</h2>
                            <p class="mt-1 text-sm text-slate-600">"Sign-ins, password changes and resets of every account; no tenant sees these."</p>
                            <div class=format!("mt-3 {TABLE_FRAME}")>
                                <table class=TABLE data-testid="operator-audit-table">
                                    <TableHead columns=&["When", "Who", "What", "Target", "From", "Details"]/>
                                    <tbody>{list.entries.into_iter().map(|entry| entry_row(entry, "operator-audit-row")).collect_view()}</tbody>
                                </table>
                            </div>
                        </section>
                    }.into_any(),
                    Err(err) => view! { <div class="mt-6"><ErrorMessage message=err.message/></div> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::action_label;

    #[test]
    fn known_actions_read_as_words_and_unknown_ones_pass_through() {
        assert_eq!(action_label("secret.reveal"), "Revealed a secret");
        assert_eq!(action_label("something.new"), "something.new");
    }
}
