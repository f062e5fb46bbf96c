//! The Clavis service layer: the services shared by the REST API, the
//! dashboard and the CLI, over the entities they store. The protocol code
//! they use is the pure `clavis-oauth` crate; the rules the dashboard shares
//! are in `clavis-types`.

pub mod clock;
pub mod crypto;
pub mod db;
pub(crate) mod entities;
pub mod error;
pub mod metrics;
pub mod scope;
pub mod services;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use scope::{AccessLevel, Actor, GrantedScope, Read, Role, TenantScope, Write};
pub use services::Services;
