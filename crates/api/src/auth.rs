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
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::password))]
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

/// `POST /api/v1/admins`. The document's schema (`openapi::create_admin`) also says which
/// roles take a customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateAdminRequest {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Required for a customer admin; optional for read-only (absent = MSP-wide viewer).
    pub customer_id: Option<i64>,
    /// The initial password, at least 12 characters.
    pub password: String,
}

/// `PATCH /api/v1/admins/{id}`: fields to change. The document's schema
/// (`openapi::update_admin`) also says which roles take a customer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
/// Longest password accepted.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// An email address as Provisio accepts one: `local@domain.tld`, the local part of letters,
/// digits and `._%+-` (1 to 64), two to five dot-separated domain labels of letters, digits and
/// `-`, the last of 2 to 24 letters; at most 254 characters. The OpenAPI document states the
/// same rule as a pattern.
pub fn plausible_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let local_ok = (1..=64).contains(&local.len())
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let (Some(top), Some(rest)) = (labels.last(), labels.get(..labels.len().saturating_sub(1)))
    else {
        return false;
    };
    let domain_ok = (2..=5).contains(&labels.len())
        && (2..=24).contains(&top.len())
        && top.chars().all(|c| c.is_ascii_alphabetic())
        && rest.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok && address.len() <= 254
}

#[cfg(test)]
mod email_tests {
    use super::plausible_email;

    #[test]
    fn addresses_follow_the_documented_rule() {
        for good in [
            "ops@contoso.com",
            "jo.x+tag@mail.north-wind.co.uk",
            "0@0.AA",
        ] {
            assert!(plausible_email(good), "{good}");
        }
        for bad in [
            "ops",
            "ops@contoso",
            "a b@contoso.com",
            "@contoso.com",
            "x@.com",
            "x@a.b",
            "x@a.7.com*",
            "x@a@b.com",
            "émile@x.com",
        ] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }
}
