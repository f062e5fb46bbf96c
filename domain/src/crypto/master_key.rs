//! The master keys that seal secrets at rest: one current version that seals
//! and older versions that only open, from `CLAVIS_MASTER_KEY` or the
//! `master.key` file in the data directory, re-read from the file when a
//! rotation has changed it.
//!
//! Both sources use one syntax: a single base64 key (version 1), or entries
//! `VERSION:BASE64` separated by commas or newlines, the current key first.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;

use super::sealing::{SealContext, SealedText, open_with, seal_with};
use crate::Error;

pub(crate) const MASTER_KEY_FILE: &str = "master.key";
/// Written next to the key file and renamed over it; its existence also
/// keeps two rotations from racing.
const ROTATION_FILE: &str = "master.key.new";
/// At most this often does meeting an unknown version re-read the key file,
/// so a flood of bad values cannot turn into a flood of file reads.
const UNKNOWN_VERSION_RELOAD: Duration = Duration::from_secs(5);

/// Why the master keys could not be loaded or changed. No variant carries key
/// material.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "CLAVIS_MASTER_KEY must be the base64 encoding of 32 bytes, or VERSION:BASE64 entries separated by commas with the current key first: {0}"
    )]
    BadEncoding(String),
    #[error("cannot read the master key file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("cannot create the master key file {path}: {reason}")]
    Uncreatable { path: String, reason: String },
    #[error("cannot update the master key file {path}: {reason}")]
    Unwritable { path: String, reason: String },
    #[error(
        "the master keys come from CLAVIS_MASTER_KEY, which Clavis cannot change: put the new key first in that list on every process instead"
    )]
    NotFileBacked,
}

/// Where a master key came from, so start-up can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterKeySource {
    Environment,
    ExistingFile,
    NewFile,
}

type Entry = (u32, [u8; 32]);

/// Key versions in their configured order: the current one seals, the
/// older ones only open.
#[derive(Clone)]
struct KeySet {
    current: Entry,
    older: Vec<Entry>,
}

impl KeySet {
    fn single(version: u32, key: [u8; 32]) -> Self {
        Self { current: (version, key), older: Vec::new() }
    }

    /// Parses the shared syntax; reasons name entries by position, never by content.
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if !text.contains(':') {
            if text.is_empty() {
                return Err("it is empty".into());
            }
            return Ok(Self::single(1, decode_key(text).ok_or("the key is not 32 bytes of base64")?));
        }
        let mut entries: Vec<Entry> = Vec::new();
        let lines = text.split([',', '\n']).map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#'));
        for (index, entry) in lines.enumerate() {
            let position = index + 1;
            let (version, key) = entry.split_once(':').ok_or(format!("entry {position} is not VERSION:BASE64"))?;
            let version = version
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|version| *version > 0)
                .ok_or(format!("entry {position}: the version must be a whole number from 1"))?;
            let key = decode_key(key).ok_or(format!("entry {position}: the key is not 32 bytes of base64"))?;
            if entries.iter().any(|(seen, _)| *seen == version) {
                return Err(format!("version {version} appears twice"));
            }
            entries.push((version, key));
        }
        let mut entries = entries.into_iter();
        let current = entries.next().ok_or("it lists no key")?;
        Ok(Self { current, older: entries.collect() })
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        std::iter::once(&self.current).chain(&self.older)
    }

    fn encode(&self) -> String {
        self.entries().map(|(version, key)| format!("{version}:{}\n", STANDARD.encode(key))).collect()
    }

    fn current(&self) -> (u32, &[u8; 32]) {
        (self.current.0, &self.current.1)
    }

    fn get(&self, version: u32) -> Option<&[u8; 32]> {
        self.entries().find(|(held, _)| *held == version).map(|(_, key)| key)
    }

    fn versions(&self) -> Vec<u32> {
        self.entries().map(|(version, _)| *version).collect()
    }
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let bytes = STANDARD.decode(text).or_else(|_| URL_SAFE_NO_PAD.decode(text)).ok()?;
    bytes.try_into().ok()
}

fn random_key() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// What identifies one version of the key file; a rename changes the inode
/// even when the modification time stays within its granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp_of(path: &Path) -> Option<FileStamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(FileStamp { modified: meta.modified().ok(), len: meta.len(), inode })
}

#[derive(Default)]
struct Reload {
    stamp: Option<FileStamp>,
    last_unknown_reload: Option<Instant>,
}

struct Inner {
    keys: RwLock<Arc<KeySet>>,
    file: Option<PathBuf>,
    reload: Mutex<Reload>,
}

