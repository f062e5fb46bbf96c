//! `clavis master-key`: how many secrets each master key version seals,
//! rotation to a new version without downtime, and retiring old versions.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Subcommand;
use domain::Services;
use domain::services::{CliAuthority, DEFAULT_RESEAL_BATCH, SealedCounts};

use super::{CliError, print_json};

/// How long a rotation waits after writing the key file before it re-seals,
/// so a serving process that was sealing a value at that moment has finished;
/// later passes catch what it sealed under the old version anyway.
const SETTLE: Duration = Duration::from_secs(1);

#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// How many sealed values each master key version holds (no key material).
    Status,
    /// Re-seal every client secret and signing key, in every tenant, under a
    /// new version. With the key file, a fresh key is first added to it as the
    /// new current version; with CLAVIS_MASTER_KEY, everything is re-sealed
    /// under the first key listed there (add the new key in front first).
    Rotate {
        /// Rows read and re-sealed per query.
        #[arg(long, default_value_t = DEFAULT_RESEAL_BATCH)]
        batch_size: u64,
    },
    /// Remove from the key file the old versions that no sealed value needs.
    Retire,
}

/// Internal details are for the operator at the console, who owns the host:
/// print them instead of the generic "internal error".
fn detailed(err: domain::Error) -> CliError {
    match err {
        domain::Error::Internal(detail) | domain::Error::Unavailable(detail) => CliError::Usage(detail),
        other => CliError::Domain(other),
    }
}

fn counts_json(counts: &SealedCounts) -> serde_json::Value {
    let mut by_version: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for version in counts.versions_in_use() {
        let count = |per_kind: &BTreeMap<u32, u64>| per_kind.get(&version).copied().unwrap_or(0);
        by_version.insert(
            version.to_string(),
            serde_json::json!({
                "clientSecrets": count(&counts.client_secrets),
                "signingKeys": count(&counts.signing_keys),
                "totpSecrets": count(&counts.totp_secrets),
            }),
        );
    }
    serde_json::json!({ "byVersion": by_version, "malformed": counts.malformed })
}

pub async fn run_master_key(
    services: &Services,
    authority: &CliAuthority,
    command: MasterKeyCommand,
) -> Result<(), CliError> {
    let operator = authority.operator_scope();
    match command {
        MasterKeyCommand::Status => {
            let info = services.master_key_info();
            let counts = services.sealed_counts(&operator).await.map_err(detailed)?;
            let missing: Vec<u32> =
                counts.versions_in_use().into_iter().filter(|version| !info.versions.contains(version)).collect();
            print_json(&serde_json::json!({
                "currentVersion": info.current,
                "keyVersions": info.versions,
                "keySource": if info.from_file { "file" } else { "environment" },
                "sealed": counts_json(&counts),
                "notUnderCurrent": counts.not_under(info.current),
                "missingVersions": missing,
            }))
        }
        MasterKeyCommand::Rotate { batch_size } => {
            let added = if services.master_key_info().from_file {
                let version = services.add_master_key_version(&operator).await.map_err(detailed)?;
                tokio::time::sleep(SETTLE).await;
                Some(version)
            } else {
                None
            };
            let report = services.reseal_all(&operator, batch_size).await.map_err(detailed)?;
            print_json(&serde_json::json!({
                "currentVersion": report.version,
                "addedVersion": added,
                "resealed": report.resealed,
                "changedMeanwhile": report.changed_meanwhile,
                "notUnderCurrent": report.counts.not_under(report.version),
                "sealed": counts_json(&report.counts),
            }))
        }
        MasterKeyCommand::Retire => {
            let retired = services.retire_master_key_versions(&operator).await.map_err(detailed)?;
            let info = services.master_key_info();
            print_json(&serde_json::json!({ "retiredVersions": retired, "keyVersions": info.versions }))
        }
    }
}
