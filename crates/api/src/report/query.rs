//! The report's query model (filters, service plans, sort) and its one URL encoding.
//!
//! The web app's address bar and the API's query string use the same encoding, so a copied link
//! and an API call describe a view identically:
//!
//! ```text
//! filter=<field>.<operator>:<value>[,<value>...]   (repeatable; values escape `,` and `\` with `\`)
//! plan=<service plan>                               (repeatable)
//! sort=<field> | sort=-<field>                      (`-` means descending)
//! ```

use chrono::NaiveDate;

use super::fields::{FieldKind, Operator, ReportField};

/// Why a query parameter was refused; the server turns it into a 400 naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub parameter: &'static str,
    pub message: String,
}

impl QueryError {
    pub fn new(parameter: &'static str, message: impl Into<String>) -> Self {
        Self {
            parameter,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.parameter, self.message)
    }
}

/// The typed right-hand side of a filter, already checked against its operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    None,
    Text(String),
    Texts(Vec<String>),
    Number(i64),
    NumberRange(i64, i64),
    Date(NaiveDate),
    DateRange(NaiveDate, NaiveDate),
    Days(u32),
}

/// One condition of the report's filter; all filters of a query are ANDed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    field: ReportField,
    operator: Operator,
    operand: Operand,
}

/// Most values an "is any of" filter may list; keeps the SQL bounded.
pub const MAX_ANY_OF_VALUES: usize = 200;
/// Most filters one query may carry.
pub const MAX_FILTERS: usize = 20;

