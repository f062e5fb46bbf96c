//! The `clavis` binary: the server and its administrative subcommands.

// Leptos's nested view types exceed the default when rendered on the server.
#![recursion_limit = "256"]

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use server::config::{Cli, Command, Config, LogFormat};
use server::startup::StartupError;
use server::{cli, http, startup};

/// jemalloc rather than the system allocator. With 100,000 applications
/// cached, glibc's per-thread arenas kept about 50 MB more resident than
/// the live data (189 MB against jemalloc's 141 MB, `bench/apps.sh`): the
/// cache's long-lived entries are allocated among the short-lived rows
/// each load reads, on whichever worker thread ran it.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The format is needed before anything logs, so before the rest of the
    // configuration is resolved.
    match LogFormat::parse(&cli.config.log_format) {
        Ok(format) => init_logging(format),
        Err(err) => {
            eprintln!("clavis: {err}");
            return ExitCode::FAILURE;
        }
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("clavis: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // The request's span (request_id, method, route) is in each line's "span".
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = cli.config.resolve().map_err(|err| err.to_string())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await.map_err(|err| err.to_string()),
        Command::Migrate => {
            startup::open(&config).await.map_err(|err| err.to_string())?;
            println!("{}", serde_json::json!({"migrated": true}));
            Ok(())
        }
        Command::Tenant(command) => {
            let (services, authority) = startup::open_for_cli(&config).await.map_err(|err| err.to_string())?;
            cli::run_tenant(&services, &authority, command).await.map_err(|err| err.to_string())
        }
        Command::App(command) => {
            let (services, authority) = startup::open_for_cli(&config).await.map_err(|err| err.to_string())?;
            cli::run_app(&services, &authority, command).await.map_err(|err| err.to_string())
        }
        Command::Member(command) => {
            let (services, authority) = startup::open_for_cli(&config).await.map_err(|err| err.to_string())?;
            cli::run_member(&services, &authority, command).await.map_err(|err| err.to_string())
        }
        Command::Role(command) => {
            let (services, authority) = startup::open_for_cli(&config).await.map_err(|err| err.to_string())?;
            cli::run_role(&services, &authority, command).await.map_err(|err| err.to_string())
        }
        Command::User(command) => {
            let (services, authority) = startup::open_for_cli(&config).await.map_err(|err| err.to_string())?;
            cli::run_user(&services, &authority, command).await.map_err(|err| err.to_string())
        }
        Command::Keys(command) => {
            let (services, authority) = startup::open_for_cli(&config).await.map_err(|err| err.to_string())?;
            cli::run_keys(&services, &authority, command).await.map_err(|err| err.to_string())
        }
        Command::MasterKey(command) => {
            let (services, authority) = startup::open_for_cli(&config).await.map_err(|err| err.to_string())?;
            cli::run_master_key(&services, &authority, command).await.map_err(|err| err.to_string())
        }
    }
}

