//! Dashboard sessions in the database, so a session survives restarts and
//! works on every Clavis process sharing the database. The session layer of
//! the HTTP adapter stores its opaque records through these calls; expiry is
//! judged by the injected clock.
//!
//! Rows are keyed by the SHA-256 of the session ID, so someone who reads the
//! table (a backup, a replica) holds no cookie that signs anyone in; and
//! every session ends [`SESSION_MAX_LIFETIME_SECS`] after it began, however
//! active it stays (the idle limit is the session layer's).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use super::Services;
use super::tenants::at;
use crate::Result;
use crate::crypto::secret_digest_hex;
use crate::entities::session;

/// The longest a dashboard session lives, from sign-in: 12 hours.
pub const SESSION_MAX_LIFETIME_SECS: i64 = 12 * 3600;

fn key(id: &str) -> String {
    secret_digest_hex(id)
}

/// One stored session: its encoded data and when it ends.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session layer's encoding of the session's values.
    pub data: String,
    pub expires_at: DateTime<Utc>,
    /// Who is signed in, if anyone: lets a password change or reset end
    /// that user's sessions.
    pub user_id: Option<String>,
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
        Ok(session::Entity::find_by_id(key(id)).one(self.db()).await?.is_some())
    }

    /// Stores (or replaces) a session; a new one begins at `now`.
    pub async fn save_session(&self, id: &str, record: &SessionRecord, now: DateTime<Utc>) -> Result<()> {
        let model = session::ActiveModel {
            id: Set(key(id)),
            data: Set(record.data.clone()),
            expires_at: Set(record.expires_at.timestamp()),
            created_at: Set(now.timestamp()),
            user_id: Set(record.user_id.clone()),
        };
        session::Entity::insert(model)
            .on_conflict(
                OnConflict::column(session::Column::Id)
                    .update_columns([session::Column::Data, session::Column::ExpiresAt, session::Column::UserId])
                    .to_owned(),
            )
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// The session with `id`, unless it is missing, idle past its expiry,
    /// or older than [`SESSION_MAX_LIFETIME_SECS`] at `now`.
    pub async fn load_session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<SessionRecord>> {
        let Some(model) = session::Entity::find_by_id(key(id)).one(self.db()).await? else {
            return Ok(None);
        };
        let expires_at = at(model.expires_at);
        if expires_at <= now || model.created_at + SESSION_MAX_LIFETIME_SECS <= now.timestamp() {
            return Ok(None);
        }
        Ok(Some(SessionRecord { data: model.data, expires_at, user_id: model.user_id }))
    }

    /// Ends every session of `user_id` on `conn` except the one with ID
    /// `keep` (the caller's own, after a password change).
    pub(super) async fn delete_sessions_of_user<C: sea_orm::ConnectionTrait>(
        conn: &C,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<u64> {
        let mut delete = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
        if let Some(keep) = keep {
            delete = delete.filter(session::Column::Id.ne(key(keep)));
        }
        Ok(delete.exec(conn).await?.rows_affected)
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        session::Entity::delete_by_id(key(id)).exec(self.db()).await?;
        Ok(())
    }

    /// Removes the sessions that ended (idle or past their lifetime) by `now`; run periodically.
    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let ended = sea_orm::Condition::any()
            .add(session::Column::ExpiresAt.lt(now.timestamp()))
            .add(session::Column::CreatedAt.lte(now.timestamp() - SESSION_MAX_LIFETIME_SECS));
        let result = session::Entity::delete_many().filter(ended).exec(self.db()).await?;
        Ok(result.rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_keyed_by_a_digest_of_the_session_id() {
        let id = "3fK9x2LqZ8vN1pQ7";
        assert_ne!(key(id), id);
        assert_eq!(key(id).len(), 64);
        assert_eq!(key(id), key(id));
        assert_ne!(key(id), key("3fK9x2LqZ8vN1pQ8"));
    }
}
