//! Provisioning mappings: priority-ordered rules that place each SCIM user of a customer on a
//! backup profile, storage region and quota.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest mapping name, in characters.
pub const MAX_MAPPING_NAME_CHARS: usize = 80;
/// Most values an attribute mapping may list.
pub const MAX_MATCH_VALUES: usize = 50;
/// Most groups a group mapping may list.
pub const MAX_MATCH_GROUPS: usize = 50;
/// Most mappings a customer may have.
pub const MAX_MAPPINGS: usize = 100;
/// The largest quota, in GB.
pub const MAX_QUOTA_GB: u32 = 1_000_000;

/// How an attribute mapping compares values (case-insensitively, the whole value or its start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttributeOperator {
    AnyOf,
    StartsWith,
}

/// Who a mapping matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Matcher {
    /// Members of any of these SCIM groups (by SCIM id); guests never match.
    Groups {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::mapping_groups))]
        groups: Vec<String>,
    },
    /// A directory attribute (`department`, `title`, …) compared with the values.
    Attribute {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::matchable_attribute))]
        attribute: String,
        operator: AttributeOperator,
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::match_values))]
        values: Vec<String>,
    },
    /// Every user.
    All,
}

/// The attribute name that stands for the customer's own custom attribute (the report's
/// Custom Attribute Value), whatever the customer calls it.
pub const CUSTOM_ATTRIBUTE: &str = "customAttribute";

/// The directory attributes a mapping may match on, by their SCIM names, and the customer's
/// custom attribute.
pub const MATCHABLE_ATTRIBUTES: [&str; 12] = [
    "department",
    "title",
    "userType",
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "locality",
    "region",
    "country",
    "preferredLanguage",
    CUSTOM_ATTRIBUTE,
];

/// Create or replace a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaveMappingRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::name_80))]
    pub name: String,
    pub matcher: Matcher,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::id))]
    pub profile_id: i64,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::id))]
    pub storage_region_id: i64,
    /// GB; none for unlimited.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1_000_000))]
    pub quota_gb: Option<u32>,
    pub enabled: bool,
}

/// A mapping as the editor shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mapping {
    pub id: i64,
    /// 1 is the highest priority.
    pub priority: u32,
    pub name: String,
    pub matcher: Matcher,
    /// Who it matches, in words ("department is any of Sales, Marketing").
    pub matches_text: String,
    pub profile_id: i64,
    pub profile_name: String,
    pub storage_region_id: i64,
    pub storage_region_name: String,
    pub quota_gb: Option<u32>,
    pub enabled: bool,
    /// How many users it places now.
    pub users: u64,
    pub updated_at: DateTime<Utc>,
}

/// The whole order, highest priority first; it must name exactly the current mappings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingOrderRequest {
    pub ids: Vec<i64>,
}

/// A list of mappings to try without saving, highest priority first: existing ones by id
/// (with their edits), new ones without.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingPreviewRequest {
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub mappings: Vec<ProposedMapping>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposedMapping {
    /// The mapping it edits; none for a new one.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::optional_id))]
    pub id: Option<i64>,
    pub mapping: SaveMappingRequest,
}

/// What saving a list would change: how many users each mapping would place, how many would
/// change profile, region or quota, and the users who would change (the first 100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingPreview {
    /// The customer's SCIM users, all evaluated.
    pub users: u64,
    /// Per proposed mapping, in order: how many users it would place.
    pub placed: Vec<u64>,
    /// Per proposed mapping, in order: how many users it matches, placed by it or taken by a
    /// higher one (paused mappings count what they would match).
    pub matched: Vec<u64>,
    /// Users no mapping would match (pending).
    pub pending: u64,
    pub profile_changes: u64,
    pub region_changes: u64,
    pub quota_changes: u64,
    /// Every user whose placement would change (up to 100), by email.
    pub changes: Vec<PreviewChange>,
    /// How many users would change in all.
    pub changed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewChange {
    pub email: String,
    /// The mapping placing them now and after, by name (none: defaults or pending).
    pub mapping_before: Option<String>,
    pub mapping_after: Option<String>,
    pub region_changes: bool,
}

