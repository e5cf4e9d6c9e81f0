//! The report query's grammar as patterns: the `filter` and `sort` parameters, and a whole
//! query written as a form-encoded query string (saved views, subscriptions, bulk actions).
//! Each pattern matches exactly what `report::query` accepts; the tests below hold them to the
//! parsers string by string.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

use crate::report::{FieldKind, Operator, ReportField, MAX_ANY_OF_VALUES, MAX_FILTERS};

/// Values as the parser reads them, before any URL encoding.
mod plain {
    /// One character of a text value: anything but the separator and the escape, or an
    /// escaped character.
    pub const TEXT: &str = r"(?:[^,\\]|\\[\s\S])";
    /// `-` or nothing, then at most 15 digits.
    pub const NUMBER: &str = r"-?[0-9]{1,15}";
    /// A day of the calendar, February 29th in leap years only.
    pub const DATE: &str = "(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])\
        |(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))\
        |(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)";
    /// 1 to 36500, no leading zero.
    pub const DAYS: &str =
        r"(?:[1-9][0-9]{0,3}|[1-2][0-9]{4}|3[0-5][0-9]{3}|36[0-4][0-9]{2}|36500)";
}

/// The same characters inside a form-encoded query string, where `+` is a space and `%XX`
/// any byte (the decoded bytes must be UTF-8, which the multi-byte sequences below spell out).
mod form {
    /// A continuation byte, `%80` to `%BF`.
    const CONT: &str = "%[89ABab][0-9A-Fa-f]";

    /// Any one decoded character that is not `,` or `\`, however it is written.
    pub fn text_char() -> String {
        format!(
            "(?:[^&%+,\\\\]|\\+|%(?:[013-46-7][0-9A-Fa-f]|[25][0-9ABabD-Fd-f])|{})",
            multi_byte()
        )
    }

    /// Any one decoded character.
    pub fn any_char() -> String {
        format!("(?:[^&%+]|\\+|%[0-7][0-9A-Fa-f]|{})", multi_byte())
    }

    /// A character of a text value: an ordinary one, or an escape and the character it
    /// escapes.
    pub fn text() -> String {
        format!("(?:{}|{}{})", text_char(), r"(?:\\|%5[Cc])", any_char())
    }

    pub const COMMA: &str = "(?:,|%2[Cc])";
    pub const COLON: &str = "(?::|%3[Aa])";

    /// A UTF-8 character of two to four bytes, each written `%XX`.
    fn multi_byte() -> String {
        let c = CONT;
        [
            format!("%[Cc][2-9A-Fa-f]{c}"),
            format!("%[Dd][0-9A-Fa-f]{c}"),
            format!("%[Ee]0%[ABab][0-9A-Fa-f]{c}"),
            format!("%[Ee][1-9A-Ca-c]{c}{c}"),
            format!("%[Ee][Dd]%[89][0-9A-Fa-f]{c}"),
            format!("%[Ee][EFef]{c}{c}"),
            format!("%[Ff]0%[9ABab][0-9A-Fa-f]{c}{c}"),
            format!("%[Ff][1-3]{c}{c}{c}"),
            format!("%[Ff]4%8[0-9A-Fa-f]{c}{c}"),
        ]
        .join("|")
    }

    /// `pattern` (literal ASCII, digit classes, groups and counts, as the plain patterns and
    /// keys are written) with every character it matches also matched as `%XX`.
    pub fn encoded(pattern: &str) -> String {
        let mut out = String::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '[' => {
                    let class: String = chars.by_ref().take_while(|&c| c != ']').collect();
                    // Only digit classes occur: a digit d is the byte %3d.
                    out.push_str(&format!("(?:[{class}]|%3[{class}])"));
                }
                '{' => {
                    out.push('{');
                    out.extend(chars.by_ref().take_while(|&c| c != '}'));
                    out.push('}');
                }
                '(' if chars.peek() == Some(&'?') => {
                    out.push_str("(?:");
                    chars.next();
                    chars.next();
                }
                '(' | ')' | '|' | '?' | '+' | '*' => out.push(c),
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        out.push_str(&literal(escaped));
                    }
                }
                _ => out.push_str(&literal(c)),
            }
        }
        out
    }

    /// One ASCII character, as it is or as `%XX` (either case of hex letter).
    fn literal(c: char) -> String {
        let hex = format!("{:02X}", c as u32);
        let mut tail = hex[1..].to_owned();
        if tail.chars().all(|h| h.is_ascii_alphabetic()) {
            tail = format!("[{tail}{}]", tail.to_ascii_lowercase());
        }
        // Keys, operators, numbers and dates hold letters, digits, `_`, `-` and `.`.
        let plain = if c == '.' {
            r"\.".to_owned()
        } else {
            c.to_string()
        };
        format!("(?:{plain}|%{}{tail})", &hex[..1])
    }
}

/// How the values are written: as the parser reads them, or inside a query string.
#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    Plain,
    Form,
}

impl Encoding {
    fn text(self) -> String {
        match self {
            Encoding::Plain => plain::TEXT.to_owned(),
            Encoding::Form => form::text(),
        }
    }

