//! SCIM provisioning tokens as the web app manages them. (The SCIM protocol itself speaks
//! RFC 7643/7644 JSON, produced by the server's `scim` module.)

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The identity provider a token is for; it becomes the provisioned users' "Managed By".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdentityProvider {
    EntraId,
    Okta,
    OneLogin,
    Other,
}

impl IdentityProvider {
    pub const ALL: [IdentityProvider; 4] = [
        IdentityProvider::EntraId,
        IdentityProvider::Okta,
        IdentityProvider::OneLogin,
        IdentityProvider::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            IdentityProvider::EntraId => "entra_id",
            IdentityProvider::Okta => "okta",
            IdentityProvider::OneLogin => "onelogin",
            IdentityProvider::Other => "other",
        }
    }

    /// As the report's "Managed By" column shows it.
    pub fn label(self) -> &'static str {
        match self {
            IdentityProvider::EntraId => "Microsoft Entra ID",
            IdentityProvider::Okta => "Okta",
            IdentityProvider::OneLogin => "OneLogin",
            IdentityProvider::Other => "Other",
        }
    }

    pub fn from_key(key: &str) -> Option<IdentityProvider> {
        Self::ALL.into_iter().find(|idp| idp.key() == key)
    }
}

/// How long a new token lives.
pub const TOKEN_LIFETIMES_DAYS: [u32; 4] = [30, 90, 180, 365];
/// Active tokens a customer may hold at once: two, so a rotation never breaks provisioning.
pub const MAX_ACTIVE_TOKENS: usize = 2;
/// A token this close to expiry shows as expiring soon.
pub const EXPIRING_SOON_DAYS: i64 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    ExpiringSoon,
    Expired,
    Revoked,
}

impl TokenStatus {
    pub fn label(self) -> &'static str {
        match self {
            TokenStatus::Active => "Active",
            TokenStatus::ExpiringSoon => "Expiring soon",
            TokenStatus::Expired => "Expired",
            TokenStatus::Revoked => "Revoked",
        }
    }
}

/// A token as listed: never the secret itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScimToken {
    pub id: i64,
    pub customer_id: i64,
    pub name: String,
    pub identity_provider: IdentityProvider,
    /// The first characters, e.g. `pvs_3fa9c1d2`, to recognise it by.
    pub prefix: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_address: Option<String>,
    pub status: TokenStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateScimTokenRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::name_80))]
    pub name: String,
    pub identity_provider: IdentityProvider,
    /// One of 30, 90, 180, 365.
    #[cfg_attr(feature = "openapi", schema(schema_with = lifetimes))]
    pub lifetime_days: u32,
}

/// The answer to creating a token: the only time the secret is ever shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedScimToken {
    pub token: String,
    pub details: ScimToken,
    /// The SCIM base URL to paste into the identity provider (Tenant URL).
    pub tenant_url: String,
}

#[cfg(feature = "openapi")]
fn lifetimes() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::openapi::one_of_integers(&TOKEN_LIFETIMES_DAYS)
}

/// The SCIM directory attributes that may fill a customer's Custom Attribute, by SCIM name:
/// those mappings match on, but the custom attribute itself.
pub const CUSTOM_ATTRIBUTE_SOURCES: &[&str] =
    match crate::mapping::MATCHABLE_ATTRIBUTES.split_last() {
        Some((_custom_attribute, directory)) => directory,
        None => &[],
    };

/// `GET|PUT /api/v1/customers/{customer_id}/scim/custom-attribute`: the customer's
/// User-Identifier Custom Attribute. The report's Custom Attribute Name and Value of the
/// customer's SCIM users are the attribute's name and each user's value of it; SCIM changes
/// keep them current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomAttributeSetting {
    /// One of [`CUSTOM_ATTRIBUTE_SOURCES`]; none: SCIM fills no custom attribute (and the
    /// customer's SCIM users have none).
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::custom_attribute_source))]
    pub attribute: Option<String>,
    /// Whether the report shows it; when not, Name and Value stay empty.
    pub shown: bool,
}
