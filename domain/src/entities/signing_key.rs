//! A tenant's token-signing key pair; the private half is sealed at rest.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub tenant_id: String,
    pub alg: String,
    /// `active` (signs new tokens), `next` (published ahead, signs from
    /// `activates_at`), `retired` (published until `publish_until`) or `revoked`.
    pub status: String,
    pub sealed_private_key: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub publish_until: Option<i64>,
    /// When a scheduled key starts (or started) signing.
    pub activates_at: Option<i64>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("tenant_id", &self.tenant_id)
            .field("alg", &self.alg)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
