//! An application's `private_key_jwt` keys: set (a JWKS, one PEM public
//! key, or a `jwks_uri`), read, and remove. Setting keys makes the
//! application key-authenticated: its secrets are deleted in the same
//! transaction, so it then has no secret.

use chrono::{DateTime, Utc};
use clavis_oauth::jose::client_keys::{import_jwks, import_pem};
use clavis_oauth::jose::jwk::JwkSet;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use super::Services;
use super::applications::ApplicationView;
use super::audit::AuditRecord;
use super::invalidation::Invalidation;
use super::remote_jwks::{KeyFetchError, check_fetch_url};
use crate::entities::{application, client_secret, federated_credential};
use crate::scope::{AccessLevel, TenantScope, Write};
use crate::{Error, Result};

/// What an administrator gives as an application's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKeysInput {
    /// A JWKS, as JSON text.
    Jwks(String),
    /// Where the application publishes its JWKS.
    JwksUri(String),
    /// One PEM public key (`-----BEGIN PUBLIC KEY-----`).
    Pem(String),
}

/// The public facts of one key, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeySummary {
    pub kid: String,
    pub kty: String,
    pub alg: Option<String>,
    /// RFC 7638 thumbprint (SHA-256, base64url).
    pub thumbprint: String,
}

/// An application's keys: a stored JWKS, or a `jwks_uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeys {
    pub jwks: Option<JwkSet>,
    pub jwks_uri: Option<String>,
    /// The stored keys' summaries (empty for a `jwks_uri`).
    pub keys: Vec<ClientKeySummary>,
}

/// How an application authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A client secret (or none yet, after its keys were removed).
    Secret,
    /// Its public keys (`private_key_jwt`).
    Keys,
    /// Tokens of trusted issuers (federated credentials).
    Federated,
}

impl CredentialKind {
    /// The wire name: `secret`, `keys`, `federated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Keys => "keys",
            Self::Federated => "federated",
        }
    }

    /// What the row alone says (federated credentials live in their own table).
    pub(super) fn of_row(app: &application::Model) -> Self {
        if app.jwks.is_some() || app.jwks_uri.is_some() { Self::Keys } else { Self::Secret }
    }
}

fn summaries(jwks: &JwkSet) -> Vec<ClientKeySummary> {
    jwks.keys
        .iter()
        .map(|jwk| {
            let thumbprint = jwk.thumbprint().unwrap_or_default();
            ClientKeySummary {
                kid: jwk.kid.clone().unwrap_or_else(|| thumbprint.clone()),
                kty: jwk.kty.clone(),
                alg: jwk.alg.clone(),
                thumbprint,
            }
        })
        .collect()
}

fn keys_of(app: &application::Model) -> Result<ClientKeys> {
    let jwks = match app.jwks.as_deref() {
        Some(stored) => Some(
            serde_json::from_str::<JwkSet>(stored)
                .map_err(|_| Error::Internal("stored client keys do not parse".into()))?,
        ),
        None => None,
    };
    let keys = jwks.as_ref().map(summaries).unwrap_or_default();
    Ok(ClientKeys { jwks, jwks_uri: app.jwks_uri.clone(), keys })
}

