//! Tests of the master key versions, their syntax and the key file.

use super::*;
use crate::crypto::SealContext;

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clavis-mk-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn b64(byte: u8) -> String {
    STANDARD.encode([byte; 32])
}

const CONTEXT: SealContext<'static> = SealContext::client_secret("tenant", "row");

#[test]
fn a_single_key_is_version_one_and_a_list_puts_the_first_in_charge() {
    let single = MasterKey::from_base64(&b64(1)).unwrap();
    assert_eq!(single.versions(), vec![1]);
    let list = MasterKey::from_base64(&format!(" 2:{} , 1:{} ", b64(2), b64(1))).unwrap();
    assert_eq!(list.current_version(), 2);
    assert_eq!(list.versions(), vec![2, 1]);

    // A value sealed under the single key opens under the list, and new values use version 2.
    let old = single.seal(&CONTEXT, b"x").unwrap();
    assert!(old.starts_with("v1."), "{old}");
    assert_eq!(list.open(&CONTEXT, &old).unwrap(), b"x");
    assert!(list.seal(&CONTEXT, b"y").unwrap().starts_with("v2."));
    let err = format!("{:?}", single.open(&CONTEXT, &list.seal(&CONTEXT, b"y").unwrap()).unwrap_err());
    assert!(err.contains("version 2"), "{err}");
}

#[test]
fn bad_lists_are_refused_without_echoing_key_material() {
    let secretish = "c2VjcmV0LWtleS1tYXRlcmlhbA";
    for text in [
        String::new(),
        "c2hvcnQ=".to_owned(),
        format!("x:{}", b64(1)),
        format!("0:{}", b64(1)),
        format!("1:{secretish}"),
        format!("1:{},1:{}", b64(1), b64(2)),
        format!("2:{},{secretish}", b64(1)),
    ] {
        let err = MasterKey::from_base64(&text).unwrap_err().to_string();
        assert!(err.contains("CLAVIS_MASTER_KEY"), "{err}");
        assert!(!err.contains(secretish) && !err.contains(&b64(1)), "{err}");
    }
    assert!(MasterKey::from_base64(&STANDARD.encode([7u8; 31])).is_err());
}

#[test]
fn debug_names_versions_not_keys() {
    let key = MasterKey::from_base64(&format!("2:{},1:{}", b64(2), b64(1))).unwrap();
    let shown = format!("{key:?}");
    assert!(shown.contains("[2, 1]"), "{shown}");
    assert!(!shown.contains(&b64(2)) && !shown.contains(&URL_SAFE_NO_PAD.encode([2u8; 32])), "{shown}");
}

#[test]
fn the_key_file_is_created_private_and_reused() {
    let dir = temp_dir();
    let (first, source) = MasterKey::load_or_create(None, &dir).unwrap();
    assert_eq!(source, MasterKeySource::NewFile);
    let sealed = first.seal(&CONTEXT, b"kept").unwrap();
    let (second, source) = MasterKey::load_or_create(None, &dir).unwrap();
    assert_eq!(source, MasterKeySource::ExistingFile);
    assert_eq!(second.open(&CONTEXT, &sealed).unwrap(), b"kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(MASTER_KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_old_single_line_file_reads_as_version_one() {
    let dir = temp_dir();
    std::fs::write(dir.join(MASTER_KEY_FILE), format!("{}\n", b64(9))).unwrap();
    let (key, _) = MasterKey::load_or_create(None, &dir).unwrap();
    assert_eq!(key.versions(), vec![1]);
    let same = MasterKey::from_bytes([9u8; 32]);
    assert_eq!(key.open(&CONTEXT, &same.seal(&CONTEXT, b"v").unwrap()).unwrap(), b"v");
    std::fs::write(dir.join(MASTER_KEY_FILE), "garbage").unwrap();
    let err = MasterKey::load_or_create(None, &dir).unwrap_err().to_string();
    assert!(err.contains("master key file"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_new_version_reaches_other_processes_through_the_file() {
    let dir = temp_dir();
    let (running, _) = MasterKey::load_or_create(None, &dir).unwrap();
    let (rotator, _) = MasterKey::load_or_create(None, &dir).unwrap();
    let before = running.seal(&CONTEXT, b"before").unwrap();

    assert_eq!(rotator.add_version().unwrap(), 2);
    assert_eq!(rotator.versions(), vec![2, 1]);
    let text = std::fs::read_to_string(dir.join(MASTER_KEY_FILE)).unwrap();
    assert!(text.starts_with("2:") && text.contains("\n1:"), "current key first");
    assert!(!dir.join(ROTATION_FILE).exists(), "the temporary file was renamed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(MASTER_KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(rotator.open(&CONTEXT, &before).unwrap(), b"before");

    // The running process opens a version-2 value by re-reading the file once.
    let v2 = rotator.seal(&CONTEXT, b"v2").unwrap();
    assert!(v2.starts_with("v2."));
    assert_eq!(running.open(&CONTEXT, &v2).unwrap(), b"v2");

    // Right after that re-read, an unknown version fails instead of reading again…
    assert_eq!(rotator.add_version().unwrap(), 3);
    let v3 = rotator.seal(&CONTEXT, b"v3").unwrap();
    assert!(running.open(&CONTEXT, &v3).is_err(), "re-reads are bounded");
    // …but sealing notices the changed file and uses the new current version.
    assert!(running.seal(&CONTEXT, b"new").unwrap().starts_with("v3."));
    assert_eq!(running.open(&CONTEXT, &v3).unwrap(), b"v3");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rotations_do_not_race_and_retiring_keeps_what_is_in_use() {
    let dir = temp_dir();
    let (key, _) = MasterKey::load_or_create(None, &dir).unwrap();
    std::fs::write(dir.join(ROTATION_FILE), "").unwrap();
    let err = key.add_version().unwrap_err().to_string();
    assert!(err.contains("another rotation"), "{err}");
    assert_eq!(key.versions(), vec![1]);
    std::fs::remove_file(dir.join(ROTATION_FILE)).unwrap();

    key.add_version().unwrap();
    key.add_version().unwrap();
    assert_eq!(key.versions(), vec![3, 2, 1]);
    let retired = key.retire_versions(&BTreeSet::from([2])).unwrap();
    assert_eq!(retired, vec![1]);
    let (reread, _) = MasterKey::load_or_create(None, &dir).unwrap();
    assert_eq!(reread.versions(), vec![3, 2]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keys_from_the_environment_cannot_be_rotated_in_place() {
    let key = MasterKey::from_base64(&b64(1)).unwrap();
    assert!(matches!(key.add_version(), Err(MasterKeyError::NotFileBacked)));
    assert!(key.retire_versions(&BTreeSet::new()).is_err());
}
