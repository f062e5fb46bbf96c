//! The dashboard's session store: tower-sessions' records kept through the
//! domain's session service, so a session survives restarts and works on
//! every Clavis process sharing the database.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Services;
use domain::services::SessionRecord;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Clone)]
pub struct DbSessionStore {
    services: Services,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

fn backend(err: domain::Error) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn expiry(record: &Record) -> session_store::Result<DateTime<Utc>> {
    DateTime::from_timestamp(record.expiry_date.unix_timestamp(), 0)
        .ok_or_else(|| session_store::Error::Encode("session expiry out of range".into()))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // IDs are 128 random bits; a collision is astronomically unlikely but
        // must never hand one user another's session.
        while self.services.session_exists(&record.id.to_string()).await.map_err(backend)? {
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|err| session_store::Error::Encode(err.to_string()))?;
        let user_id = record.data.get(app::ssr::SESSION_USER_ID).and_then(|id| id.as_str()).map(str::to_owned);
        let stored = SessionRecord { data, expires_at: expiry(record)?, user_id };
        let now = self.services.now();
        self.services.save_session(&record.id.to_string(), &stored, now).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = self.services.now();
        let Some(stored) = self.services.load_session(&id.to_string(), now).await.map_err(backend)? else {
            return Ok(None);
        };
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(stored.expires_at.timestamp())
            .map_err(|err| session_store::Error::Decode(err.to_string()))?;
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&stored.data).map_err(|err| session_store::Error::Decode(err.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.services.delete_session(&id.to_string()).await.map_err(backend)
    }
}
