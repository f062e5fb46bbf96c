//! Opening the database (SQLite or PostgreSQL) and applying migrations.

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
pub use sea_orm::DatabaseConnection;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, DbErr, sqlx};
use sqlx::Connection;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbOpenError {
    #[error("unsupported database URL (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migrate(String),
}

/// Connects to `url`. SQLite files are created when missing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbOpenError> {
    let is_sqlite = url.starts_with("sqlite:");
    if !is_sqlite && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err(DbOpenError::UnsupportedUrl);
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if is_sqlite { 8 } else { 16 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    let db = Database::connect(options).await.map_err(|err| DbOpenError::Connect(describe(&err)))?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets the dashboard read while the token endpoint's usage flush writes.
        db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;")
            .await
            .map_err(|err| DbOpenError::Connect(describe(&err)))?;
    }
    Ok(db)
}

/// The key of the PostgreSQL advisory lock that serialises migrations (and
/// the first-start bootstrap) across processes sharing one database: any
/// fixed 64-bit number that nothing else uses ("clavis" in ASCII, and 1).
pub(crate) const SCHEMA_LOCK_KEY: i64 = 0x636c_6176_6973_0001;
/// The advisory lock under which the first start decides to bootstrap.
pub(crate) const BOOTSTRAP_LOCK_KEY: i64 = 0x636c_6176_6973_0002;

/// Applies every pending migration; a no-op when the schema is current.
///
/// On PostgreSQL several replicas may start at the same moment on an empty
/// database; each would create the same tables and all but one fail on the
/// catalogue's unique indexes. So the migration runs while this process
/// holds a session advisory lock on one dedicated connection: the others
/// wait for it, then find nothing left to do.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbOpenError> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await.map_err(|err| DbOpenError::Migrate(describe(&err)));
    }
    let mut lock = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(|err| DbOpenError::Migrate(describe(&DbErr::Conn(sea_orm::RuntimeErr::SqlxError(err)))))?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(SCHEMA_LOCK_KEY)
        .execute(&mut *lock)
        .await
        .map_err(|err| DbOpenError::Migrate(describe(&DbErr::Exec(sea_orm::RuntimeErr::SqlxError(err)))))?;
    let migrated = Migrator::up(db, None).await.map_err(|err| DbOpenError::Migrate(describe(&err)));
    // Released on success and on failure alike. Should the unlock itself
    // fail, the connection is closed instead of going back to the pool, and
    // PostgreSQL drops the lock with the session.
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(SCHEMA_LOCK_KEY).execute(&mut *lock).await;
    if unlocked.is_err() {
        let _ = lock.detach().close().await;
    }
    migrated
}

/// The SQLite URL of a file, creating it on first connect.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// One line, without the credentials a connection URL might hold.
fn describe(err: &DbErr) -> String {
    let text = err.to_string();
    let line = text.lines().next().unwrap_or("unknown error").to_owned();
    redact_url_credentials(&line)
}

/// `text` with the password of any connection URL in it replaced by `***`.
pub fn redact_url_credentials(text: &str) -> String {
    // postgres://user:password@host → postgres://user:***@host
    let mut out = String::with_capacity(text.len());
    for word in text.split(' ') {
        if !out.is_empty() {
            out.push(' ');
        }
        match (word.find("://"), word.find('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                let credentials = &word[scheme_end + 3..at];
                match credentials.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(&word[..scheme_end + 3]);
                        out.push_str(user);
                        out.push_str(":***");
                        out.push_str(&word[at..]);
                    }
                    None => out.push_str(word),
                }
            }
            _ => out.push_str(word),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(
            redact_url_credentials("failed postgres://clavis:hunter2@db:5432/x now"),
            "failed postgres://clavis:***@db:5432/x now"
        );
    }
}
