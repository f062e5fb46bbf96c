//! Wire types of the Cloud Directory, in App ID's shapes: SCIM 2.0 core
//! users (RFC 7643 §4.1), their listing (RFC 7644 §3.4.2), sign-up and
//! password-change bodies, a user's roles, and Clavis's own password policy.

use domain::services::{
    DirectoryPasswordPolicy, DirectoryUser, MAX_DIRECTORY_MIN_PASSWORD_CHARS, MIN_DIRECTORY_MIN_PASSWORD_CHARS,
};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::access::RoleRef;
use crate::wire::rfc3339;

/// The SCIM schema every user names.
pub(crate) const SCIM_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// A body that must be a JSON object. Serde reads a struct from a JSON
/// array too (`[true, "x"]` as its fields in order), which the document
/// does not allow: the array form is refused here.
pub(crate) struct Object<T>(pub T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        object(deserializer).map(Object)
    }
}

/// [`Object`] for a field.
pub(crate) fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(deserializer: D) -> Result<T, D::Error> {
    let map = Map::<String, Value>::deserialize(deserializer)?;
    T::deserialize(Value::Object(map)).map_err(D::Error::custom)
}

/// [`object`] for an optional field (`null` is `None`).
pub(crate) fn optional_object<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<Map<String, Value>>::deserialize(deserializer)?
        .map(|map| T::deserialize(Value::Object(map)).map_err(D::Error::custom))
        .transpose()
}

/// [`object`] for each item of a list.
fn objects<'de, D: Deserializer<'de>, T: DeserializeOwned>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Vec::<Map<String, Value>>::deserialize(deserializer)?
        .into_iter()
        .map(|map| T::deserialize(Value::Object(map)).map_err(D::Error::custom))
        .collect()
}

/// A user's names.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserName {
    pub given_name: String,
    pub family_name: String,
    /// The given and family names, as shown.
    pub formatted: String,
}

/// One of a user's emails; Clavis keeps one, the primary.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserEmail {
    #[schema(example = "ada@example.com")]
    pub value: String,
    pub primary: bool,
}

/// SCIM's `meta` of a resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserMeta {
    /// RFC 3339.
    pub created: String,
    /// RFC 3339.
    pub last_modified: String,
    #[schema(example = "User")]
    pub resource_type: &'static str,
    /// This user's URL in the management API.
    pub location: String,
}

/// A Cloud Directory user: a SCIM 2.0 core User as App ID returns it. Never
/// carries a password or its hash.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    /// The Cloud Directory user ID.
    pub id: String,
    /// The user's profile ID: the `sub` of their tokens, and the ID of
    /// `/users/{profileId}/roles`.
    pub profile_id: String,
    pub user_name: String,
    pub display_name: String,
    /// A disabled user cannot sign in.
    pub active: bool,
    /// `CONFIRMED` (may sign in) or `PENDING`.
    #[schema(example = "CONFIRMED")]
    pub status: &'static str,
    pub name: UserName,
    pub emails: Vec<UserEmail>,
    pub meta: UserMeta,
    #[schema(example = json!([SCIM_USER_SCHEMA]))]
    pub schemas: Vec<&'static str>,
}

impl User {
    /// The user, with `meta.location` under the tenant's management URL.
    pub(crate) fn new(user: DirectoryUser, management_url: &str) -> Self {
        let display_name = user.display_name();
        Self {
            meta: UserMeta {
                created: rfc3339(user.created_at),
                last_modified: rfc3339(user.updated_at),
                resource_type: "User",
                location: format!("{management_url}/cloud_directory/Users/{}", user.id),
            },
            name: UserName {
                given_name: user.given_name,
                family_name: user.family_name,
                formatted: display_name.clone(),
            },
            emails: vec![UserEmail { value: user.email, primary: true }],
            id: user.id,
            profile_id: user.profile_id,
            user_name: user.user_name,
            display_name,
            active: user.active,
            status: user.status.as_str(),
            schemas: vec![SCIM_USER_SCHEMA],
        }
    }
}

/// A page of users (SCIM's ListResponse, as App ID returns it).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserList {
    /// How many users match the query in all.
    #[serde(rename = "totalResults")]
    pub total_results: u64,
    /// How many users this page holds.
    #[serde(rename = "itemsPerPage")]
    pub items_per_page: u64,
    /// The 1-based index of this page's first user.
    #[serde(rename = "startIndex")]
    pub start_index: u64,
    #[serde(rename = "Resources")]
    pub resources: Vec<User>,
}

/// Query of `GET /cloud_directory/Users`. Other parameters are ignored.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListUsersParams {
    /// Text found in the email, user name, given or family name, ignoring
    /// case; at most 320 characters, no control characters.
    #[param(max_length = 320, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub query: Option<String>,
    /// The 1-based index of the first user to return (default 1).
    #[param(minimum = 1, maximum = 2147483647)]
    pub start_index: Option<u64>,
    /// Users per page: 0 to 100 (default 20); 0 returns only `totalResults`
    /// (RFC 7644 §3.4.2.4).
    #[param(minimum = 0, maximum = 100)]
    pub count: Option<u64>,
}

