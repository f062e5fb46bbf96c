//! Recovery codes: ten single-use codes that stand in for a lost
//! authenticator, shown once and stored only as SHA-256 digests.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Result;
use crate::entities::recovery_code;

/// How many codes a user holds after enrolment or regeneration.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// Characters of a code: digits and lower-case letters without i, l, o and
/// u, so that nothing reads as something else; 32 of them, 5 bits each.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// 12 characters of 5 bits: 60 bits of randomness per code.
const CODE_CHARS: usize = 12;

/// Recovery codes as shown to their owner, once.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCodes(pub Vec<String>);

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes(<{} redacted>)", self.0.len())
    }
}

/// A fresh code, `xxxx-xxxx-xxxx`.
fn generate_code() -> String {
    let mut bytes = [0u8; CODE_CHARS];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    // 256 is a multiple of 32, so taking the low five bits is unbiased.
    let chars: Vec<char> = bytes.iter().map(|b| char::from(ALPHABET[usize::from(b & 31)])).collect();
    chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The canonical form of what a person typed: case, spaces and dashes do
/// not matter, and the letters left out of the alphabet read as the digits
/// they look like. `None` when it cannot be a recovery code.
pub(super) fn normalize(input: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_CHARS);
    for c in input.chars() {
        let c = match c.to_ascii_lowercase() {
            '-' | ' ' => continue,
            'i' | 'l' => '1',
            'o' => '0',
            other => other,
        };
        let known = u8::try_from(c).is_ok_and(|byte| ALPHABET.contains(&byte));
        if !known || out.len() >= CODE_CHARS {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_CHARS).then_some(out)
}

fn digest(normalized: &str) -> String {
    Sha256::digest(normalized.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Replaces every code of `user_id` with ten new ones, returned once.
pub(super) async fn replace<C: ConnectionTrait>(conn: &C, user_id: &str, now: DateTime<Utc>) -> Result<RecoveryCodes> {
    recovery_code::Entity::delete_many().filter(recovery_code::Column::UserId.eq(user_id)).exec(conn).await?;
    let codes: Vec<String> = (0..RECOVERY_CODE_COUNT).map(|_| generate_code()).collect();
    let rows = codes.iter().filter_map(|code| normalize(code)).map(|normalized| recovery_code::ActiveModel {
        user_id: Set(user_id.to_owned()),
        digest: Set(digest(&normalized)),
        created_at: Set(now.timestamp()),
        used_at: Set(None),
        ..Default::default()
    });
    recovery_code::Entity::insert_many(rows).exec(conn).await?;
    Ok(RecoveryCodes(codes))
}

/// Uses up the code `input` names, if it is one of the user's unused codes.
/// Every unused digest is compared, in constant time each, and the code is
/// marked used by a conditional update, so two concurrent uses of one code
/// cannot both succeed.
pub(super) async fn consume<C: ConnectionTrait>(
    conn: &C,
    user_id: &str,
    input: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(normalized) = normalize(input) else {
        return Ok(false);
    };
    let wanted = digest(&normalized);
    let unused = recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .all(conn)
        .await?;
    let mut found = None;
    for row in &unused {
        if bool::from(row.digest.as_bytes().ct_eq(wanted.as_bytes())) {
            found = Some(row.id);
        }
    }
    let Some(id) = found else {
        return Ok(false);
    };
    let updated = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(now.timestamp()))
        .filter(recovery_code::Column::Id.eq(id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// How many unused codes `user_id` has left.
pub(super) async fn remaining<C: ConnectionTrait>(conn: &C, user_id: &str) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_three_groups_of_four_and_normalize_to_twelve_characters() {
        let code = generate_code();
        assert_eq!(code.len(), 14);
        assert_eq!(code.split('-').count(), 3);
        let normalized = normalize(&code).unwrap();
        assert_eq!(normalized.len(), 12);
        assert_eq!(normalize(&code.to_uppercase().replace('-', " ")).unwrap(), normalized);
    }

    #[test]
    fn look_alike_letters_read_as_digits_and_other_input_is_refused() {
        assert_eq!(normalize("OIL0-abcd-efgh").unwrap(), "0110abcdefgh");
        assert!(normalize("123456").is_none());
        assert!(normalize("abcd-efgh-jkmn-p").is_none());
        assert!(normalize("abcd-efgh-jkm!").is_none());
        assert!(normalize("abcd-efgh-jkmé").is_none());
    }

    #[test]
    fn debug_redacts_the_codes() {
        let codes = RecoveryCodes(vec!["abcd-efgh-jkmn".into()]);
        assert!(!format!("{codes:?}").contains("abcd"));
    }
}