/// The master key versions of this process. Cheap to clone; clones share
/// what a reload of the key file brings.
#[derive(Clone)]
pub struct MasterKey {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("versions", &self.versions())
            .field("file", &self.inner.file)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    fn with_keys(keys: KeySet, file: Option<PathBuf>) -> Self {
        let stamp = file.as_deref().and_then(stamp_of);
        Self {
            inner: Arc::new(Inner {
                keys: RwLock::new(Arc::new(keys)),
                file,
                reload: Mutex::new(Reload { stamp, last_unknown_reload: None }),
            }),
        }
    }

    /// One key, version 1.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self::with_keys(KeySet::single(1, bytes), None)
    }

    /// A random key, version 1.
    pub fn generate() -> Self {
        Self::from_bytes(random_key())
    }

    /// Parses the `CLAVIS_MASTER_KEY` syntax (see the module documentation).
    pub fn from_base64(text: &str) -> Result<Self, MasterKeyError> {
        Ok(Self::with_keys(KeySet::parse(text).map_err(MasterKeyError::BadEncoding)?, None))
    }

    /// Uses `configured` when given; otherwise reads `master.key` in the data
    /// directory, creating it (mode 0600) on first start.
    pub fn load_or_create(
        configured: Option<&str>,
        data_dir: &Path,
    ) -> Result<(Self, MasterKeySource), MasterKeyError> {
        if let Some(text) = configured {
            return Ok((Self::from_base64(text)?, MasterKeySource::Environment));
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        match read_key_file(&path) {
            Ok(keys) => Ok((Self::with_keys(keys, Some(path)), MasterKeySource::ExistingFile)),
            Err(FileError::Missing) => {
                let keys = KeySet::single(1, random_key());
                write_private_file(&path, keys.encode().as_bytes()).map_err(|err| MasterKeyError::Uncreatable {
                    path: path.display().to_string(),
                    reason: err.to_string(),
                })?;
                Ok((Self::with_keys(keys, Some(path)), MasterKeySource::NewFile))
            }
            Err(FileError::Other(err)) => Err(err),
        }
    }

    fn snapshot(&self) -> Arc<KeySet> {
        match self.inner.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn store(&self, keys: KeySet, stamp: Option<FileStamp>) {
        match self.inner.keys.write() {
            Ok(mut held) => *held = Arc::new(keys),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(keys),
        }
        if let Ok(mut reload) = self.inner.reload.lock() {
            reload.stamp = stamp;
        }
    }

    /// The version new values are sealed under.
    pub fn current_version(&self) -> u32 {
        self.snapshot().current().0
    }

    /// Every version held, the current one first.
    pub fn versions(&self) -> Vec<u32> {
        self.snapshot().versions()
    }

    /// The key file, when the keys come from one.
    pub fn key_file(&self) -> Option<&Path> {
        self.inner.file.as_deref()
    }

    /// A 32-byte key for `purpose`, derived from the current version with
    /// HMAC-SHA-256 (a single-block KDF over a uniformly random key, as in
    /// NIST SP 800-108), so the master key itself only ever seals. Every
    /// process holding the same keys derives the same value.
    pub(crate) fn derive(&self, purpose: &str) -> [u8; 32] {
        let keys = self.snapshot();
        let (_, key) = keys.current();
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
        let mut out = [0u8; 32];
        let tag = aws_lc_rs::hmac::sign(&key, format!("clavis derived key v1|{purpose}").as_bytes());
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Encrypts `plaintext` under the current version, bound to `context`.
    pub fn seal(&self, context: &SealContext<'_>, plaintext: &[u8]) -> Result<String, Error> {
        // Sealing is rare (a new secret or key), so a stat each time is cheap,
        // and it makes a process seal under a rotated-in key within moments.
        self.refresh_if_changed();
        let keys = self.snapshot();
        let (version, key) = keys.current();
        seal_with(key, version, context, plaintext)
    }

    /// Decrypts a sealed value of `context` with the version it names.
    pub fn open(&self, context: &SealContext<'_>, sealed: &str) -> Result<Vec<u8>, Error> {
        let parsed = SealedText::parse(sealed)?;
        let version = parsed.version();
        let mut keys = self.snapshot();
        if keys.get(version).is_none() && self.reload_for_unknown_version() {
            keys = self.snapshot();
        }
        let key = keys.get(version).ok_or_else(|| {
            Error::internal(format!(
                "a sealed value of tenant {} (row {}) needs master key version {version}, which this process does not hold (it holds {:?})",
                context.tenant_id,
                context.row_id,
                keys.versions()
            ))
        })?;
        open_with(key, context, parsed)
    }

    fn refresh_if_changed(&self) {
        let Some(path) = self.inner.file.as_deref() else { return };
        let stamp = stamp_of(path);
        let unchanged = self.inner.reload.lock().map(|reload| reload.stamp == stamp).unwrap_or(true);
        if !unchanged {
            self.reload_from(path, stamp);
        }
    }

    /// Re-reads the key file unless that was done moments ago; whether it did.
    fn reload_for_unknown_version(&self) -> bool {
        let Some(path) = self.inner.file.as_deref() else { return false };
        {
            let Ok(mut reload) = self.inner.reload.lock() else { return false };
            if reload.last_unknown_reload.is_some_and(|at| at.elapsed() < UNKNOWN_VERSION_RELOAD) {
                return false;
            }
            reload.last_unknown_reload = Some(Instant::now());
        }
        self.reload_from(path, stamp_of(path))
    }

    fn reload_from(&self, path: &Path, stamp: Option<FileStamp>) -> bool {
        match read_key_file(path) {
            Ok(keys) => {
                tracing::info!(versions = ?keys.versions(), "re-read the master key file");
                self.store(keys, stamp);
                true
            }
            Err(FileError::Missing) => {
                tracing::warn!(path = %path.display(), "the master key file is gone; keeping the keys loaded before");
                false
            }
            Err(FileError::Other(err)) => {
                tracing::warn!(error = %err, "keeping the master keys loaded before");
                false
            }
        }
    }

    /// Adds a fresh random key to the key file as the new current version
    /// (the highest so far plus one), keeping the older versions for opening.
    pub fn add_version(&self) -> Result<u32, MasterKeyError> {
        let keys = self.rewrite_file(|held| {
            let next = held.versions().into_iter().max().unwrap_or(0).checked_add(1).ok_or("no version is left")?;
            Ok(KeySet { current: (next, random_key()), older: held.entries().copied().collect() })
        })?;
        Ok(keys.current().0)
    }

    /// Removes from the key file every version but the current one and those
    /// in `in_use`; returns the versions removed.
    pub fn retire_versions(&self, in_use: &BTreeSet<u32>) -> Result<Vec<u32>, MasterKeyError> {
        let mut retired = Vec::new();
        self.rewrite_file(|held| {
            let (older, gone): (Vec<Entry>, Vec<Entry>) =
                held.older.iter().copied().partition(|(version, _)| in_use.contains(version));
            retired = gone.into_iter().map(|(version, _)| version).collect();
            Ok(KeySet { current: held.current, older })
        })?;
        Ok(retired)
    }

    /// Replaces the key file with `change` of what it holds now (not of what
    /// this process loaded), atomically: a private temporary file renamed
    /// over it.
    fn rewrite_file(
        &self,
        change: impl FnOnce(&KeySet) -> Result<KeySet, &'static str>,
    ) -> Result<KeySet, MasterKeyError> {
        let path = self.inner.file.as_deref().ok_or(MasterKeyError::NotFileBacked)?;
        let unwritable = |reason: String| MasterKeyError::Unwritable { path: path.display().to_string(), reason };
        let dir = path.parent().unwrap_or(Path::new("."));
        let temp = dir.join(ROTATION_FILE);
        let mut file = create_private_file(&temp).map_err(|err| {
            if err.kind() == std::io::ErrorKind::AlreadyExists {
                unwritable(format!(
                    "{} exists: another rotation is running, or one was interrupted (then remove it)",
                    temp.display()
                ))
            } else {
                unwritable(err.to_string())
            }
        })?;
        let written = (|| {
            let held = read_key_file(path).map_err(|err| match err {
                FileError::Missing => unwritable("it does not exist".into()),
                FileError::Other(err) => err,
            })?;
            let next = change(&held).map_err(|reason| unwritable(reason.into()))?;
            file.write_all(next.encode().as_bytes()).map_err(|err| unwritable(err.to_string()))?;
            file.sync_all().map_err(|err| unwritable(err.to_string()))?;
            std::fs::rename(&temp, path).map_err(|err| unwritable(err.to_string()))?;
            // The rename itself must survive a crash too.
            if let Ok(dir) = std::fs::File::open(dir) {
                let _ = dir.sync_all();
            }
            Ok(next)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        let next = written?;
        self.store(next.clone(), stamp_of(path));
        Ok(next)
    }
}

enum FileError {
    Missing,
    Other(MasterKeyError),
}

fn read_key_file(path: &Path) -> Result<KeySet, FileError> {
    let shown = || path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => KeySet::parse(&text).map_err(|reason| {
            FileError::Other(MasterKeyError::Unreadable {
                path: shown(),
                reason: format!("it must hold one base64 key of 32 bytes or VERSION:BASE64 lines: {reason}"),
            })
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(FileError::Missing),
        Err(err) => Err(FileError::Other(MasterKeyError::Unreadable { path: shown(), reason: err.to_string() })),
    }
}

fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = create_private_file(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
#[path = "master_key_tests.rs"]
mod tests;
