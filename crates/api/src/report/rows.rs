//! Rows, pages and facets as the report endpoints return them.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::fields::ReportField;

/// Rows per page when the client does not ask.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Most rows one page may hold.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// One provisioned user: the report's 13 fields in the report's order, then where they are placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportRow {
    /// Provisio's id of the user; stable, used to key rows.
    pub id: i64,
    pub global_customer_id: String,
    pub customer_name: String,
    pub account_name: String,
    pub user_name: String,
    pub user_email: String,
    pub profile: String,
    pub user_status: String,
    /// `active`, `preserved`, or `-` for unlicensed.
    pub endpoints_license: String,
    pub endpoints_usage_mb: i64,
    /// ISO 8601, UTC.
    pub created_on: DateTime<Utc>,
    /// The identity provider managing the user, or `-` for a manually added user.
    pub managed_by: String,
    pub custom_attribute_name: Option<String>,
    pub custom_attribute_value: Option<String>,
    /// Where the user's backups are kept; none before they are placed.
    pub storage_region: Option<String>,
    /// GB; none for unlimited.
    pub quota_gb: Option<u32>,
    /// The mapping that placed the user; none when the customer's defaults did.
    pub mapping: Option<String>,
}

/// Where an unlimited quota stands among quotas when sorting and filtering: above them all.
pub const UNLIMITED_QUOTA_SORTS_AS: i64 = i32::MAX as i64;

/// How an unlimited quota reads in a cell and an export.
pub const UNLIMITED: &str = "Unlimited";

impl ReportRow {
    /// The text a cell of `field` shows; times are ISO 8601 UTC.
    pub fn cell(&self, field: ReportField) -> String {
        self.cell_text(field).into_owned()
    }

    /// [`ReportRow::cell`] without copying text fields (exports write millions of cells).
    pub fn cell_text(&self, field: ReportField) -> Cow<'_, str> {
        fn text(value: &Option<String>) -> Cow<'_, str> {
            Cow::Borrowed(value.as_deref().unwrap_or_default())
        }
        match field {
            ReportField::GlobalCustomerId => Cow::Borrowed(&self.global_customer_id),
            ReportField::CustomerName => Cow::Borrowed(&self.customer_name),
            ReportField::AccountName => Cow::Borrowed(&self.account_name),
            ReportField::UserName => Cow::Borrowed(&self.user_name),
            ReportField::UserEmail => Cow::Borrowed(&self.user_email),
            ReportField::Profile => Cow::Borrowed(&self.profile),
            ReportField::UserStatus => Cow::Borrowed(&self.user_status),
            ReportField::EndpointsLicense => Cow::Borrowed(&self.endpoints_license),
            ReportField::EndpointsUsageMb => Cow::Owned(self.endpoints_usage_mb.to_string()),
            ReportField::CreatedOn => {
                Cow::Owned(self.created_on.to_rfc3339_opts(SecondsFormat::Secs, true))
            }
            ReportField::ManagedBy => Cow::Borrowed(&self.managed_by),
            ReportField::CustomAttributeName => text(&self.custom_attribute_name),
            ReportField::CustomAttributeValue => text(&self.custom_attribute_value),
            ReportField::StorageRegion => text(&self.storage_region),
            ReportField::QuotaGb => self
                .quota_gb
                .map_or(Cow::Borrowed(UNLIMITED), |gb| Cow::Owned(gb.to_string())),
            ReportField::Mapping => text(&self.mapping),
        }
    }

    /// The number a Number field sorts by: an unlimited quota sorts above every quota.
    pub fn number(&self, field: ReportField) -> i64 {
        match field {
            ReportField::QuotaGb => self.quota_gb.map_or(UNLIMITED_QUOTA_SORTS_AS, i64::from),
            _ => self.endpoints_usage_mb,
        }
    }
}

/// One page of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportPage {
    pub rows: Vec<ReportRow>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Rows matching the filter; given with the first page only (when no cursor was sent).
    pub total: Option<u64>,
}

/// A value of an enumerable field and how many rows carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// The values offered by the filter UI, counted over every row the caller may see.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportFacets {
    pub service_plans: Vec<FacetValue>,
    pub customers: Vec<FacetValue>,
    pub profiles: Vec<FacetValue>,
    pub user_statuses: Vec<FacetValue>,
    pub endpoints_licenses: Vec<FacetValue>,
    pub managed_by: Vec<FacetValue>,
}

impl ReportFacets {
    /// The facet listing the values of `field`, if the field has one.
    pub fn for_field(&self, field: ReportField) -> Option<&[FacetValue]> {
        match field {
            ReportField::CustomerName => Some(&self.customers),
            ReportField::Profile => Some(&self.profiles),
            ReportField::UserStatus => Some(&self.user_statuses),
            ReportField::EndpointsLicense => Some(&self.endpoints_licenses),
            ReportField::ManagedBy => Some(&self.managed_by),
            _ => None,
        }
    }
}
