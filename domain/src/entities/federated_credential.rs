//! A federated credential: tokens of one trusted issuer, for one subject and
//! audience, authenticate one application.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federated_credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub client_id: String,
    pub issuer_id: String,
    /// The `sub` the issuer's token must carry, exactly.
    pub subject: String,
    /// A value the token's `aud` must contain.
    pub audience: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
