//! An application (OAuth client) registered in a tenant.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    pub tenant_id: String,
    pub name: String,
    pub management_access: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_used_at: Option<i64>,
    pub tokens_issued: i64,
    /// Auth0's API identifier: another name a token request may use for it.
    pub identifier: Option<String>,
    /// The scopes it defines as a protected application: a JSON array.
    pub scopes: String,
    /// Tokens issued to it at or before this Unix second are revoked.
    pub tokens_revoked_before: Option<i64>,
    /// Its public keys (a JWKS as JSON) when it authenticates with
    /// `private_key_jwt`; it then has no secret.
    pub jwks: Option<String>,
    /// Where its JWKS is fetched, instead of `jwks`.
    pub jwks_uri: Option<String>,
    /// Its tokens must be DPoP-bound: Bearer requests are refused.
    pub dpop_required: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
