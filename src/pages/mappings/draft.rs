//! The mapping form's state: one signal per field, and the request it makes once valid.

use leptos::prelude::*;
use provisio_api::mapping::{
    AttributeOperator, Mapping, Matcher, SaveMappingRequest, MAX_MAPPING_NAME_CHARS, MAX_QUOTA_GB,
};

/// Which kind of matcher the form edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Groups,
    Attribute,
    All,
}

impl MatchKind {
    pub const ALL: [MatchKind; 3] = [MatchKind::Groups, MatchKind::Attribute, MatchKind::All];

    pub fn key(self) -> &'static str {
        match self {
            MatchKind::Groups => "groups",
            MatchKind::Attribute => "attribute",
            MatchKind::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MatchKind::Groups => "Members of groups",
            MatchKind::Attribute => "A user attribute",
            MatchKind::All => "All users",
        }
    }
}

/// A field the form can blame, with what is wrong.
pub type Invalid = (&'static str, String);

#[derive(Clone, Copy)]
pub struct Draft {
    pub name: RwSignal<String>,
    pub kind: RwSignal<MatchKind>,
    pub groups: RwSignal<Vec<String>>,
    pub attribute: RwSignal<String>,
    pub operator: RwSignal<AttributeOperator>,
    /// Comma-separated, as typed.
    pub values: RwSignal<String>,
    pub profile_id: RwSignal<Option<i64>>,
    pub storage_region_id: RwSignal<Option<i64>>,
    pub unlimited: RwSignal<bool>,
    /// GB, as typed.
    pub quota: RwSignal<String>,
    pub enabled: RwSignal<bool>,
}

impl Draft {
    /// A new mapping's form (first profile and region preselected), or an existing one's.
    pub fn new(existing: Option<&Mapping>, profile: Option<i64>, region: Option<i64>) -> Draft {
        let (kind, groups, attribute, operator, values) = match existing.map(|m| &m.matcher) {
            Some(Matcher::Groups { groups }) => (
                MatchKind::Groups,
                groups.clone(),
                String::new(),
                AttributeOperator::AnyOf,
                String::new(),
            ),
            Some(Matcher::Attribute {
                attribute,
                operator,
                values,
            }) => (
                MatchKind::Attribute,
                Vec::new(),
                attribute.clone(),
                *operator,
                values.join(", "),
            ),
            Some(Matcher::All) => (
                MatchKind::All,
                Vec::new(),
                String::new(),
                AttributeOperator::AnyOf,
                String::new(),
            ),
            None => (
                MatchKind::Groups,
                Vec::new(),
                "department".to_owned(),
                AttributeOperator::AnyOf,
                String::new(),
            ),
        };
        let quota = existing.and_then(|m| m.quota_gb);
        Draft {
            name: RwSignal::new(existing.map(|m| m.name.clone()).unwrap_or_default()),
            kind: RwSignal::new(kind),
            groups: RwSignal::new(groups),
            attribute: RwSignal::new(attribute),
            operator: RwSignal::new(operator),
            values: RwSignal::new(values),
            profile_id: RwSignal::new(existing.map(|m| m.profile_id).or(profile)),
            storage_region_id: RwSignal::new(existing.map(|m| m.storage_region_id).or(region)),
            unlimited: RwSignal::new(existing.is_some() && quota.is_none()),
            quota: RwSignal::new(quota.unwrap_or(50).to_string()),
            enabled: RwSignal::new(existing.is_none_or(|m| m.enabled)),
        }
    }

    /// The request the form makes, or the first field that keeps it from being one.
    pub fn request(self) -> Result<SaveMappingRequest, Invalid> {
        let name = self.name.get().trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_MAPPING_NAME_CHARS {
            return Err((
                "name",
                format!("Name the mapping (1 to {MAX_MAPPING_NAME_CHARS} characters)."),
            ));
        }
        let matcher = match self.kind.get() {
            MatchKind::Groups => {
                let groups = self.groups.get();
                if groups.is_empty() {
                    return Err(("matcher", "Choose at least one group.".to_owned()));
                }
                Matcher::Groups { groups }
            }
            MatchKind::Attribute => {
                let values = split_values(&self.values.get());
                if values.is_empty() {
                    return Err(("matcher", "Give at least one value.".to_owned()));
                }
                Matcher::Attribute {
                    attribute: self.attribute.get(),
                    operator: self.operator.get(),
                    values,
                }
            }
            MatchKind::All => Matcher::All,
        };
        let profile_id = self
            .profile_id
            .get()
            .ok_or(("profile_id", "Choose a profile.".to_owned()))?;
        let storage_region_id = self
            .storage_region_id
            .get()
            .ok_or(("storage_region_id", "Choose a storage region.".to_owned()))?;
        let quota_gb = if self.unlimited.get() {
            None
        } else {
            match self.quota.get().trim().parse::<u32>() {
                Ok(gb) if (1..=MAX_QUOTA_GB).contains(&gb) => Some(gb),
                _ => {
                    return Err((
                        "quota_gb",
                        format!("A quota is 1 to {MAX_QUOTA_GB} GB, or unlimited."),
                    ))
                }
            }
        };
        Ok(SaveMappingRequest {
            name,
            matcher,
            profile_id,
            storage_region_id,
            quota_gb,
            enabled: self.enabled.get(),
        })
    }
}

/// "Sales, Marketing ," → ["Sales", "Marketing"].
pub fn split_values(typed: &str) -> Vec<String> {
    typed
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_values;

    #[test]
    fn values_are_split_on_commas_and_trimmed() {
        assert_eq!(
            split_values(" Sales, Marketing ,, "),
            vec!["Sales".to_owned(), "Marketing".to_owned()]
        );
        assert!(split_values(" , ").is_empty());
    }
}
