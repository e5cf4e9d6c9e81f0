//! One module per route.

pub mod account;
pub mod admins;
pub mod mappings;
pub mod not_found;
pub mod provisioning;
pub mod report;
pub mod scim;
pub mod sign_in;
pub mod subscriptions;
pub mod user;
