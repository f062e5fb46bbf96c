//! Opening everything a command needs: configuration, database, master key.

use std::sync::Arc;

use domain::crypto::{MasterKey, MasterKeySource};
use domain::db::DatabaseConnection;
use domain::services::CliAuthority;
use domain::{Services, SystemClock};

use crate::config::{Config, ConfigError};

/// Why Clavis could not start; each prints as one line.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    MasterKey(#[from] domain::crypto::MasterKeyError),
    #[error(transparent)]
    Database(#[from] domain::db::DbOpenError),
    #[error("{0}")]
    Service(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
}

impl From<domain::Error> for StartupError {
    fn from(err: domain::Error) -> Self {
        let text = match err {
            domain::Error::Unavailable(detail) | domain::Error::Internal(detail) => detail,
            other => other.to_string(),
        };
        StartupError::Service(text)
    }
}

/// Loads the master key, then connects and migrates.
///
/// The key comes first so that a mistyped `CLAVIS_MASTER_KEY` is reported
/// before anything touches the database.
async fn open_parts(config: &Config) -> Result<(DatabaseConnection, MasterKey, MasterKeySource), StartupError> {
    let (master_key, source) = MasterKey::load_or_create(config.master_key.as_deref(), &config.data_dir)?;
    let db = domain::db::connect(&config.database_url).await?;
    domain::db::migrate(&db).await?;
    Ok((db, master_key, source))
}

/// The services of a serving process (which hold no CLI authority).
pub async fn open(config: &Config) -> Result<(Services, MasterKeySource), StartupError> {
    let (db, master_key, source) = open_parts(config).await?;
    Ok((Services::new(db, Arc::new(SystemClock), master_key, &config.public_url), source))
}

/// The services of a command-line run, with the authority of whoever runs it.
pub async fn open_for_cli(config: &Config) -> Result<(Services, CliAuthority), StartupError> {
    let (db, master_key, _) = open_parts(config).await?;
    Ok(Services::for_cli(db, Arc::new(SystemClock), master_key, &config.public_url))
}
