//! The Clavis service layer: entities, the services shared by the REST API,
//! the dashboard and the CLI, and the pure OAuth protocol code.

pub mod clock;
pub mod crypto;
pub mod db;
pub mod entities;
pub mod error;
pub mod keys;
pub mod oauth;
pub mod scope;
pub mod services;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use scope::{Access, Actor, Role, TenantScope};
pub use services::Services;