enum Validated {
    Jwks(JwkSet, &'static str),
    Uri(String),
}

impl Services {
    /// Sets an application's keys, replacing any it had, and deletes its
    /// secrets. A `jwks_uri` is fetched once here, so an unusable one is
    /// refused at once (400) rather than at the first token request.
    pub async fn set_client_keys(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        input: ClientKeysInput,
        now: DateTime<Utc>,
    ) -> Result<ClientKeys> {
        let validated = match input {
            ClientKeysInput::Jwks(json) => {
                Validated::Jwks(import_jwks(&json).map_err(|err| Error::Validation(err.0))?, "jwks")
            }
            ClientKeysInput::Pem(pem) => {
                let jwk = import_pem(&pem).map_err(|err| Error::Validation(err.0))?;
                Validated::Jwks(JwkSet { keys: vec![jwk] }, "pem")
            }
            ClientKeysInput::JwksUri(uri) => Validated::Uri(check_fetch_url(uri.trim())?.to_string()),
        };
        // The application must be this tenant's before anything is fetched.
        self.find_application(self.db(), scope, client_id).await?;
        if let Validated::Uri(uri) = &validated {
            // No key has an empty kid, so a fetch that worked answers "unknown kid".
            match self.remote_key_set(uri, "", now).await {
                Ok(_) | Err(KeyFetchError::UnknownKid) => {}
                Err(_) => {
                    return Err(Error::validation(
                        "the jwks_uri could not be fetched, or holds no usable signing key (a failed URL is retried after a minute)",
                    ));
                }
            }
        }
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        if has_federated_credentials(&txn, client_id).await? {
            return Err(Error::Conflict(
                "the application authenticates with federated credentials: remove them before setting keys".into(),
            ));
        }
        let mut active: application::ActiveModel = app.into();
        let details = match &validated {
            Validated::Jwks(jwks, source) => {
                let stored = serde_json::to_string(jwks).map_err(|err| Error::Internal(err.to_string()))?;
                active.jwks = Set(Some(stored));
                active.jwks_uri = Set(None);
                let kids: Vec<&str> = jwks.keys.iter().filter_map(|jwk| jwk.kid.as_deref()).collect();
                serde_json::json!({"source": source, "kids": kids})
            }
            Validated::Uri(uri) => {
                active.jwks = Set(None);
                active.jwks_uri = Set(Some(uri.clone()));
                serde_json::json!({"source": "jwks_uri", "jwksUri": uri})
            }
        };
        active.updated_at = Set(now.timestamp());
        let app = active.update(&txn).await?;
        let secrets = client_secret::Entity::delete_many()
            .filter(client_secret::Column::ClientId.eq(client_id))
            .exec(&txn)
            .await?
            .rows_affected;
        AuditRecord::in_scope(scope, "application.keys.set", client_id)
            .with_details(serde_json::json!({"keys": details, "secretsDeleted": secrets}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await?;
        keys_of(&app)
    }

    /// An application's keys; `NotFound` when it has none.
    pub async fn client_keys(&self, scope: &TenantScope<impl AccessLevel>, client_id: &str) -> Result<ClientKeys> {
        let app = self.find_application(self.db(), scope, client_id).await?;
        if CredentialKind::of_row(&app) != CredentialKind::Keys {
            return Err(Error::NotFound("application keys"));
        }
        keys_of(&app)
    }

    /// Removes all of an application's keys. It is then left with no
    /// credential until a secret is made for it (a secret rotation).
    pub async fn delete_client_keys(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        if CredentialKind::of_row(&app) != CredentialKind::Keys {
            return Err(Error::NotFound("application keys"));
        }
        let mut active: application::ActiveModel = app.into();
        active.jwks = Set(None);
        active.jwks_uri = Set(None);
        active.updated_at = Set(now.timestamp());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "application.keys.delete", client_id).write(&txn, now).await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await?;
        Ok(())
    }

    /// Removes one stored key by `kid`; removing the last one removes the
    /// application's keys altogether. Keys behind a `jwks_uri` are managed
    /// where they are published (409).
    pub async fn delete_client_key(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        kid: &str,
        now: DateTime<Utc>,
    ) -> Result<ClientKeys> {
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        if app.jwks_uri.is_some() {
            return Err(Error::Conflict("the application's keys are at its jwks_uri: change them there".into()));
        }
        let mut keys = keys_of(&app)?;
        let jwks = keys.jwks.as_mut().ok_or(Error::NotFound("application keys"))?;
        let before = jwks.keys.len();
        jwks.keys.retain(|jwk| jwk.kid.as_deref() != Some(kid));
        if jwks.keys.len() == before {
            return Err(Error::NotFound("key"));
        }
        let stored = if jwks.keys.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&*jwks).map_err(|err| Error::Internal(err.to_string()))?)
        };
        let mut active: application::ActiveModel = app.into();
        active.jwks = Set(stored);
        active.updated_at = Set(now.timestamp());
        let app = active.update(&txn).await?;
        AuditRecord::in_scope(scope, "application.keys.delete_key", client_id)
            .with_details(serde_json::json!({"kid": kid}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await?;
        keys_of(&app)
    }

    /// Marks the views of applications that have federated credentials.
    pub(super) async fn mark_federated<C: ConnectionTrait>(
        &self,
        conn: &C,
        views: &mut [ApplicationView],
    ) -> Result<()> {
        let candidates: Vec<String> = views
            .iter()
            .filter(|view| view.credential == CredentialKind::Secret)
            .map(|view| view.client_id.clone())
            .collect();
        if candidates.is_empty() {
            return Ok(());
        }
        let federated: Vec<String> = federated_credential::Entity::find()
            .filter(federated_credential::Column::ClientId.is_in(candidates))
            .all(conn)
            .await?
            .into_iter()
            .map(|row| row.client_id)
            .collect();
        for view in views.iter_mut().filter(|view| federated.contains(&view.client_id)) {
            view.credential = CredentialKind::Federated;
        }
        Ok(())
    }
}

pub(super) async fn has_federated_credentials<C: ConnectionTrait>(conn: &C, client_id: &str) -> Result<bool> {
    Ok(federated_credential::Entity::find()
        .filter(federated_credential::Column::ClientId.eq(client_id))
        .count(conn)
        .await?
        > 0)
}
