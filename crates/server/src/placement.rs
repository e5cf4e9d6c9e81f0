//! The mapping engine: which of a customer's mappings places a user. Pure: the callers read
//! the mappings and the user, and write what this decides.
//!
//! Priority is the list order: a user gets the first enabled mapping that matches. A group
//! mapping matches members of any of its groups, never guests (`userType` Guest). An
//! attribute mapping compares one directory attribute case-insensitively, the whole value
//! (any of) or its start.

use provisio_api::mapping::{AttributeOperator, Matcher};

use crate::db::scim_users::Directory;

/// A mapping as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
    pub matcher: Matcher,
}

/// A user as the engine sees them: directory attributes and the SCIM ids of their groups.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub directory: &'a Directory,
    pub groups: &'a [String],
}

impl Subject<'_> {
    fn is_guest(&self) -> bool {
        self.directory
            .get("userType")
            .is_some_and(|t| t.eq_ignore_ascii_case("guest"))
    }
}

/// Whether `rule` matches: the engine's hot path, evaluated for every user and mapping, so it
/// allocates nothing. `verdict` says the same in words.
pub fn matches(rule: &Rule, subject: Subject<'_>) -> bool {
    match &rule.matcher {
        Matcher::All => true,
        Matcher::Groups { groups } => {
            !subject.is_guest() && groups.iter().any(|g| subject.groups.contains(g))
        }
        Matcher::Attribute {
            attribute,
            operator,
            values,
        } => subject
            .directory
            .get(attribute.as_str())
            .is_some_and(|actual| values.iter().any(|value| compare(*operator, actual, value))),
    }
}

/// Case-insensitive whole-value or prefix comparison; ASCII without allocating.
fn compare(operator: AttributeOperator, actual: &str, value: &str) -> bool {
    if actual.is_ascii() && value.is_ascii() {
        return match operator {
            AttributeOperator::AnyOf => actual.eq_ignore_ascii_case(value),
            AttributeOperator::StartsWith => actual
                .get(..value.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(value)),
        };
    }
    let (actual, value) = (actual.to_lowercase(), value.to_lowercase());
    match operator {
        AttributeOperator::AnyOf => actual == value,
        AttributeOperator::StartsWith => actual.starts_with(&value),
    }
}

/// Whether `rule` matches, and on what (or why not), in words.
pub fn verdict(rule: &Rule, subject: Subject<'_>) -> (bool, String) {
    match &rule.matcher {
        Matcher::All => (true, "it matches every user".to_owned()),
        Matcher::Groups { groups } => {
            let shared = groups.iter().find(|g| subject.groups.contains(g));
            match shared {
                Some(_) if subject.is_guest() => {
                    (false, "a guest is never placed by a group".to_owned())
                }
                Some(group) => (true, format!("member of group {group}")),
                None => (false, "not a member of any of its groups".to_owned()),
            }
        }
        Matcher::Attribute {
            attribute,
            operator,
            values,
        } => {
            let Some(actual) = subject.directory.get(attribute.as_str()) else {
                return (false, format!("{attribute} is not set"));
            };
            let hit = values
                .iter()
                .find(|value| compare(*operator, actual, value));
            match hit {
                Some(value) => (true, format!("{attribute} is {actual} (matches {value})")),
                None => (false, format!("{attribute} is {actual}")),
            }
        }
    }
}

impl AsRef<Rule> for Rule {
    fn as_ref(&self) -> &Rule {
        self
    }
}

