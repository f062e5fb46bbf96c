//! Identifiers Clavis hands out: tenant and client IDs are random UUIDs, so
//! anything else names nothing and is answered without a query (and without
//! growing a cache or a throttle).

/// Whether `id` has the form of an ID Clavis issues.
pub(crate) fn could_exist(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
}
