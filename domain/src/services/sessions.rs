//! Dashboard sessions in the database, so a session survives restarts and
//! works on every Clavis process sharing the database. The session layer of
//! the HTTP adapter stores its opaque records through these calls; expiry is
//! judged by the injected clock.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use super::Services;
use super::tenants::at;
use crate::Result;
use crate::entities::session;

/// One stored session: its encoded data and when it ends.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session layer's encoding of the session's values.
    pub data: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

impl Services {
    /// Whether a session with `id` is stored (expired or not): a new
    /// session must never reuse an ID and hand one user another's session.
    pub async fn session_exists(&self, id: &str) -> Result<bool> {
        Ok(session::Entity::find_by_id(id.to_owned()).one(self.db()).await?.is_some())
    }

    /// Stores (or replaces) a session.
    pub async fn save_session(&self, id: &str, record: &SessionRecord) -> Result<()> {
        let model = session::ActiveModel {
            id: Set(id.to_owned()),
            data: Set(record.data.clone()),
            expires_at: Set(record.expires_at.timestamp()),
        };
        session::Entity::insert(model)
            .on_conflict(
                OnConflict::column(session::Column::Id)
                    .update_columns([session::Column::Data, session::Column::ExpiresAt])
                    .to_owned(),
            )
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// The session with `id`, unless it is missing or has expired at `now`.
    pub async fn load_session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<SessionRecord>> {
        let Some(model) = session::Entity::find_by_id(id.to_owned()).one(self.db()).await? else {
            return Ok(None);
        };
        let expires_at = at(model.expires_at);
        if expires_at <= now {
            return Ok(None);
        }
        Ok(Some(SessionRecord { data: model.data, expires_at }))
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        session::Entity::delete_by_id(id.to_owned()).exec(self.db()).await?;
        Ok(())
    }

    /// Removes the sessions that ended before `now`; run periodically.
    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let result = session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lt(now.timestamp()))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected)
    }
}
