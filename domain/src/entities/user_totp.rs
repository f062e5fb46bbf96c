//! A user's TOTP second factor: the sealed secret, pending until confirmed.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_totp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    pub sealed_secret: String,
    pub created_at: i64,
    pub enabled_at: Option<i64>,
    /// The last 30-second step a code was accepted for: no code of it or
    /// of an earlier step is accepted again.
    pub last_used_step: Option<i64>,
}

// Even sealed, the secret stays out of Debug output.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserTotp")
            .field("user_id", &self.user_id)
            .field("enabled_at", &self.enabled_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
