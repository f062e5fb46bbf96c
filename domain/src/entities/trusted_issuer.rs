//! A workload-identity issuer a tenant trusts (a Kubernetes cluster, GitHub
//! Actions, a SPIFFE trust domain): where its signing keys come from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "trusted_issuers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// The `iss` its tokens carry, exactly.
    pub issuer: String,
    /// Where its JWKS is fetched; with neither this nor `jwks`, the keys come
    /// from the issuer's OpenID discovery document.
    pub jwks_uri: Option<String>,
    /// Static public keys: a JWKS as JSON.
    pub jwks: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