    fn comma(self) -> &'static str {
        match self {
            Encoding::Plain => ",",
            Encoding::Form => form::COMMA,
        }
    }

    fn colon(self) -> &'static str {
        match self {
            Encoding::Plain => ":",
            Encoding::Form => form::COLON,
        }
    }

    /// A pattern of ASCII characters, as this encoding writes them.
    fn ascii(self, pattern: &str) -> String {
        match self {
            Encoding::Plain => pattern.to_owned(),
            Encoding::Form => form::encoded(pattern),
        }
    }
}

/// The values part of a filter of `kind` with `operator`.
fn values_pattern(kind: FieldKind, operator: Operator, encoding: Encoding) -> String {
    let (text, comma) = (encoding.text(), encoding.comma());
    let any_of_more = MAX_ANY_OF_VALUES - 1;
    let number = encoding.ascii(plain::NUMBER);
    let date = encoding.ascii(plain::DATE);
    match (kind, operator) {
        (_, Operator::Contains | Operator::Equals | Operator::StartsWith) => format!("{text}+"),
        (_, Operator::IsEmpty) => String::new(),
        // 1 to 200 values, any of them empty (one value, though, has at least a character).
        (_, Operator::AnyOf) => format!(
            "(?:{text}+(?:{comma}{text}*){{0,{any_of_more}}}|(?:{comma}{text}*){{1,{any_of_more}}})"
        ),
        // Either way round: the parser orders the two ends.
        (FieldKind::Number, Operator::Between) => format!("{number}{comma}{number}"),
        (_, Operator::Eq | Operator::Lt | Operator::Gt) => number,
        (_, Operator::Between) => format!("{date}{comma}{date}"),
        (_, Operator::Before | Operator::After) => date,
        (_, Operator::InLastDays) => encoding.ascii(plain::DAYS),
    }
}

/// Every `<field>.<operator>:<values>`. Heads whose values follow the same rule share one
/// alternative, which keeps the pattern small enough for generators to work with.
fn filter_alternatives(encoding: Encoding) -> String {
    let mut rules: Vec<(String, Vec<String>)> = Vec::new();
    for field in ReportField::ALL {
        for operator in field.kind().operators() {
            let head = encoding.ascii(&format!("{}\\.{}", field.key(), operator.key()));
            let values = values_pattern(field.kind(), *operator, encoding);
            match rules.iter_mut().find(|(rule, _)| *rule == values) {
                Some((_, heads)) => heads.push(head),
                None => rules.push((values, vec![head])),
            }
        }
    }
    let colon = encoding.colon();
    let alternatives: Vec<String> = rules
        .iter()
        .map(|(values, heads)| format!("(?:{}){colon}{values}", heads.join("|")))
        .collect();
    format!("(?:{})", alternatives.join("|"))
}

/// One `filter` parameter: `<field>.<operator>:<values>`; empty counts as no filter.
pub fn filter_pattern() -> String {
    format!("(?:{})?", filter_alternatives(Encoding::Plain))
}

/// One sort: a field key, `-` first for descending.
pub fn sort_pattern() -> String {
    let keys: Vec<&str> = ReportField::ALL.iter().map(|f| f.key()).collect();
    format!("-?(?:{})", keys.join("|"))
}

/// The `sort` parameter: a sort, or empty for the default.
pub fn optional_sort_pattern() -> String {
    format!("(?:{})?", sort_pattern())
}

/// A whole query as a form-encoded query string: an optional `?`, then filters, service plans
/// and the sort in that order (the parser refuses another), joined by `&` (empty pieces are
/// skipped). Any character may be percent-encoded, a space written `+`.
fn query_string_pattern() -> String {
    let filter = format!(
        "{}={}",
        form::encoded("filter"),
        filter_alternatives(Encoding::Form)
    );
    let plan = format!("{}={}+", form::encoded("plan"), form::any_char());
    let sort = format!(
        "{}={}",
        form::encoded("sort"),
        form::encoded(&sort_pattern())
    );
    let more_filters = MAX_FILTERS - 1;
    let more_plans = MAX_ANY_OF_VALUES - 1;
    let filters = format!("{filter}(?:&+{filter}){{0,{more_filters}}}");
    let plans = format!("{plan}(?:&+{plan}){{0,{more_plans}}}");
    // Each kind of piece is optional, but two that are given are joined by `&`.
    let after_plans = format!("(?:{plans}(?:&+{sort})?|{sort})");
    let after_filters = format!("(?:{filters}(?:&+{after_plans})?|{after_plans})");
    format!("\\??&*(?:{after_filters}&*)?")
}

