//! The small enums of the model: what an application may do with the
//! management API, and a member's role in a tenant.

use serde::{Deserialize, Serialize};

/// A text that names none of an enum's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseEnumError {
    /// What was being parsed, for the error message.
    pub what: &'static str,
    /// The accepted values, for the error message.
    pub expected: &'static str,
}

impl std::fmt::Display for ParseEnumError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} must be {}", self.what, self.expected)
    }
}

impl std::error::Error for ParseEnumError {}

/// What an application may do with its tenant's management API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ManagementAccess {
    #[default]
    None,
    Read,
    Write,
}

impl ManagementAccess {
    pub const ALL: [ManagementAccess; 3] = [ManagementAccess::None, ManagementAccess::Read, ManagementAccess::Write];

    pub fn as_str(self) -> &'static str {
        match self {
            ManagementAccess::None => "none",
            ManagementAccess::Read => "read",
            ManagementAccess::Write => "write",
        }
    }

    /// ```
    /// use clavis_types::ManagementAccess;
    /// assert_eq!(ManagementAccess::parse("read"), Ok(ManagementAccess::Read));
    /// assert!(ManagementAccess::parse("admin").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, ParseEnumError> {
        Self::ALL
            .into_iter()
            .find(|access| access.as_str() == text)
            .ok_or(ParseEnumError { what: "management access", expected: "none, read or write" })
    }
}

/// A dashboard member's role in a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// May change everything in the tenant.
    Admin,
    /// May read everything in the tenant and change nothing.
    Viewer,
}

impl MemberRole {
    pub const ALL: [MemberRole; 2] = [MemberRole::Admin, MemberRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Admin => "admin",
            MemberRole::Viewer => "viewer",
        }
    }

    /// ```
    /// use clavis_types::MemberRole;
    /// assert_eq!(MemberRole::parse("viewer"), Ok(MemberRole::Viewer));
    /// assert!(MemberRole::parse("owner").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, ParseEnumError> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or(ParseEnumError { what: "role", expected: "admin or viewer" })
    }
}
