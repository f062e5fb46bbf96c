//! An end user of a tenant's Cloud Directory (not a dashboard admin).

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub profile_id: String,
    pub tenant_id: String,
    pub email: String,
    /// The lower-cased email: unique per tenant.
    pub email_key: String,
    pub user_name: String,
    pub given_name: String,
    pub family_name: String,
    pub password_hash: String,
    pub active: bool,
    pub status: String,
    pub password_changed_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

// The password hash stays out of Debug output so it cannot reach a log line.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryUser")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.email)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
