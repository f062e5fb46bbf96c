//! Secrets at rest under a rotated master key: counting sealed values per key
//! version, re-sealing them all under the current version in batches
//! (compare-and-set per row, so serving processes keep working), and the
//! start-up check that this process holds every version the database needs.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Services;
use super::auth::OperatorScope;
use crate::crypto::{MasterKeyError, SealContext, sealed_key_version};
use crate::entities::{client_secret, signing_key, user_totp};
use crate::{Error, Result};

/// Rows read per query while counting or re-sealing.
pub const DEFAULT_RESEAL_BATCH: u64 = 200;
/// Passes after the first catch values a process sealed under the old
/// version while the previous pass ran.
const MAX_PASSES: u32 = 5;

/// The master key versions of this process; no key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterKeyInfo {
    /// The version new values are sealed under.
    pub current: u32,
    /// Every version held, the current one first.
    pub versions: Vec<u32>,
    /// Whether the keys come from the `master.key` file (else `CLAVIS_MASTER_KEY`).
    pub from_file: bool,
}

/// How many sealed values each master key version holds, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealedCounts {
    pub client_secrets: BTreeMap<u32, u64>,
    pub signing_keys: BTreeMap<u32, u64>,
    pub totp_secrets: BTreeMap<u32, u64>,
    /// Values whose version prefix does not parse.
    pub malformed: u64,
}

impl SealedCounts {
    /// The versions at least one value is sealed under.
    pub fn versions_in_use(&self) -> BTreeSet<u32> {
        self.client_secrets.keys().chain(self.signing_keys.keys()).chain(self.totp_secrets.keys()).copied().collect()
    }

    /// Values sealed under any version but `version`.
    pub fn not_under(&self, version: u32) -> u64 {
        let others = |counts: &BTreeMap<u32, u64>| {
            counts.iter().filter(|(held, _)| **held != version).map(|(_, count)| *count).sum::<u64>()
        };
        others(&self.client_secrets) + others(&self.signing_keys) + others(&self.totp_secrets) + self.malformed
    }
}

/// What a re-sealing run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResealReport {
    /// The version everything was re-sealed under.
    pub version: u32,
    pub resealed: u64,
    /// Rows another process changed between the read and the update; a
    /// later pass reads them again.
    pub changed_meanwhile: u64,
    pub counts: SealedCounts,
}

/// A table with a sealed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SealedTable {
    ClientSecrets,
    SigningKeys,
    TotpSecrets,
}

const SEALED_TABLES: [SealedTable; 3] =
    [SealedTable::ClientSecrets, SealedTable::SigningKeys, SealedTable::TotpSecrets];

impl SealedTable {
    fn context<'a>(self, row: &'a SealedRow) -> SealContext<'a> {
        match self {
            SealedTable::ClientSecrets => SealContext::client_secret(&row.tenant_id, &row.id),
            SealedTable::SigningKeys => SealContext::signing_key(&row.tenant_id, &row.id),
            SealedTable::TotpSecrets => SealContext::totp_secret(&row.id),
        }
    }
}

/// Which sealed values a query reads.
#[derive(Debug, Clone, Copy)]
enum Which<'a> {
    All,
    /// Those not sealed under this version.
    NotUnder(u32),
    /// Those sealed under none of these versions.
    NoneOf(&'a [u32]),
}

impl Which<'_> {
    fn condition<C: ColumnTrait>(self, column: C) -> Condition {
        match self {
            Which::All => Condition::all(),
            Which::NotUnder(version) => Condition::all().add(column.not_like(version_pattern(version))),
            Which::NoneOf(held) => {
                let mut known = Condition::any();
                for version in held {
                    known = known.add(column.like(version_pattern(*version)));
                    if *version == 1 {
                        // Unprefixed values (no '.', which base64url never holds) are version 1.
                        known = known.add(column.not_like("%.%"));
                    }
                }
                Condition::all().add(known.not())
            }
        }
    }
}

/// One sealed column of one row, whatever its table.
struct SealedRow {
    id: String,
    tenant_id: String,
    sealed: String,
}

fn key_error(err: MasterKeyError) -> Error {
    match err {
        MasterKeyError::NotFileBacked => Error::Conflict(err.to_string()),
        other => Error::internal(other),
    }
}

fn version_pattern(version: u32) -> String {
    format!("v{version}.%")
}

