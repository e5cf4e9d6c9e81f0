//! Sign-in, the signed-in admin, roles, admin management and the audit log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an admin may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Every customer; manages admins.
    MspAdmin,
    /// One customer: its users, and that customer's provisioning settings.
    CustomerAdmin,
    /// Reads, never writes: MSP-wide without a customer, else one customer's data.
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::MspAdmin, Role::CustomerAdmin, Role::ReadOnly];

    pub fn key(self) -> &'static str {
        match self {
            Role::MspAdmin => "msp_admin",
            Role::CustomerAdmin => "customer_admin",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::MspAdmin => "MSP admin",
            Role::CustomerAdmin => "Customer admin",
            Role::ReadOnly => "Read-only",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|role| role.key() == key)
    }
}

/// A customer as admin screens name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerRef {
    pub id: i64,
    pub global_id: String,
    pub name: String,
}

/// `POST /api/v1/session`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}

/// The signed-in admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// The customer this admin is bound to; absent for MSP-wide admins.
    pub customer: Option<CustomerRef>,
}

/// `POST /api/v1/session/password`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// An admin account as the Admins page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminAccount {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub customer: Option<CustomerRef>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/admins`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateAdminRequest {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Required for a customer admin; optional for read-only (absent = MSP-wide viewer).
    pub customer_id: Option<i64>,
    /// The initial password, at least 12 characters.
    pub password: String,
}

/// `PATCH /api/v1/admins/{id}`: fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateAdminRequest {
    pub role: Option<Role>,
    /// With `role`: the customer for a customer admin or customer viewer.
    pub customer_id: Option<i64>,
    pub disabled: Option<bool>,
    pub display_name: Option<String>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The admin who acted, when known (a failed sign-in has only the email tried).
    pub actor: Option<String>,
    pub action: String,
    pub detail: String,
    pub client_address: Option<String>,
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
