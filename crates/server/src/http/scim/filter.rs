//! SCIM `filter` expressions as SQL conditions. The grammar comes from the `scim_v2` crate;
//! what is translated is what Entra ID and Okta send: `eq` comparisons joined by `and`.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, PatchPath, ValFilter};

use super::ScimError;
use crate::db::scim_filter::{Condition, GroupAttribute, UserAttribute};

/// The resource type a filter selects, which decides the attributes it may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

/// Translates a `filter` into a condition, or refuses it as `invalidFilter`.
pub fn condition(filter: &str, resource: Resource) -> Result<Condition, ScimError> {
    let parsed: Filter = filter.parse().map_err(|_| {
        ScimError::bad(
            "invalidFilter",
            format!("'{filter}' is not a valid filter."),
        )
    })?;
    translate(&parsed, resource)
}

/// A PATCH `path`. Plain attribute names (`active`, `name.givenName`), nearly every path an IdP
/// sends, are read directly: the scim_v2 grammar builds its lexer on every call, which showed
/// as the largest share of CPU per PATCH. Paths with a value filter or a schema URI go through
/// the grammar.
pub fn patch_path(path: &str) -> Result<PatchPath, ScimError> {
    let plain = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '$' | '-'));
    if plain {
        let (name, sub_attr) = match path.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (path, None),
        };
        let well_formed =
            !name.is_empty() && sub_attr.is_none_or(|sub| !sub.is_empty() && !sub.contains('.'));
        if well_formed {
            return Ok(PatchPath::Attr(AttrPath {
                uri: None,
                name: name.to_owned(),
                sub_attr: sub_attr.map(str::to_owned),
            }));
        }
    }
    path.parse()
        .map_err(|_| ScimError::bad("invalidPath", format!("'{path}' is not a valid path.")))
}

/// `name.givenName` for a sub-attribute path, `userName` for a plain one.
pub fn dotted(attr: &AttrPath) -> String {
    match &attr.sub_attr {
        Some(sub) => format!("{}.{sub}", attr.name),
        None => attr.name.clone(),
    }
}

fn unsupported(what: impl std::fmt::Display, resource: Resource) -> ScimError {
    let attributes = match resource {
        Resource::User => "userName, externalId, displayName, id, active or emails",
        Resource::Group => "displayName, externalId, id or members",
    };
    ScimError::bad(
        "invalidFilter",
        format!("'{what}' is not supported; filter with eq on {attributes}, joined by and."),
    )
}

fn translate(filter: &Filter, resource: Resource) -> Result<Condition, ScimError> {
    match filter {
        Filter::And(left, right) => Ok(Condition::And(
            Box::new(translate(left, resource)?),
            Box::new(translate(right, resource)?),
        )),
        Filter::Attr(AttrExp::Comparison(path, CompareOp::Eq, value)) => {
            comparison(path, value, resource)
        }
        // emails[type eq "work" and value eq "x"], members[value eq "x"]: the value test decides.
        Filter::ValuePath(value_path) => {
            let target = match (resource, value_path.attr.name.to_ascii_lowercase().as_str()) {
                (Resource::User, "emails") => Target::User(UserAttribute::Email),
                (Resource::Group, "members") => Target::Member,
                _ => return Err(unsupported(filter, resource)),
            };
            value_test(&value_path.filter)
                .map(|value| target_condition(target, value))
                .ok_or_else(|| unsupported(filter, resource))
        }
        other => Err(unsupported(other, resource)),
    }
}

/// What a comparison compares: an attribute of the resource, or a group's members.
#[derive(Debug, Clone, Copy)]
enum Target {
    User(UserAttribute),
    Group(GroupAttribute),
    Member,
}

fn target_condition(target: Target, value: String) -> Condition {
    match target {
        Target::User(attribute) => Condition::User(attribute, value),
        Target::Group(attribute) => Condition::Group(attribute, value),
        Target::Member => Condition::HasMember(value),
    }
}

/// The string a `[value eq "…"]` test inside a value path compares with.
pub fn value_test(filter: &ValFilter) -> Option<String> {
    match filter {
        ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, CompValue::Str(value)))
            if path.name.eq_ignore_ascii_case("value") =>
        {
            Some(value.clone())
        }
        ValFilter::And(left, right) => value_test(left).or_else(|| value_test(right)),
        _ => None,
    }
}