impl Services {
    pub fn master_key_info(&self) -> MasterKeyInfo {
        let key = self.master_key();
        MasterKeyInfo { current: key.current_version(), versions: key.versions(), from_file: key.key_file().is_some() }
    }

    /// Adds a new current version to the key file (see [`crate::crypto::MasterKey::add_version`]).
    pub async fn add_master_key_version(&self, _operator: &OperatorScope) -> Result<u32> {
        let key = self.master_key().clone();
        tokio::task::spawn_blocking(move || key.add_version()).await.map_err(Error::internal)?.map_err(key_error)
    }

    /// Drops from the key file the old versions no sealed value needs any more.
    pub async fn retire_master_key_versions(&self, operator: &OperatorScope) -> Result<Vec<u32>> {
        let in_use = self.sealed_counts(operator).await?.versions_in_use();
        let key = self.master_key().clone();
        tokio::task::spawn_blocking(move || key.retire_versions(&in_use))
            .await
            .map_err(Error::internal)?
            .map_err(key_error)
    }

    /// Counts the sealed values of every tenant per master key version.
    pub async fn sealed_counts(&self, _operator: &OperatorScope) -> Result<SealedCounts> {
        let mut counts = SealedCounts::default();
        for table in SEALED_TABLES {
            let mut after = String::new();
            loop {
                let rows = self.sealed_rows(table, &after, Which::All, DEFAULT_RESEAL_BATCH).await?;
                let Some(last) = rows.last() else { break };
                after = last.id.clone();
                for row in &rows {
                    match sealed_key_version(&row.sealed) {
                        Some(version) => {
                            let per_kind = match table {
                                SealedTable::ClientSecrets => &mut counts.client_secrets,
                                SealedTable::SigningKeys => &mut counts.signing_keys,
                                SealedTable::TotpSecrets => &mut counts.totp_secrets,
                            };
                            *per_kind.entry(version).or_default() += 1;
                        }
                        None => counts.malformed += 1,
                    }
                }
            }
        }
        Ok(counts)
    }

    /// Re-seals every sealed value of every tenant that is not under the
    /// current version, `batch` rows at a time. Each row is updated only if
    /// it still holds the value read, so a concurrent rotation of a secret
    /// or key wins; passes repeat until nothing is left behind.
    pub async fn reseal_all(&self, operator: &OperatorScope, batch: u64) -> Result<ResealReport> {
        let batch = batch.clamp(1, 10_000);
        let mut resealed = 0;
        let mut changed_meanwhile = 0;
        let mut version = self.master_key().current_version();
        for _ in 0..MAX_PASSES {
            version = self.master_key().current_version();
            let mut touched = 0;
            for table in SEALED_TABLES {
                let (done, changed) = self.reseal_table(table, version, batch).await?;
                resealed += done;
                changed_meanwhile += changed;
                touched += done + changed;
            }
            if touched == 0 {
                break;
            }
        }
        Ok(ResealReport { version, resealed, changed_meanwhile, counts: self.sealed_counts(operator).await? })
    }

    async fn reseal_table(&self, table: SealedTable, version: u32, batch: u64) -> Result<(u64, u64)> {
        let (mut done, mut changed) = (0, 0);
        let mut after = String::new();
        loop {
            let rows = self.sealed_rows(table, &after, Which::NotUnder(version), batch).await?;
            let Some(last) = rows.last() else { break };
            after = last.id.clone();
            for row in rows {
                let context = table.context(&row);
                let plaintext = self.master_key().open(&context, &row.sealed)?;
                let fresh = self.master_key().seal(&context, &plaintext)?;
                if self.compare_and_set(table, &row, fresh).await? {
                    done += 1;
                } else {
                    changed += 1;
                }
            }
        }
        Ok((done, changed))
    }

