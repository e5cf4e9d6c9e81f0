//! The fields of the User Provisioning report: its own 13 in the order the report defines them,
//! then the placement the mappings gave (storage region, quota, mapping), hidden by default.

use serde::{Deserialize, Serialize};

/// One column of the User Provisioning report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportField {
    GlobalCustomerId,
    CustomerName,
    AccountName,
    UserName,
    UserEmail,
    Profile,
    UserStatus,
    EndpointsLicense,
    EndpointsUsageMb,
    CreatedOn,
    ManagedBy,
    CustomAttributeName,
    CustomAttributeValue,
    StorageRegion,
    /// GB; unlimited when the user has no quota.
    QuotaGb,
    Mapping,
}

/// What kind of value a field holds, which decides the operators a filter may use on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    Date,
    /// A small closed set of values, offered with counts by the facets endpoint.
    Enum,
}

impl ReportField {
    /// The report's own 13 fields, in its order: the columns shown (and exported) by default.
    pub const SEED: [ReportField; 13] = {
        let mut seed = [ReportField::GlobalCustomerId; 13];
        let mut at = 0;
        while at < seed.len() {
            seed[at] = ReportField::ALL[at];
            at += 1;
        }
        seed
    };

    /// Every field: the report's own, then the placement columns added through the Columns
    /// panel.
    pub const ALL: [ReportField; 16] = [
        ReportField::GlobalCustomerId,
        ReportField::CustomerName,
        ReportField::AccountName,
        ReportField::UserName,
        ReportField::UserEmail,
        ReportField::Profile,
        ReportField::UserStatus,
        ReportField::EndpointsLicense,
        ReportField::EndpointsUsageMb,
        ReportField::CreatedOn,
        ReportField::ManagedBy,
        ReportField::CustomAttributeName,
        ReportField::CustomAttributeValue,
        ReportField::StorageRegion,
        ReportField::QuotaGb,
        ReportField::Mapping,
    ];

    /// The stable name used in URLs, JSON and exports.
    pub fn key(self) -> &'static str {
        match self {
            ReportField::GlobalCustomerId => "global_customer_id",
            ReportField::CustomerName => "customer_name",
            ReportField::AccountName => "account_name",
            ReportField::UserName => "user_name",
            ReportField::UserEmail => "user_email",
            ReportField::Profile => "profile",
            ReportField::UserStatus => "user_status",
            ReportField::EndpointsLicense => "endpoints_license",
            ReportField::EndpointsUsageMb => "endpoints_usage_mb",
            ReportField::CreatedOn => "created_on",
            ReportField::ManagedBy => "managed_by",
            ReportField::CustomAttributeName => "custom_attribute_name",
            ReportField::CustomAttributeValue => "custom_attribute_value",
            ReportField::StorageRegion => "storage_region",
            ReportField::QuotaGb => "quota_gb",
            ReportField::Mapping => "mapping",
        }
    }

    /// The column header as the report names it.
    pub fn label(self) -> &'static str {
        match self {
            ReportField::GlobalCustomerId => "Global Customer ID",
            ReportField::CustomerName => "Customer Name",
            ReportField::AccountName => "Account Name",
            ReportField::UserName => "User Name",
            ReportField::UserEmail => "User Email",
            ReportField::Profile => "Profile",
            ReportField::UserStatus => "User Status",
            ReportField::EndpointsLicense => "Endpoints License",
            ReportField::EndpointsUsageMb => "Endpoints Usage (MB)",
            ReportField::CreatedOn => "Created On (UTC)",
            ReportField::ManagedBy => "Managed By",
            ReportField::CustomAttributeName => "Custom Attribute Name",
            ReportField::CustomAttributeValue => "Custom Attribute Value",
            ReportField::StorageRegion => "Storage Region",
            ReportField::QuotaGb => "Quota (GB)",
            ReportField::Mapping => "Mapping",
        }
    }

    pub fn kind(self) -> FieldKind {
        match self {
            ReportField::Profile
            | ReportField::UserStatus
            | ReportField::EndpointsLicense
            | ReportField::ManagedBy => FieldKind::Enum,
            ReportField::EndpointsUsageMb | ReportField::QuotaGb => FieldKind::Number,
            ReportField::CreatedOn => FieldKind::Date,
            _ => FieldKind::Text,
        }
    }

    pub fn from_key(key: &str) -> Option<ReportField> {
        Self::ALL.into_iter().find(|field| field.key() == key)
    }
}

impl FieldKind {
    /// The operators a filter on a field of this kind may use, in the order the UI offers them.
    pub fn operators(self) -> &'static [Operator] {
        match self {
            FieldKind::Text => &[
                Operator::Contains,
                Operator::Equals,
                Operator::StartsWith,
                Operator::IsEmpty,
                Operator::AnyOf,
            ],
            FieldKind::Number => &[Operator::Eq, Operator::Lt, Operator::Gt, Operator::Between],
            FieldKind::Date => &[
                Operator::Before,
                Operator::After,
                Operator::Between,
                Operator::InLastDays,
            ],
            FieldKind::Enum => &[Operator::AnyOf],
        }
    }
}

/// A filter operator. Which ones apply depends on the field's [`FieldKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Contains,
    Equals,
    StartsWith,
    IsEmpty,
    AnyOf,
    Eq,
    Lt,
    Gt,
    Between,
    Before,
    After,
    InLastDays,
}

impl Operator {
    pub const ALL: [Operator; 12] = [
        Operator::Contains,
        Operator::Equals,
        Operator::StartsWith,
        Operator::IsEmpty,
        Operator::AnyOf,
        Operator::Eq,
        Operator::Lt,
        Operator::Gt,
        Operator::Between,
        Operator::Before,
        Operator::After,
        Operator::InLastDays,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Operator::Contains => "contains",
            Operator::Equals => "equals",
            Operator::StartsWith => "starts_with",
            Operator::IsEmpty => "is_empty",
            Operator::AnyOf => "any_of",
            Operator::Eq => "eq",
            Operator::Lt => "lt",
            Operator::Gt => "gt",
            Operator::Between => "between",
            Operator::Before => "before",
            Operator::After => "after",
            Operator::InLastDays => "in_last_days",
        }
    }

    /// How the UI says it, reading "<field> <label> <value>".
    pub fn label(self) -> &'static str {
        match self {
            Operator::Contains => "contains",
            Operator::Equals => "equals",
            Operator::StartsWith => "starts with",
            Operator::IsEmpty => "is empty",
            Operator::AnyOf => "is any of",
            Operator::Eq => "=",
            Operator::Lt => "<",
            Operator::Gt => ">",
            Operator::Between => "between",
            Operator::Before => "before",
            Operator::After => "after",
            Operator::InLastDays => "in the last (days)",
        }
    }

    pub fn from_key(key: &str) -> Option<Operator> {
        Self::ALL.into_iter().find(|op| op.key() == key)
    }
}
