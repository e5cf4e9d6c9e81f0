//! Wire types shared by the Provisio web app and server.
//!
//! Everything that crosses HTTP is defined here once, so the app and the server cannot disagree
//! about a field name, a filter operator or how a query is written into a URL.

pub mod auth;
pub mod error;
pub mod mapping;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod provisioning;
pub mod report;
pub mod scim;
pub mod subscription;
pub mod user;

pub use error::ErrorBody;
