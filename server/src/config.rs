//! Command-line flags and their `CLAVIS_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "clavis",
    version,
    about = "Clavis: application identity (OAuth 2.0 client credentials) for your services"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Args)]
pub struct ConfigArgs {
    /// Address to listen on.
    #[arg(long, env = "CLAVIS_ADDR", default_value = "127.0.0.1:3000", global = true)]
    pub addr: String,
    /// Externally visible base URL; issuer URLs derive from it. Default: http:// + addr.
    #[arg(long, env = "CLAVIS_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Directory for the SQLite database and the generated master key.
    #[arg(long, env = "CLAVIS_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// sqlite://… or postgres://…; default: a SQLite file in the data directory.
    #[arg(long, env = "CLAVIS_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Base64 of 32 bytes (key version 1), or `VERSION:BASE64` entries
    /// separated by commas, the current key first (e.g. `2:…,1:…`); default:
    /// the key file `master.key` in the data directory, generated on first start.
    #[arg(long, env = "CLAVIS_MASTER_KEY", global = true, hide_env_values = true)]
    pub master_key: Option<String>,
    /// Email of the operator created on first start.
    #[arg(long, env = "CLAVIS_BOOTSTRAP_ADMIN_EMAIL", default_value = domain::services::DEFAULT_BOOTSTRAP_EMAIL, global = true)]
    pub bootstrap_admin_email: String,
    /// Directory of the built dashboard assets (cargo-leptos output).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site", global = true)]
    pub site_root: String,
    /// Comma-separated CIDRs of the proxies whose Forwarded / X-Forwarded-For
    /// headers are believed; none by default.
    #[arg(long, env = "CLAVIS_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
    /// Log lines as `text` (for people) or `json` (one object per line, for
    /// log collectors).
    #[arg(long, env = "CLAVIS_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
    /// Serve `GET /metrics` on this address instead of the main listener
    /// (e.g. 127.0.0.1:9100, to keep it off the public port).
    #[arg(long, env = "CLAVIS_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<String>,
    /// Seconds that in-flight requests get to finish after SIGTERM before
    /// the server exits anyway.
    #[arg(long, env = "CLAVIS_SHUTDOWN_GRACE_SECS", default_value = "20", global = true)]
    pub shutdown_grace_secs: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(crate::cli::TenantCommand),
    /// Manage applications.
    #[command(subcommand)]
    App(crate::cli::AppCommand),
    /// Manage a tenant's dashboard members.
    #[command(subcommand)]
    Member(crate::cli::MemberCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(crate::cli::KeysCommand),
    /// Manage roles: named sets of scopes on protected applications.
    #[command(subcommand)]
    Role(crate::cli::RoleCommand),
    /// Manage a tenant's Cloud Directory users (end users of the password grant).
    #[command(subcommand)]
    User(crate::cli::UserCommand),
    /// Master key versions: status, rotation (re-seals every secret), retiring old versions.
    #[command(subcommand)]
    MasterKey(crate::cli::MasterKeyCommand),
}

impl std::fmt::Debug for ConfigArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigArgs")
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(domain::db::redact_url_credentials))
            .field("master_key", &self.master_key.as_ref().map(|_| "<redacted>"))
            .field("bootstrap_admin_email", &self.bootstrap_admin_email)
            .field("site_root", &self.site_root)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("log_format", &self.log_format)
            .field("metrics_addr", &self.metrics_addr)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .finish()
    }
}

/// Configuration after defaults and validation.
#[derive(Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub master_key: Option<String>,
    pub bootstrap_admin_email: String,
    pub site_root: String,
    pub trusted_proxies: crate::http::TrustedProxies,
    pub log_format: LogFormat,
    /// Where `/metrics` is served when not on the main listener.
    pub metrics_addr: Option<SocketAddr>,
    /// How long in-flight requests may take after SIGTERM.
    pub shutdown_grace: std::time::Duration,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// `text` or `json`; anything else is refused, naming the setting.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        match text.trim() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(ConfigError::LogFormat(text.to_owned())),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field("database_url", &domain::db::redact_url_credentials(&self.database_url))
            .field("master_key", &self.master_key.as_ref().map(|_| "<redacted>"))
            .field("bootstrap_admin_email", &self.bootstrap_admin_email)
            .field("site_root", &self.site_root)
            .field("log_format", &self.log_format)
            .field("metrics_addr", &self.metrics_addr)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish()
    }
}