    /// Rows after `after` in key order, `which` of them.
    async fn sealed_rows(
        &self,
        table: SealedTable,
        after: &str,
        which: Which<'_>,
        limit: u64,
    ) -> Result<Vec<SealedRow>> {
        Ok(match table {
            SealedTable::ClientSecrets => client_secret::Entity::find()
                .filter(client_secret::Column::Id.gt(after))
                .filter(which.condition(client_secret::Column::SealedSecret))
                .order_by_asc(client_secret::Column::Id)
                .limit(limit)
                .all(self.db())
                .await?
                .into_iter()
                .map(|row| SealedRow { id: row.id, tenant_id: row.tenant_id, sealed: row.sealed_secret })
                .collect(),
            SealedTable::SigningKeys => signing_key::Entity::find()
                .filter(signing_key::Column::Kid.gt(after))
                .filter(which.condition(signing_key::Column::SealedPrivateKey))
                .order_by_asc(signing_key::Column::Kid)
                .limit(limit)
                .all(self.db())
                .await?
                .into_iter()
                .map(|row| SealedRow { id: row.kid, tenant_id: row.tenant_id, sealed: row.sealed_private_key })
                .collect(),
            SealedTable::TotpSecrets => user_totp::Entity::find()
                .filter(user_totp::Column::UserId.gt(after))
                .filter(which.condition(user_totp::Column::SealedSecret))
                .order_by_asc(user_totp::Column::UserId)
                .limit(limit)
                .all(self.db())
                .await?
                .into_iter()
                .map(|row| SealedRow { id: row.user_id, tenant_id: String::new(), sealed: row.sealed_secret })
                .collect(),
        })
    }

    async fn count_sealed(&self, table: SealedTable, which: Which<'_>) -> Result<u64> {
        Ok(match table {
            SealedTable::ClientSecrets => {
                client_secret::Entity::find()
                    .filter(which.condition(client_secret::Column::SealedSecret))
                    .count(self.db())
                    .await?
            }
            SealedTable::SigningKeys => {
                signing_key::Entity::find()
                    .filter(which.condition(signing_key::Column::SealedPrivateKey))
                    .count(self.db())
                    .await?
            }
            SealedTable::TotpSecrets => {
                user_totp::Entity::find()
                    .filter(which.condition(user_totp::Column::SealedSecret))
                    .count(self.db())
                    .await?
            }
        })
    }

    async fn compare_and_set(&self, table: SealedTable, row: &SealedRow, fresh: String) -> Result<bool> {
        let updated = match table {
            SealedTable::ClientSecrets => {
                client_secret::Entity::update_many()
                    .col_expr(client_secret::Column::SealedSecret, Expr::value(fresh))
                    .filter(client_secret::Column::Id.eq(&row.id))
                    .filter(client_secret::Column::SealedSecret.eq(&row.sealed))
                    .exec(self.db())
                    .await?
            }
            SealedTable::SigningKeys => {
                signing_key::Entity::update_many()
                    .col_expr(signing_key::Column::SealedPrivateKey, Expr::value(fresh))
                    .filter(signing_key::Column::Kid.eq(&row.id))
                    .filter(signing_key::Column::SealedPrivateKey.eq(&row.sealed))
                    .exec(self.db())
                    .await?
            }
            SealedTable::TotpSecrets => {
                user_totp::Entity::update_many()
                    .col_expr(user_totp::Column::SealedSecret, Expr::value(fresh))
                    .filter(user_totp::Column::UserId.eq(&row.id))
                    .filter(user_totp::Column::SealedSecret.eq(&row.sealed))
                    .exec(self.db())
                    .await?
            }
        };
        Ok(updated.rows_affected == 1)
    }

    /// Refuses to serve when the database holds values sealed under a
    /// version this process lacks: better one clear line at start-up than
    /// tokens and reveals failing later. Counts in SQL; reads rows only to
    /// name the missing versions.
    pub async fn check_master_key_versions(&self) -> Result<()> {
        let held = self.master_key().versions();
        let which = Which::NoneOf(&held);
        let mut total = 0;
        let mut missing = BTreeSet::new();
        for table in SEALED_TABLES {
            let count = self.count_sealed(table, which).await?;
            if count == 0 {
                continue;
            }
            total += count;
            for row in self.sealed_rows(table, "", which, 100).await? {
                missing.insert(
                    sealed_key_version(&row.sealed).map_or_else(|| "(malformed)".to_owned(), |v| v.to_string()),
                );
            }
        }
        if total == 0 {
            return Ok(());
        }
        let missing: Vec<String> = missing.into_iter().collect();
        Err(Error::internal(format!(
            "{total} sealed values need master key version {}, which is not configured (this process holds {held:?}): \
             configure the current master key (CLAVIS_MASTER_KEY or master.key) before starting",
            missing.join(", ")
        )))
    }
}
