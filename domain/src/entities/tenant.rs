//! A tenant: an isolated issuer with its own applications, keys and admins.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub signing_alg: String,
    pub token_lifetime_secs: i64,
    pub default_scope: String,
    /// Whether admins (and operators) must have a second factor to open it.
    pub require_admin_second_factor: bool,
    /// Whether the password grant issues refresh tokens.
    pub refresh_enabled: bool,
    pub refresh_lifetime_secs: i64,
    /// The Cloud Directory's password policy.
    pub directory_password_min_chars: i32,
    pub directory_reject_common_passwords: bool,
    /// Days between scheduled key rotations; none when rotation is off.
    pub key_rotation_days: Option<i32>,
    /// Whether every DPoP proof must carry a nonce this server issued.
    pub dpop_nonce_required: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