fn comparison(
    path: &AttrPath,
    value: &CompValue,
    resource: Resource,
) -> Result<Condition, ScimError> {
    let name = dotted(path).to_ascii_lowercase();
    let target = match (resource, name.as_str()) {
        (Resource::User, "username") => Target::User(UserAttribute::UserName),
        (Resource::User, "externalid") => Target::User(UserAttribute::ExternalId),
        (Resource::User, "displayname") => Target::User(UserAttribute::DisplayName),
        (Resource::User, "id") => Target::User(UserAttribute::Id),
        (Resource::User, "emails" | "emails.value") => Target::User(UserAttribute::Email),
        (Resource::User, "active") => {
            return match value {
                CompValue::True => Ok(Condition::Active(true)),
                CompValue::False => Ok(Condition::Active(false)),
                _ => Err(unsupported(format!("{name} eq {value:?}"), resource)),
            }
        }
        (Resource::Group, "displayname") => Target::Group(GroupAttribute::DisplayName),
        (Resource::Group, "externalid") => Target::Group(GroupAttribute::ExternalId),
        (Resource::Group, "id") => Target::Group(GroupAttribute::Id),
        (Resource::Group, "members" | "members.value") => Target::Member,
        _ => return Err(unsupported(dotted(path), resource)),
    };
    match value {
        CompValue::Str(text) => Ok(target_condition(target, text.clone())),
        other => Err(unsupported(
            format!("{} eq {other:?}", dotted(path)),
            resource,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_filters_idps_send_become_conditions_and_others_are_refused() {
        assert_eq!(
            condition("userName eq \"Ada@Contoso.example\"", Resource::User).expect("supported"),
            Condition::User(UserAttribute::UserName, "Ada@Contoso.example".into())
        );
        assert_eq!(
            condition(
                "externalId eq \"1\" and emails[type eq \"work\" and value eq \"a@b.c\"]",
                Resource::User
            )
            .expect("supported"),
            Condition::And(
                Box::new(Condition::User(UserAttribute::ExternalId, "1".into())),
                Box::new(Condition::User(UserAttribute::Email, "a@b.c".into()))
            )
        );
        assert!(condition("userName co \"a\"", Resource::User).is_err());
        assert!(condition("userName eq", Resource::User).is_err());
        assert!(condition("title pr", Resource::User).is_err());
        assert!(condition("members eq \"x\"", Resource::User).is_err());
    }

    #[test]
    fn plain_patch_paths_read_as_the_grammar_reads_them() {
        for path in ["active", "name.givenName", "displayName", "externalId"] {
            let grammar: PatchPath = path.parse().expect("grammar");
            assert_eq!(patch_path(path).expect("plain"), grammar, "{path}");
        }
        assert!(matches!(
            patch_path("emails[type eq \"work\"].value"),
            Ok(PatchPath::Value(_))
        ));
        assert!(matches!(
            patch_path("urn:ietf:params:scim:schemas:core:2.0:User:userName"),
            Ok(PatchPath::Attr(_))
        ));
        for bad in ["", "a..b", ".a", "emails[type eq"] {
            assert!(patch_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn group_filters_name_members_and_refuse_user_attributes() {
        assert_eq!(
            condition("displayName eq \"Sales\"", Resource::Group).expect("supported"),
            Condition::Group(GroupAttribute::DisplayName, "Sales".into())
        );
        assert_eq!(
            condition("id eq \"g1\" and members eq \"u1\"", Resource::Group).expect("supported"),
            Condition::And(
                Box::new(Condition::Group(GroupAttribute::Id, "g1".into())),
                Box::new(Condition::HasMember("u1".into()))
            )
        );
        assert_eq!(
            condition("members[value eq \"u2\"]", Resource::Group).expect("supported"),
            Condition::HasMember("u2".into())
        );
        let refused = condition("userName eq \"a\"", Resource::Group).expect_err("user attribute");
        assert!(refused.detail().contains("members"));
    }
}