/// A report query written as a query string, as views and subscriptions store it.
pub fn report_query_string() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Filters, then service plans, then the sort, form-encoded and joined by `&`: \
             `filter=user_status.any_of:Active&plan=Enterprise&sort=-created_on`",
        ))
        .pattern(Some(format!("^{}$", query_string_pattern())))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Filter, ReportQuery, Sort};

    fn regex(pattern: &str) -> regex::Regex {
        regex::RegexBuilder::new(&format!("^{pattern}$"))
            .size_limit(1 << 28)
            .build()
            .expect("a regex")
    }

    /// Values built to sit on either side of each rule: escapes, separators, signs, spaces,
    /// digit counts, calendar days and day counts.
    const VALUES: [&str; 46] = [
        "",
        "a",
        "Ada Lovelace",
        "O'Brien",
        "a,b",
        ",",
        ",,",
        "a,",
        r"\",
        r"\\",
        r"\,",
        r"a\",
        r"a\,b",
        "é,ü",
        "\n",
        "5",
        "-5",
        "+5",
        " 5",
        "5 ",
        "05",
        "-0",
        "123456789012345",
        "1234567890123456",
        "-123456789012345",
        "5,3",
        "3,5",
        "5,",
        "2024-02-29",
        "2023-02-29",
        "2000-02-29",
        "1900-02-29",
        "2024-2-01",
        "2024-04-31",
        "2024-12-31",
        "0000-01-01",
        "2024-01-01,2023-06-30",
        "2024-01-01,",
        "0",
        "1",
        "007",
        "36500",
        "36501",
        "99999",
        "a&b",
        "50%",
    ];

    /// Every field and operator with every sample value.
    fn filters() -> Vec<String> {
        let mut out = Vec::new();
        for field in ReportField::ALL {
            for operator in field.kind().operators() {
                for value in VALUES {
                    out.push(format!("{}.{}:{value}", field.key(), operator.key()));
                }
            }
        }
        out
    }

    #[test]
    fn the_filter_pattern_accepts_exactly_what_the_parser_accepts() {
        let pattern = regex(&filter_pattern());
        let mut accepted = 0;
        for text in filters() {
            let parsed = Filter::decode(&text).is_ok();
            assert_eq!(pattern.is_match(&text), parsed, "disagree on {text:?}");
            accepted += usize::from(parsed);
        }
        for count in [MAX_ANY_OF_VALUES, MAX_ANY_OF_VALUES + 1] {
            let text = format!("user_status.any_of:{}", vec!["x"; count].join(","));
            assert_eq!(pattern.is_match(&text), Filter::decode(&text).is_ok());
        }
        assert!(pattern.is_match(""), "an empty filter counts as none");
        assert!(accepted > 300, "the samples reach both sides: {accepted}");
        let sort = regex(&sort_pattern());
        for text in [
            "user_name",
            "-created_on",
            "",
            "+user_name",
            "--user_name",
            "name",
        ] {
            assert_eq!(sort.is_match(text), Sort::decode(text).is_ok(), "{text:?}");
        }
    }

    /// Form-encodes `text` as URLSearchParams does, but leaving the characters in `keep` as
    /// they are.
    fn encode(text: &str, keep: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            if c.is_ascii_alphanumeric() || "*-._".contains(c) || keep.contains(c) {
                out.push(c);
            } else if c == ' ' {
                out.push('+');
            } else {
                let mut buffer = [0; 4];
                for byte in c.encode_utf8(&mut buffer).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        out
    }

    #[test]
    fn the_query_string_pattern_accepts_exactly_what_the_parser_accepts() {
        let pattern = regex(&query_string_pattern());
        let mut accepted = [0, 0];
        let mut agree = |text: &str| {
            let parsed = ReportQuery::from_query_string(text).is_ok();
            assert_eq!(pattern.is_match(text), parsed, "disagree on {text:?}");
            accepted[usize::from(parsed)] += 1;
        };
        for filter in filters() {
            agree(&format!("filter={}", encode(&filter, "")));
            agree(&format!("filter={}", encode(&filter, ":,")));
            agree(&format!("filter={}", encode(&filter, ":,\\' ")));
            agree(&format!("?filter={}&sort=-user_name", encode(&filter, ":")));
        }
        for text in [
            "",
            "?",
            "??sort=user_name",
            "&&sort=user_name&",
            "sort=user_name&filter=user_name.is_empty:",
            "plan=A&filter=user_name.is_empty:",
            "sort=user_name&plan=A",
            "filter=user_name.is_empty:&plan=A+B&plan=%C3%A9&sort=-user_email",
            "plan=",
            "plan",
            "plan=%",
            "plan=%4",
            "plan=%zz",
            "plan=%C3",
            "plan=%C3%28",
            "plan=%ED%A0%80",
            "plan=%F0%9F%98%80",
            "plan=%f0%9f%98%80",
            "%70lan=A",
            "plan=A&sort=user_name&sort=user_email",
            "sort=%2Duser%5Fname",
            "sort=+user_name",
            "filter=user%5Fname%2Econtains%3Aab",
            "filter=user_name.contains:a%5C",
            "filter=user_name.contains:a%5C%2C",
            "filter=user_name.contains:a\\\\",
            "filter=user_name.contains:a=b",
            "filter=user_name.contains:50%25",
            "view=1",
        ] {
            agree(text);
        }
        let filters = |n: usize| vec!["filter=user_name.is_empty:"; n].join("&");
        agree(&filters(MAX_FILTERS));
        agree(&filters(MAX_FILTERS + 1));
        assert!(
            accepted.iter().all(|&n| n > 1000),
            "both sides: {accepted:?}"
        );
    }
}
