//! Provisio's web app: a Leptos single-page app over Provisio's REST API.

pub mod api;
pub mod app;
pub mod components;
pub mod format;
pub mod pages;
pub mod paging;
pub mod session;
