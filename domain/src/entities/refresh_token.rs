//! A refresh token, stored as the SHA-256 digest of the opaque value the
//! client holds; tokens rotated from one another share a family.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub family_id: String,
    pub user_id: String,
    pub client_id: String,
    pub token_digest: String,
    /// The scopes the client asked for at sign-in (`None`: all granted).
    pub scope: Option<String>,
    pub audience: Option<String>,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    /// When it was exchanged for its successor; a second use revokes the family.
    pub used_at: Option<i64>,
}

// The digest stays out of Debug output: it names the one row a token opens.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("id", &self.id)
            .field("family_id", &self.family_id)
            .field("user_id", &self.user_id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