/// Creates the data directory readable by its owner only (0700), the first
/// time; an existing directory keeps the permissions its operator chose.
fn create_private_dir(path: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Creates the SQLite file readable by its owner only (0600) before SQLite
/// opens it (SQLite gives its journal files the database file's mode).
fn create_private_file(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// A configuration value that cannot work, named so the operator can fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("CLAVIS_ADDR {0:?} is not a socket address such as 127.0.0.1:3000")]
    Addr(String),
    #[error("CLAVIS_PUBLIC_URL {0:?} must be an absolute http(s) URL without query or fragment")]
    PublicUrl(String),
    #[error("cannot create the data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("CLAVIS_DATABASE_URL must start with sqlite:// or postgres://")]
    DatabaseUrl,
    #[error("CLAVIS_TRUSTED_PROXIES: {0}")]
    TrustedProxies(String),
    #[error("CLAVIS_LOG_FORMAT {0:?} must be text or json")]
    LogFormat(String),
    #[error("CLAVIS_METRICS_ADDR {0:?} is not a socket address such as 127.0.0.1:9100")]
    MetricsAddr(String),
    #[error("CLAVIS_SHUTDOWN_GRACE_SECS {0:?} must be a whole number of seconds from 0 to 3600")]
    ShutdownGrace(String),
}

impl ConfigArgs {
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let addr: SocketAddr = self.addr.parse().map_err(|_| ConfigError::Addr(self.addr.clone()))?;
        let trusted_proxies = crate::http::TrustedProxies::parse(self.trusted_proxies.as_deref().unwrap_or_default())
            .map_err(ConfigError::TrustedProxies)?;
        let log_format = LogFormat::parse(&self.log_format)?;
        let metrics_addr = match self.metrics_addr.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
            Some(text) => Some(text.parse().map_err(|_| ConfigError::MetricsAddr(text.to_owned()))?),
            None => None,
        };
        let shutdown_grace = self
            .shutdown_grace_secs
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|secs| *secs <= 3600)
            .map(std::time::Duration::from_secs)
            .ok_or_else(|| ConfigError::ShutdownGrace(self.shutdown_grace_secs.clone()))?;
        let public_url = match &self.public_url {
            Some(url) => {
                let parsed = url::Url::parse(url).map_err(|_| ConfigError::PublicUrl(url.clone()))?;
                if !matches!(parsed.scheme(), "http" | "https")
                    || parsed.query().is_some()
                    || parsed.fragment().is_some()
                {
                    return Err(ConfigError::PublicUrl(url.clone()));
                }
                url.trim_end_matches('/').to_owned()
            }
            None => format!("http://{addr}"),
        };
        create_private_dir(&self.data_dir).map_err(|err| ConfigError::DataDir {
            path: self.data_dir.display().to_string(),
            reason: err.to_string(),
        })?;
        let database_url = match &self.database_url {
            Some(url)
                if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") =>
            {
                url.clone()
            }
            Some(_) => return Err(ConfigError::DatabaseUrl),
            None => {
                let path = self.data_dir.join("clavis.db");
                create_private_file(&path).map_err(|err| ConfigError::DataDir {
                    path: path.display().to_string(),
                    reason: err.to_string(),
                })?;
                domain::db::sqlite_url(&path)
            }
        };
        Ok(Config {
            addr,
            public_url,
            data_dir: self.data_dir.clone(),
            database_url,
            master_key: self.master_key.clone(),
            bootstrap_admin_email: self.bootstrap_admin_email.clone(),
            site_root: self.site_root.clone(),
            trusted_proxies,
            log_format,
            metrics_addr,
            shutdown_grace,
        })
    }
}

impl Config {
    pub fn cookies_secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