impl Filter {
    /// Builds a filter from the field, operator and raw values, checking that they fit together.
    pub fn new(
        field: ReportField,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Filter, QueryError> {
        if !field.kind().operators().contains(&operator) {
            return Err(QueryError::new(
                "filter",
                format!(
                    "operator '{}' does not apply to field '{}'; use one of: {}",
                    operator.key(),
                    field.key(),
                    field
                        .kind()
                        .operators()
                        .iter()
                        .map(|op| op.key())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let operand = parse_operand(field, operator, values)?;
        Ok(Filter {
            field,
            operator,
            operand,
        })
    }

    pub fn field(&self) -> ReportField {
        self.field
    }

    pub fn operator(&self) -> Operator {
        self.operator
    }

    pub fn operand(&self) -> &Operand {
        &self.operand
    }

    /// The raw values, as they are written into a URL.
    pub fn values(&self) -> Vec<String> {
        match &self.operand {
            Operand::None => vec![],
            Operand::Text(text) => vec![text.clone()],
            Operand::Texts(texts) => texts.clone(),
            Operand::Number(n) => vec![n.to_string()],
            Operand::NumberRange(a, b) => vec![a.to_string(), b.to_string()],
            Operand::Date(d) => vec![d.to_string()],
            Operand::DateRange(a, b) => vec![a.to_string(), b.to_string()],
            Operand::Days(n) => vec![n.to_string()],
        }
    }

    /// "User Status is any of Active, Preserved": the chip text.
    pub fn describe(&self) -> String {
        let values = self.values();
        let value_text = match (&self.operand, self.operator) {
            (Operand::None, _) => String::new(),
            (_, Operator::Between) => format!(" {} and {}", values[0], values[1]),
            _ => format!(" {}", values.join(", ")),
        };
        format!(
            "{} {}{}",
            self.field.label(),
            self.operator.label(),
            value_text
        )
    }

    /// `<field>.<operator>:<values>` as written in the `filter` parameter.
    pub fn encode(&self) -> String {
        let values: Vec<String> = self.values().iter().map(|v| escape_value(v)).collect();
        format!(
            "{}.{}:{}",
            self.field.key(),
            self.operator.key(),
            values.join(",")
        )
    }

    pub fn decode(text: &str) -> Result<Filter, QueryError> {
        let (head, values) = text.split_once(':').ok_or_else(|| {
            QueryError::new(
                "filter",
                format!("'{text}' is not of the form <field>.<operator>:<values>"),
            )
        })?;
        let (field_key, operator_key) = head.split_once('.').ok_or_else(|| {
            QueryError::new(
                "filter",
                format!("'{head}' is not of the form <field>.<operator>"),
            )
        })?;
        let field = ReportField::from_key(field_key)
            .ok_or_else(|| QueryError::new("filter", format!("unknown field '{field_key}'")))?;
        let operator = Operator::from_key(operator_key).ok_or_else(|| {
            QueryError::new("filter", format!("unknown operator '{operator_key}'"))
        })?;
        // Numbers and dates are written as they are: only text values know escapes.
        let values = match field.kind() {
            FieldKind::Number | FieldKind::Date if values.is_empty() => vec![],
            FieldKind::Number | FieldKind::Date => values.split(',').map(str::to_owned).collect(),
            FieldKind::Text | FieldKind::Enum => split_values(values)?,
        };
        Filter::new(field, operator, values)
    }
}

fn parse_operand(
    field: ReportField,
    operator: Operator,
    values: Vec<String>,
) -> Result<Operand, QueryError> {
    let expect = |n: usize| -> Result<(), QueryError> {
        if values.len() == n {
            Ok(())
        } else {
            Err(QueryError::new(
                "filter",
                format!(
                    "'{}.{}' takes {n} value(s), got {}",
                    field.key(),
                    operator.key(),
                    values.len()
                ),
            ))
        }
    };
    let number = |text: &str| -> Result<i64, QueryError> {
        parse_number(text).ok_or_else(|| {
            QueryError::new(
                "filter",
                format!(
                    "'{text}' is not a whole number of at most {MAX_NUMBER_DIGITS} digits (field '{}')",
                    field.key()
                ),
            )
        })
    };
    let date = |text: &str| -> Result<NaiveDate, QueryError> {
        parse_date(text).ok_or_else(|| {
            QueryError::new(
                "filter",
                format!(
                    "'{text}' is not a date in the form YYYY-MM-DD (field '{}')",
                    field.key()
                ),
            )
        })
    };
    match operator {
        Operator::IsEmpty => {
            if values.is_empty() {
                Ok(Operand::None)
            } else {
                Err(QueryError::new("filter", "'is_empty' takes no value"))
            }
        }
        Operator::Contains | Operator::Equals | Operator::StartsWith => {
            expect(1)?;
            if values[0].is_empty() {
                return Err(QueryError::new(
                    "filter",
                    format!("'{}.{}' needs a value", field.key(), operator.key()),
                ));
            }
            Ok(Operand::Text(values[0].clone()))
        }
        Operator::AnyOf => {
            if values.is_empty() || values.len() > MAX_ANY_OF_VALUES {
                return Err(QueryError::new(
                    "filter",
                    format!(
                        "'{}.any_of' takes between 1 and {MAX_ANY_OF_VALUES} values",
                        field.key()
                    ),
                ));
            }
            Ok(Operand::Texts(values))
        }
        Operator::Eq | Operator::Lt | Operator::Gt => {
            expect(1)?;
            Ok(Operand::Number(number(&values[0])?))
        }
        Operator::Between if field.kind() == FieldKind::Number => {
            expect(2)?;
            // A range reads the same either way round: "between 500 and 10" is 10 to 500.
            let (a, b) = (number(&values[0])?, number(&values[1])?);
            Ok(Operand::NumberRange(a.min(b), a.max(b)))
        }
        Operator::Between => {
            expect(2)?;
            let (a, b) = (date(&values[0])?, date(&values[1])?);
            Ok(Operand::DateRange(a.min(b), a.max(b)))
        }
        Operator::Before | Operator::After => {
            expect(1)?;
            Ok(Operand::Date(date(&values[0])?))
        }
        Operator::InLastDays => {
            expect(1)?;
            let days = Some(values[0].as_str())
                .filter(|text| !text.starts_with('0') && digits(text, 1..=5))
                .and_then(|text| text.parse::<u32>().ok())
                .filter(|d| (1..=MAX_DAYS).contains(d))
                .ok_or_else(|| {
                    QueryError::new(
                        "filter",
                        format!(
                            "'{}' is not a number of days between 1 and {MAX_DAYS}",
                            values[0]
                        ),
                    )
                })?;
            Ok(Operand::Days(days))
        }
    }
}

/// Most digits a number in a filter may have: usage in MB and quotas stay far below, and a
/// bound this size keeps every accepted number inside `i64`.
pub const MAX_NUMBER_DIGITS: usize = 15;
/// Longest look-back of `in_last_days`: a hundred years.
pub const MAX_DAYS: u32 = 36_500;

/// Whether `text` is only ASCII digits, as many as `count` allows.
fn digits(text: &str, count: std::ops::RangeInclusive<usize>) -> bool {
    count.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// A whole number as written in a filter: `-` or nothing, then 1 to 15 digits.
fn parse_number(text: &str) -> Option<i64> {
    let magnitude = text.strip_prefix('-').unwrap_or(text);
    digits(magnitude, 1..=MAX_NUMBER_DIGITS)
        .then(|| text.parse().ok())
        .flatten()
}

/// A calendar date written `YYYY-MM-DD`, exactly.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || !digits(year, 4..=4)
        || !digits(month, 2..=2)
        || !digits(day, 2..=2)
    {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Ascending,
    Descending,
}

/// Sort order of the report; the server adds the user id as a stable tie-breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort {
    pub field: ReportField,
    pub direction: Direction,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            field: ReportField::CustomerName,
            direction: Direction::Ascending,
        }
    }
}

impl Sort {
    pub fn encode(&self) -> String {
        match self.direction {
            Direction::Ascending => self.field.key().to_owned(),
            Direction::Descending => format!("-{}", self.field.key()),
        }
    }

    pub fn decode(text: &str) -> Result<Sort, QueryError> {
        let (direction, key) = match text.strip_prefix('-') {
            Some(key) => (Direction::Descending, key),
            None => (Direction::Ascending, text),
        };
        let field = ReportField::from_key(key)
            .ok_or_else(|| QueryError::new("sort", format!("unknown field '{key}'")))?;
        Ok(Sort { field, direction })
    }

    /// The sort a click on `field`'s header asks for: ascending first, then toggling.
    pub fn toggled(self, field: ReportField) -> Sort {
        if self.field == field && self.direction == Direction::Ascending {
            Sort {
                field,
                direction: Direction::Descending,
            }
        } else {
            Sort {
                field,
                direction: Direction::Ascending,
            }
        }
    }
}

/// Which rows of the report to show and in what order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportQuery {
    pub filters: Vec<Filter>,
    pub service_plans: Vec<String>,
    pub sort: Sort,
}

impl ReportQuery {
    /// Reads `filter`, `plan` and `sort` from decoded query pairs; other keys are left to the caller.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ReportQuery, QueryError> {
        let mut query = ReportQuery::default();
        let mut sort_seen = false;
        for (key, value) in pairs {
            match key {
                "filter" => {
                    if query.filters.len() == MAX_FILTERS {
                        return Err(QueryError::new(
                            "filter",
                            format!("at most {MAX_FILTERS} filters are allowed"),
                        ));
                    }
                    query.filters.push(Filter::decode(value)?);
                }
                "plan" => {
                    if value.is_empty() {
                        return Err(QueryError::new("plan", "a service plan name is empty"));
                    }
                    if query.service_plans.len() == MAX_ANY_OF_VALUES {
                        return Err(QueryError::new("plan", "too many service plans"));
                    }
                    query.service_plans.push(value.to_owned());
                }
                "sort" => {
                    if sort_seen {
                        return Err(QueryError::new("sort", "give 'sort' at most once"));
                    }
                    sort_seen = true;
                    query.sort = Sort::decode(value)?;
                }
                _ => {}
            }
        }
        Ok(query)
    }

    /// Reads a stored query string (a leading `?` is ignored): only `filter`, `plan` and
    /// `sort`, so a typo is refused rather than silently dropped.
    /// Filters come first, then plans, then the sort, as [`ReportQuery::to_query_string`]
    /// writes them, so one pattern in the API document describes every stored query.
    pub fn from_query_string(query: &str) -> Result<ReportQuery, QueryError> {
        const ORDER: [&str; 3] = ["filter", "plan", "sort"];
        let pairs = decode_pairs(query.strip_prefix('?').unwrap_or(query))?;
        let mut last = 0;
        for (key, _) in &pairs {
            let rank = ORDER
                .iter()
                .position(|known| known == key)
                .ok_or_else(|| QueryError::new("query", format!("unknown parameter '{key}'")))?;
            if rank < last {
                return Err(QueryError::new(
                    "query",
                    "write the filters first, then the plans, then the sort",
                ));
            }
            last = rank;
        }
        ReportQuery::from_decoded(&pairs)
    }

    /// Reads pairs [`decode_pairs`] gave.
    pub fn from_decoded(pairs: &[(String, String)]) -> Result<ReportQuery, QueryError> {
        ReportQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The pairs that describe this query, in a canonical order; the default sort is omitted.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .filters
            .iter()
            .map(|f| ("filter".to_owned(), f.encode()))
            .collect();
        pairs.extend(
            self.service_plans
                .iter()
                .map(|p| ("plan".to_owned(), p.clone())),
        );
        if self.sort != Sort::default() {
            pairs.push(("sort".to_owned(), self.sort.encode()));
        }
        pairs
    }

    /// The query as a URL query string (without the leading `?`).
    pub fn to_query_string(&self) -> String {
        encode_pairs(&self.to_pairs())
    }
}

/// Form-encodes query pairs.
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// Decodes a URL query string into pairs. Every `%` starts an escape of two hex digits and
/// the bytes they spell are UTF-8: the form decoder would keep a stray `%` and replace bad
/// bytes, changing what was asked for without a word.
pub fn decode_pairs(query: &str) -> Result<Vec<(String, String)>, QueryError> {
    let invalid = || QueryError::new("query", "the query string is not valid form encoding");
    let bytes = query.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(at, &byte)| {
        byte != b'%'
            || bytes
                .get(at + 1..at + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed
        || percent_encoding::percent_decode_str(query)
            .decode_utf8()
            .is_err()
    {
        return Err(invalid());
    }
    serde_urlencoded::from_str(query).map_err(|_| invalid())
}

fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == ',' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text values separated by `,`, a `\` escaping the character after it.
fn split_values(text: &str) -> Result<Vec<String>, QueryError> {
    if text.is_empty() {
        return Ok(vec![]);
    }
    let mut values = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.push(chars.next().ok_or_else(|| {
                QueryError::new(
                    "filter",
                    r"a value ends in '\' with nothing after it to escape; write '\\' for a backslash",
                )
            })?),
            ',' => values.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    values.push(current);
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trips_through_its_url_encoding() {
        let query = ReportQuery {
            filters: vec![
                Filter::new(
                    ReportField::CustomerName,
                    Operator::AnyOf,
                    vec!["Acme, Inc.".into(), r"Back\slash".into()],
                )
                .expect("valid filter"),
                Filter::new(
                    ReportField::EndpointsUsageMb,
                    Operator::Between,
                    vec!["10".into(), "500".into()],
                )
                .expect("valid filter"),
                Filter::new(ReportField::CustomAttributeName, Operator::IsEmpty, vec![])
                    .expect("valid filter"),
            ],
            service_plans: vec!["Enterprise & Co".into()],
            sort: Sort {
                field: ReportField::CreatedOn,
                direction: Direction::Descending,
            },
        };
        let text = query.to_query_string();
        let pairs = decode_pairs(&text).expect("decodes");
        let back = ReportQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .expect("parses");
        assert_eq!(back, query);
    }

    #[test]
    fn operator_must_fit_the_field_kind() {
        let err = Filter::new(ReportField::CreatedOn, Operator::Contains, vec!["x".into()])
            .expect_err("contains is not a date operator");
        assert!(err.message.contains("does not apply"), "{}", err.message);
        assert!(Filter::new(
            ReportField::UserStatus,
            Operator::Equals,
            vec!["Active".into()]
        )
        .is_err());
    }

    #[test]
    fn unparsable_values_are_refused_with_the_reason() {
        assert!(Filter::decode("endpoints_usage_mb.gt:lots").is_err());
        assert!(Filter::decode("created_on.before:2024-13-01").is_err());
        assert!(Filter::decode("created_on.in_last_days:0").is_err());
        assert!(Filter::decode("user_name.contains:").is_err());
        assert!(Filter::decode("nope.contains:x").is_err());
        assert!(Filter::decode("user_name").is_err());
    }

    /// Numbers, dates and day counts are read exactly as the document's grammar writes them:
    /// no spaces, signs, escapes or extra digits, and only days the calendar has.
    #[test]
    fn numbers_and_dates_are_read_exactly_as_written() {
        for refused in [
            "endpoints_usage_mb.gt: 5",
            "endpoints_usage_mb.gt:+5",
            r"endpoints_usage_mb.gt:\5",
            "endpoints_usage_mb.gt:1234567890123456",
            "created_on.before:2023-02-29",
            "created_on.before:2024-2-01",
            "created_on.before:+2024-02-01",
            "created_on.in_last_days:007",
            "created_on.in_last_days:36501",
            "user_name.is_empty:,",
            r"user_name.contains:smith\",
        ] {
            assert!(Filter::decode(refused).is_err(), "{refused}");
        }
        for accepted in [
            "endpoints_usage_mb.gt:-123456789012345",
            "created_on.before:2024-02-29",
            "created_on.before:2000-02-29",
            "created_on.in_last_days:36500",
            "user_name.is_empty:",
            r"user_name.contains:smith\\",
            "user_name.any_of:,",
        ] {
            assert!(Filter::decode(accepted).is_ok(), "{accepted}");
        }
    }

    #[test]
    fn a_range_reads_the_same_either_way_round() {
        let both = |text: &str| Filter::decode(text).map(|f| f.operand().clone());
        assert_eq!(
            both("endpoints_usage_mb.between:9,3"),
            Ok(Operand::NumberRange(3, 9))
        );
        assert_eq!(
            both("created_on.between:2024-05-01,2023-01-31"),
            both("created_on.between:2023-01-31,2024-05-01")
        );
    }

    #[test]
    fn default_sort_is_left_out_of_the_url() {
        assert_eq!(ReportQuery::default().to_query_string(), "");
        let sort = Sort::default().toggled(ReportField::CustomerName);
        assert_eq!(sort.encode(), "-customer_name");
    }
}