/// The query of `POST /cloud_directory/sign_up`: App ID's parameters,
/// accepted and ignored (every user has a profile; messages are not sent).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignUpParams {
    /// Ignored: every Clavis user has a profile.
    #[allow(dead_code)]
    pub should_create_profile: Option<bool>,
    /// Ignored: Clavis sends no messages to users.
    #[allow(dead_code)]
    pub language: Option<String>,
}

/// An email of a sign-up or replacement body.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct EmailInput {
    #[schema(example = "ada@example.com")]
    pub value: String,
    #[serde(default)]
    pub primary: Option<bool>,
}

/// The names of a sign-up or replacement body: each at most 50 characters
/// after trimming, no control characters; may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NameInput {
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
}

/// App ID's body for `sign_up`. The primary email (or the first) is the
/// user's; other fields App ID sends are ignored.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignUpBody {
    /// Whether the user may sign in (default true).
    #[serde(default)]
    pub active: Option<bool>,
    /// At least one; the primary one, or else the first, is the user's email.
    #[schema(min_items = 1)]
    #[serde(deserialize_with = "objects")]
    pub emails: Vec<EmailInput>,
    /// Printable, no spaces; defaults to the email.
    #[serde(default)]
    pub user_name: Option<String>,
    /// By the tenant's password policy (at least its `minLength`, 8 or more).
    #[schema(format = Password, min_length = 8, max_length = 256)]
    pub password: String,
    #[serde(default, deserialize_with = "optional_object")]
    pub name: Option<NameInput>,
    /// `CONFIRMED` (default; may sign in) or `PENDING`, any case.
    #[serde(default)]
    #[schema(example = "CONFIRMED")]
    pub status: Option<String>,
}

impl std::fmt::Debug for SignUpBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpBody").field("user_name", &self.user_name).finish_non_exhaustive()
    }
}

/// App ID's body for replacing a user: `sign_up`'s, with the password
/// optional (set when present).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserBody {
    /// Whether the user may sign in (default true); false ends their
    /// refresh tokens.
    #[serde(default)]
    pub active: Option<bool>,
    /// At least one; the primary one, or else the first, is the user's email.
    #[schema(min_items = 1)]
    #[serde(deserialize_with = "objects")]
    pub emails: Vec<EmailInput>,
    /// Printable, no spaces; defaults to the email.
    #[serde(default)]
    pub user_name: Option<String>,
    /// A new password, by the tenant's password policy; ends the user's
    /// refresh tokens. Absent keeps the current one.
    #[serde(default)]
    #[schema(format = Password, min_length = 8, max_length = 256)]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "optional_object")]
    pub name: Option<NameInput>,
    /// `CONFIRMED` (default; may sign in) or `PENDING`, any case.
    #[serde(default)]
    #[schema(example = "CONFIRMED")]
    pub status: Option<String>,
}

impl std::fmt::Debug for UserBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserBody").field("user_name", &self.user_name).finish_non_exhaustive()
    }
}

/// App ID's body for `change_password`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangePassword {
    /// By the tenant's password policy.
    #[schema(format = Password)]
    pub new_password: String,
    /// The user ID.
    pub uuid: String,
}

impl std::fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePassword").field("uuid", &self.uuid).finish_non_exhaustive()
    }
}

/// The roles a user holds.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserRoles {
    pub roles: Vec<RoleRef>,
}

/// The tenant's password policy for its Cloud Directory users.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PasswordPolicy {
    /// The fewest characters a password may have: 8 to 64.
    #[schema(minimum = 8, maximum = 64, example = 8)]
    #[serde(deserialize_with = "super::integral")]
    pub min_length: i64,
    /// Whether passwords on the common-password list are refused.
    pub reject_common: bool,
}

impl From<DirectoryPasswordPolicy> for PasswordPolicy {
    fn from(policy: DirectoryPasswordPolicy) -> Self {
        Self { min_length: i64::from(policy.min_chars), reject_common: policy.reject_common }
    }
}

impl TryFrom<PasswordPolicy> for DirectoryPasswordPolicy {
    type Error = String;

    fn try_from(policy: PasswordPolicy) -> Result<Self, String> {
        u32::try_from(policy.min_length)
            .ok()
            .filter(|min| (MIN_DIRECTORY_MIN_PASSWORD_CHARS..=MAX_DIRECTORY_MIN_PASSWORD_CHARS).contains(min))
            .map(|min_chars| DirectoryPasswordPolicy { min_chars, reject_common: policy.reject_common })
            .ok_or_else(|| {
                format!("minLength must be {MIN_DIRECTORY_MIN_PASSWORD_CHARS} to {MAX_DIRECTORY_MIN_PASSWORD_CHARS}")
            })
    }
}
