//! One provisioned user as the user page shows them: who they are, where they are placed, and
//! their history.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::CustomerRef;

/// `GET /api/v1/users/{id}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserDetail {
    pub id: i64,
    pub customer: CustomerRef,
    pub user_name: String,
    pub email: String,
    /// `Active`, `Preserved` or `Pending`.
    pub status: String,
    /// `active`, `preserved` or `-`.
    pub license: String,
    pub profile: String,
    pub storage_region: Option<String>,
    /// GB; none for unlimited.
    pub quota_gb: Option<u32>,
    /// The mapping that placed them; none when the customer's defaults (or an admin) did.
    pub mapping: Option<String>,
    /// Placed by an admin's hand: the mappings pass them by until it is cleared.
    pub placement_manual: bool,
    /// The identity provider managing them, or `-`.
    pub managed_by: String,
    pub usage_mb: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Set while a SCIM resource represents them (not after SCIM deleted them).
    pub scim_id: Option<String>,
    pub scim_user_name: Option<String>,
    pub external_id: Option<String>,
    /// The SCIM groups they belong to, by name.
    pub groups: Vec<String>,
    /// Directory attributes from the identity provider (department, title, …).
    pub directory: BTreeMap<String, String>,
}

/// One entry of a user's history, newest first: a provisioning event (from an identity
/// provider, a mapping, or an admin's action).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `create`, `update`, `preserve`, `restore`, `delete`, `place`, `match`, …
    pub action: String,
    pub succeeded: bool,
    /// Who: the admin's email, or the SCIM token's name and identity provider, or "Mappings".
    pub actor: String,
    /// Properties before and after: `{"status": {"before": "Active", "after": "Preserved"}}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub changes: serde_json::Value,
    pub error: Option<String>,
}

/// `PUT /api/v1/users/{id}/placement`: a placement by hand, kept until cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ManualPlacement {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::id))]
    pub profile_id: i64,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::id))]
    pub storage_region_id: i64,
    /// GB; none for unlimited.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1_000_000))]
    pub quota_gb: Option<u32>,
}

/// Most users one bulk action changes; a larger selection is narrowed first.
pub const MAX_BULK_USERS: usize = 10_000;

/// `POST /api/v1/users/bulk`: one action over many users, or (with `dry_run`) how many it
/// would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkRequest {
    pub action: BulkAction,
    pub users: BulkSelection,
    /// Count what would change and change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a bulk action does to each user, as the user page's action of the same name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BulkAction {
    Preserve,
    Restore,
    /// Place by hand on a profile, storage region and quota; every user must be of the
    /// customer those belong to.
    PlaceByHand {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::id))]
        profile_id: i64,
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::id))]
        storage_region_id: i64,
        /// GB; none for unlimited.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1_000_000))]
        quota_gb: Option<u32>,
    },
    /// The mappings place them again.
    ClearPlacement,
    /// Removes preserved users for good (their row, groups and history); others stay.
    DeletePermanently,
}

impl BulkAction {
    /// How the action reads in a sentence: "Preserve 12 users".
    pub fn verb(&self) -> &'static str {
        match self {
            BulkAction::Preserve => "Preserve",
            BulkAction::Restore => "Restore",
            BulkAction::PlaceByHand { .. } => "Place by hand",
            BulkAction::ClearPlacement => "Return to the mappings",
            BulkAction::DeletePermanently => "Delete permanently",
        }
    }
}

/// Which users a bulk action takes: a list, or everyone a report query matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum BulkSelection {
    /// These users; every one must be visible to the caller.
    Ids {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::bulk_ids))]
        ids: Vec<i64>,
    },
    /// Every user the report's query (filters and service plans, as in its URL) matches.
    Query {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::report_query_string))]
        query: String,
    },
}

/// What a bulk action changed, or would change on a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkOutcome {
    pub dry_run: bool,
    /// Users the selection named.
    pub selected: u64,
    /// Users the action changed (or would).
    pub changed: u64,
    /// Users already as the action leaves them.
    pub unchanged: u64,
}