/// Where a re-evaluation of the customer's users stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Done,
    /// A later mapping change started a newer job, which evaluates everyone by the newer
    /// mappings.
    Superseded,
}

/// The re-evaluation a mapping change starts: every SCIM user of the customer, in batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingJob {
    pub id: i64,
    pub state: JobState,
    /// Users to evaluate, and evaluated so far.
    pub total: u64,
    pub done: u64,
    /// Users whose placement changed.
    pub changed: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What a mapping change answers: the mappings as they now are, and the job placing the
/// customer's users by them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingChange {
    pub mappings: Vec<Mapping>,
    pub job: MappingJob,
}

/// A profile or storage region of the customer, to choose from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Choice {
    pub id: i64,
    pub name: String,
}

/// A SCIM group of the customer, to choose from by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupChoice {
    /// The SCIM id a group mapping stores.
    pub id: String,
    pub name: String,
    pub members: u64,
}

/// What the mapping editor offers for a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingOptions {
    pub profiles: Vec<Choice>,
    pub storage_regions: Vec<Choice>,
    pub groups: Vec<GroupChoice>,
    /// The attributes an attribute mapping may match on.
    pub attributes: Vec<String>,
    /// What the customer calls its custom attribute (`customAttribute`), when it has one.
    pub custom_attribute_name: Option<String>,
    /// A change moving more users than this to another storage region asks the admin to type
    /// the customer's name first.
    pub region_move_threshold: u32,
}

/// The customer's mapping settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingSettings {
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000_000))]
    pub region_move_threshold: u32,
}

/// The region-move threshold a customer starts with.
pub const DEFAULT_REGION_MOVE_THRESHOLD: u32 = 100;
/// The largest region-move threshold.
pub const MAX_REGION_MOVE_THRESHOLD: u32 = 1_000_000_000;

/// Where a user lands: by a mapping, by the customer's defaults (no mappings), or nowhere
/// (pending: mappings exist and none matches).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Placement {
    pub mapping_id: Option<i64>,
    pub mapping_name: Option<String>,
    pub profile_name: Option<String>,
    pub storage_region_name: Option<String>,
    pub quota_gb: Option<u32>,
    /// Why, in words ("no mapping matches", "Finance group first").
    pub reason: String,
}

/// One mapping's verdict on a user, in priority order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingVerdict {
    pub mapping_id: i64,
    pub name: String,
    pub enabled: bool,
    pub matched: bool,
    /// On what it matched, or why not.
    pub because: String,
}

/// "Test a user": each mapping's verdict and where the user would land.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingExplanation {
    pub email: String,
    pub verdicts: Vec<MappingVerdict>,
    pub placement: Placement,
}

impl Mapping {
    /// The request that saves this mapping as it is: the start of an edit or a preview.
    pub fn to_request(&self) -> SaveMappingRequest {
        SaveMappingRequest {
            name: self.name.clone(),
            matcher: self.matcher.clone(),
            profile_id: self.profile_id,
            storage_region_id: self.storage_region_id,
            quota_gb: self.quota_gb,
            enabled: self.enabled,
        }
    }

    pub fn proposed(&self) -> ProposedMapping {
        ProposedMapping {
            id: Some(self.id),
            mapping: self.to_request(),
        }
    }
}

impl Matcher {
    /// "Members of Finance-US, Finance-EU", given the groups' names by id.
    pub fn describe(&self, group_name: impl Fn(&str) -> String) -> String {
        match self {
            Matcher::Groups { groups } => format!(
                "Members of {}",
                groups
                    .iter()
                    .map(|g| group_name(g))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Matcher::Attribute {
                attribute,
                operator,
                values,
            } => format!(
                "{attribute} {} {}",
                match operator {
                    AttributeOperator::AnyOf => "is any of",
                    AttributeOperator::StartsWith => "starts with",
                },
                values.join(", ")
            ),
            Matcher::All => "All users".to_owned(),
        }
    }
}
