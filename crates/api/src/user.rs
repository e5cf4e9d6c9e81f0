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