async fn serve(config: Config) -> Result<(), StartupError> {
    let (services, key_source) = startup::open(&config).await?;
    services.check_master_key_versions().await?;
    if key_source == domain::crypto::MasterKeySource::NewFile {
        tracing::info!(dir = %config.data_dir.display(), "generated a new master key file (master.key) in the data directory");
    }
    if let Some(admin) = services.bootstrap(&config.bootstrap_admin_email, services.now()).await? {
        // Printed once, on the first start only: the password is stored nowhere else.
        println!("Clavis first start: created tenant \"Default\" ({}) and its operator.", admin.tenant_id);
        println!("  Sign in at {}/login", config.public_url);
        println!("  email:    {}", admin.email);
        println!("  password: {}", admin.password);
        println!("This password is shown only now.");
    }
    spawn_housekeeping(services.clone());
    spawn_key_schedule(services.clone());
    let flusher = spawn_usage_flush(services.clone());
    services.spawn_invalidation_listener();
    let recorder = http::metrics::install();
    let upkeep = recorder.spawn_upkeep();
    let metrics_listener = match config.metrics_addr {
        Some(addr) => Some(serve_metrics(addr, recorder.clone(), services.clone()).await?),
        None => None,
    };
    let flush_services = services.clone();
    let app = http::app(
        services,
        &http::RouterConfig {
            site_root: config.site_root.clone(),
            site_addr: config.addr,
            secure_cookies: config.cookies_secure(),
            trusted_proxies: config.trusted_proxies.clone(),
            metrics: config.metrics_addr.is_none().then_some(recorder),
        },
    );
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|err| StartupError::Listen { addr: config.addr.to_string(), reason: err.to_string() })?;
    tracing::info!(addr = %config.addr, public_url = %config.public_url, "Clavis is listening");
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = axum::serve(
        listener,
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<SocketAddr>(app),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections; waiting for requests in flight");
        let _ = stopping.send(());
    })
    .into_future();
    // In-flight requests get the grace period from the signal on; then the
    // process stops waiting for them.
    let grace = config.shutdown_grace;
    let overdue = async move {
        if stopped.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let served = tokio::select! {
        served = served => served.map_err(|err| StartupError::Listen { addr: config.addr.to_string(), reason: err.to_string() }),
        () = overdue => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period; stopping anyway");
            Ok(())
        }
    };
    flusher.abort();
    upkeep.abort();
    if let Some(metrics_listener) = metrics_listener {
        metrics_listener.abort();
    }
    match flush_services.flush_usage().await {
        Ok(secrets) => tracing::info!(secrets, "wrote the last usage counters"),
        Err(err) => tracing::warn!(error = %err, "could not write the last usage counters"),
    }
    if let Err(err) = flush_services.close_database().await {
        tracing::warn!(error = %err, "could not close the database pool");
    }
    tracing::info!("Clavis stopped");
    served
}

/// `GET /metrics` on a listener of its own, so the main port need not expose it.
async fn serve_metrics(
    addr: SocketAddr,
    recorder: http::metrics::Metrics,
    services: domain::Services,
) -> Result<tokio::task::JoinHandle<()>, StartupError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|err| StartupError::Listen { addr: addr.to_string(), reason: err.to_string() })?;
    tracing::info!(%addr, "metrics are served on their own listener");
    let router = http::metrics::routes::<()>(recorder, services);
    Ok(tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::warn!(error = %err, "the metrics listener stopped");
        }
    }))
}

/// Writes usage counters ("last used", tokens issued) every few seconds, so
/// the token endpoint never writes to the database per request: every 5 s,
/// or less often when flushes grow long (`domain::services::pause_after_flush`).
fn spawn_usage_flush(services: domain::Services) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut pause = domain::services::FLUSH_EVERY_AT_LEAST;
        loop {
            tokio::time::sleep(pause).await;
            let started = std::time::Instant::now();
            if let Err(err) = services.flush_usage().await {
                tracing::warn!(error = %err, "could not write usage counters; they are kept for the next flush");
            }
            pause = domain::services::pause_after_flush(started.elapsed());
        }
    })
}

/// Periodic clean-up that keeps tables from growing without bound.
/// Runs every tenant's signing-key rotation schedule once a minute, well
/// inside the hour a next key is published before it signs.
fn spawn_key_schedule(services: domain::Services) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            interval.tick().await;
            if let Err(err) = services.run_key_schedule(services.now()).await {
                tracing::warn!(error = %err, "scheduled key rotation failed");
            }
        }
    });
}

fn spawn_housekeeping(services: domain::Services) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            interval.tick().await;
            if let Err(err) = services.delete_expired_sessions(services.now()).await {
                tracing::warn!(error = %err, "could not delete expired sessions");
            }
            if let Err(err) = services.prune_revoked_tokens(services.now()).await {
                tracing::warn!(error = %err, "could not prune revoked tokens");
            }
            if let Err(err) = services.prune_one_time_links(services.now()).await {
                tracing::warn!(error = %err, "could not prune spent invitations and reset links");
            }
            if let Err(err) = services.prune_second_factor_leftovers(services.now()).await {
                tracing::warn!(error = %err, "could not prune expired sign-ins and two-factor set-ups");
            }
            // Per-minute usage is kept for 30 days.
            if let Err(err) = services.prune_usage(services.now() - chrono::Duration::days(30)).await {
                tracing::warn!(error = %err, "could not prune usage counters");
            }
            if let Err(err) = services.prune_throttle_failures(services.now()).await {
                tracing::warn!(error = %err, "could not prune shared throttle counts");
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