/// The first enabled rule that matches `subject`; None when none does. Takes anything that
/// holds a rule, so callers keep what the rule assigns beside it.
pub fn place<'r, R: AsRef<Rule>>(rules: &'r [R], subject: Subject<'_>) -> Option<&'r R> {
    rules
        .iter()
        .filter(|rule| rule.as_ref().enabled)
        .find(|rule| matches(rule.as_ref(), subject))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, matcher: Matcher) -> Rule {
        Rule {
            id,
            name: format!("rule {id}"),
            enabled: true,
            matcher,
        }
    }

    fn attribute(name: &str, operator: AttributeOperator, values: &[&str]) -> Matcher {
        Matcher::Attribute {
            attribute: name.to_owned(),
            operator,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn directory(pairs: &[(&str, &str)]) -> Directory {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_first_enabled_matching_rule_wins() {
        let rules = vec![
            rule(
                1,
                Matcher::Groups {
                    groups: vec!["finance".into()],
                },
            ),
            rule(
                2,
                attribute("locality", AttributeOperator::AnyOf, &["London", "Paris"]),
            ),
            rule(3, Matcher::All),
        ];
        let both = directory(&[("locality", "london")]);
        let groups = vec!["finance".to_owned()];
        let subject = Subject {
            directory: &both,
            groups: &groups,
        };
        assert_eq!(place(&rules, subject).map(|r| r.id), Some(1), "priority");
        let subject = Subject {
            directory: &both,
            groups: &[],
        };
        assert_eq!(
            place(&rules, subject).map(|r| r.id),
            Some(2),
            "case-insensitive"
        );
        let nowhere = directory(&[("locality", "Londonderry")]);
        let subject = Subject {
            directory: &nowhere,
            groups: &[],
        };
        assert_eq!(
            place(&rules, subject).map(|r| r.id),
            Some(3),
            "whole value only"
        );
        let mut paused = rules.clone();
        paused[0].enabled = false;
        let subject = Subject {
            directory: &both,
            groups: &groups,
        };
        assert_eq!(
            place(&paused, subject).map(|r| r.id),
            Some(2),
            "paused rules are skipped"
        );
    }

    #[test]
    fn guests_are_never_placed_by_a_group() {
        let rules = vec![rule(
            1,
            Matcher::Groups {
                groups: vec!["g".into()],
            },
        )];
        let guest = directory(&[("userType", "Guest")]);
        let groups = vec!["g".to_owned()];
        let subject = Subject {
            directory: &guest,
            groups: &groups,
        };
        assert_eq!(place(&rules, subject), None);
        assert!(verdict(&rules[0], subject).1.contains("guest"));
        let member = directory(&[("userType", "Member")]);
        let subject = Subject {
            directory: &member,
            groups: &groups,
        };
        assert_eq!(place(&rules, subject).map(|r| r.id), Some(1));
    }

    #[test]
    fn starts_with_compares_the_start_and_an_unset_attribute_never_matches() {
        let rules = vec![rule(
            1,
            attribute("department", AttributeOperator::StartsWith, &["fin"]),
        )];
        let finance = directory(&[("department", "Finance EMEA")]);
        assert!(place(
            &rules,
            Subject {
                directory: &finance,
                groups: &[]
            }
        )
        .is_some());
        let none = directory(&[]);
        let subject = Subject {
            directory: &none,
            groups: &[],
        };
        assert_eq!(place(&rules, subject), None);
        assert_eq!(verdict(&rules[0], subject).1, "department is not set");
        assert_eq!(place::<Rule>(&[], subject), None, "no rules, no match");
    }

    #[test]
    fn matching_ignores_case_beyond_ascii_and_agrees_with_the_verdict() {
        let zurich = directory(&[("locality", "Zürich")]);
        let short = directory(&[("locality", "Z")]);
        let cases = [
            (
                attribute("locality", AttributeOperator::AnyOf, &["ZÜRICH"]),
                &zurich,
                true,
            ),
            (
                attribute("locality", AttributeOperator::StartsWith, &["zü"]),
                &zurich,
                true,
            ),
            (
                attribute("locality", AttributeOperator::StartsWith, &["zu"]),
                &zurich,
                false,
            ),
            (
                attribute("locality", AttributeOperator::StartsWith, &["zu"]),
                &short,
                false,
            ),
            (
                attribute("locality", AttributeOperator::AnyOf, &["z"]),
                &short,
                true,
            ),
        ];
        for (matcher, directory, expected) in cases {
            let rule = rule(1, matcher);
            let subject = Subject {
                directory,
                groups: &[],
            };
            assert_eq!(matches(&rule, subject), expected, "{:?}", rule.matcher);
            assert_eq!(verdict(&rule, subject).0, expected, "{:?}", rule.matcher);
        }
    }
}
