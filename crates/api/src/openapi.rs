//! What the OpenAPI document says about values whose rules a type alone cannot carry: names,
//! emails, report queries written as query strings, column lists. Each schema states exactly
//! what the server accepts (or a part of it that is easy to generate, where the full grammar is
//! not a regular language), so a client that follows the document is never refused.

use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;

use crate::report::{FieldKind, Operator, ReportField};

/// Characters no name may hold: control characters and the invisible format characters that
/// reorder or hide text. The server's input hygiene refuses the same set.
const FORBIDDEN: &str = r"\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff";

/// A name: at least one visible character, none forbidden, at most `max` characters.
pub fn name(max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!(
            r"^[^{FORBIDDEN}]*[^\s{FORBIDDEN}][^{FORBIDDEN}]*$"
        )))
}

pub fn name_80() -> RefOr<Schema> {
    name(80).into()
}

pub fn name_100() -> RefOr<Schema> {
    name(100).into()
}

pub fn optional_name_100() -> RefOr<Schema> {
    name(100)
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .into()
}

/// An email address: `local@domain.tld`, at most 254 characters.
pub fn email() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("An email address"))
        .max_length(Some(254))
        .pattern(Some(
            r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,3}\.[A-Za-z]{2,24}$",
        ))
}

pub fn email_schema() -> RefOr<Schema> {
    email().into()
}

/// A subscription's recipients: 1 to `max` email addresses.
pub fn recipients(max: usize) -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(email())
        .min_items(Some(1))
        .max_items(Some(max))
        .into()
}

pub fn password() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(crate::auth::MIN_PASSWORD_CHARS))
        .max_length(Some(crate::auth::MAX_PASSWORD_CHARS))
        .into()
}

/// An integer that is one of `values`.
pub fn one_of_integers(values: &[u32]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .enum_values(Some(values.iter().copied()))
        .into()
}

/// Largest id the document admits: the integers every JSON client holds exactly.
const MAX_ID: f64 = 9_007_199_254_740_991.0;

/// A row id.
pub fn id() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1.0))
        .maximum(Some(MAX_ID))
        .into()
}

/// A row id, or null for none.
pub fn optional_id() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1.0))
        .maximum(Some(MAX_ID))
        .into()
}

pub fn subscription_recipients() -> RefOr<Schema> {
    recipients(crate::subscription::MAX_RECIPIENTS)
}

/// Who hears of a customer's provisioning failures: none (notifications off) to 20 addresses.
pub fn notification_recipients() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(email())
        .max_items(Some(crate::subscription::MAX_RECIPIENTS))
        .into()
}

/// A schema written as JSON: for the few whose alternatives the derive cannot state.
fn from_json(value: serde_json::Value) -> RefOr<Schema> {
    serde_json::from_value(value).unwrap_or_else(|_| ObjectBuilder::new().into())
}

fn role_variant(role: &str, customer: serde_json::Value, required: &[&str]) -> serde_json::Value {
    let mut required: Vec<&str> = required.to_vec();
    required.push("role");
    serde_json::json!({
        "type": "object",
        "required": required,
        "properties": {
            "email": email_json(),
            "display_name": json_of(name_100()),
            "password": json_of(password()),
            "role": {"type": "string", "enum": [role]},
            "customer_id": customer,
        }
    })
}

fn json_of(schema: RefOr<Schema>) -> serde_json::Value {
    serde_json::to_value(schema).unwrap_or_default()
}

fn email_json() -> serde_json::Value {
    json_of(email().into())
}

fn customer_id_json(nullable: bool) -> serde_json::Value {
    let mut id = json_of(if nullable { optional_id() } else { id() });
    id["description"] = "The customer the admin belongs to".into();
    id
}

/// `POST /api/v1/admins`: an MSP admin has no customer, a customer admin one, a read-only
/// admin one or none (an MSP-wide viewer).
pub fn create_admin() -> RefOr<Schema> {
    let required = ["email", "display_name", "password"];
    from_json(serde_json::json!({"oneOf": [
        role_variant("msp_admin", serde_json::json!({"type": "null"}), &required),
        role_variant("customer_admin", customer_id_json(false), &[&required[..], &["customer_id"]].concat()),
        role_variant("read_only", customer_id_json(true), &required),
    ]}))
}

/// `PATCH /api/v1/admins/{id}`: any of the fields; a new role carries its customer as on
/// create, and without a role `customer_id` is not read.
pub fn update_admin() -> RefOr<Schema> {
    let strip = |mut variant: serde_json::Value| {
        if let Some(properties) = variant["properties"].as_object_mut() {
            properties.remove("email");
            properties.remove("password");
            properties.insert("display_name".into(), json_of(optional_name_100()));
            properties.insert(
                "disabled".into(),
                serde_json::json!({"type": ["boolean", "null"]}),
            );
        }
        variant
    };
    from_json(serde_json::json!({"oneOf": [
        strip(role_variant("msp_admin", serde_json::json!({"type": "null"}), &[])),
        strip(role_variant("customer_admin", customer_id_json(false), &["customer_id"])),
        strip(role_variant("read_only", customer_id_json(true), &[])),
        {
            "type": "object",
            "properties": {
                "role": {"type": "null"},
                // A customer comes with a role.
                "customer_id": {"type": "null"},
                "disabled": {"type": ["boolean", "null"]},
                "display_name": json_of(optional_name_100()),
            }
        }
    ]}))
}

/// A weekly delivery's days: each once.
pub fn weekdays() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])),
        )
        .min_items(Some(1))
        .max_items(Some(7))
        .unique_items(true)
        .into()
}

/// A monthly delivery's day: `{"day": 1…31}` or `"last"`.
pub fn month_day() -> RefOr<Schema> {
    from_json(serde_json::json!({"oneOf": [
        {"type": "object", "required": ["day"], "additionalProperties": false,
         "properties": {"day": {"type": "integer", "minimum": 1, "maximum": 31}}},
        {"type": "string", "enum": ["last"]},
    ]}))
}

/// A group mapping's groups: SCIM ids, 1 to 50.
pub fn mapping_groups() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(200)),
        )
        .min_items(Some(1))
        .max_items(Some(crate::mapping::MAX_MATCH_GROUPS))
        .into()
}

/// A SCIM attribute that may fill the customer's custom attribute, or null for none.
pub fn custom_attribute_source() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(
            crate::scim::CUSTOM_ATTRIBUTE_SOURCES
                .iter()
                .map(|name| serde_json::Value::from(*name))
                .chain([serde_json::Value::Null]),
        ))
        .into()
}

/// The users a bulk action names by id.
pub fn bulk_ids() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(id())
        .min_items(Some(1))
        .max_items(Some(crate::user::MAX_BULK_USERS))
        .into()
}

/// The directory attributes a mapping may match on.
pub fn matchable_attribute() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(crate::mapping::MATCHABLE_ATTRIBUTES))
        .into()
}

/// An attribute mapping's values: 1 to 50 names.
pub fn match_values() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(name(200))
        .min_items(Some(1))
        .max_items(Some(crate::mapping::MAX_MATCH_VALUES))
        .into()
}

/// A column layout's order: every field exactly once.
pub fn layout_order() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(field_keys())
        .min_items(Some(ReportField::ALL.len()))
        .max_items(Some(ReportField::ALL.len()))
        .unique_items(true)
        .into()
}

/// The hidden columns: any fields but one at least, each once.
pub fn layout_hidden() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(field_keys())
        .max_items(Some(ReportField::ALL.len() - 1))
        .unique_items(true)
        .into()
}

/// A view's columns: one field at least, each once.
pub fn view_columns() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(field_keys())
        .min_items(Some(1))
        .max_items(Some(ReportField::ALL.len()))
        .unique_items(true)
        .into()
}

fn field_keys() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ReportField::ALL.iter().map(|f| f.key())))
}

/// `cols`: comma-separated field keys, each once (in the report's order, as documented).
pub fn columns_text() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{}$", columns_pattern())))
}

pub fn columns_text_schema() -> RefOr<Schema> {
    columns_text().into()
}

/// A snapshot's columns: empty for all of them, or a `cols` list.
pub fn optional_columns_text() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^(?:{})?$", columns_pattern())))
        .into()
}

/// Non-empty subsequences of the fields, comma-joined: no field twice.
fn columns_pattern() -> String {
    let keys: Vec<&str> = ReportField::ALL.iter().map(|f| f.key()).collect();
    let starts: Vec<String> = (0..keys.len())
        .map(|first| {
            let rest: String = keys[first + 1..]
                .iter()
                .map(|key| format!("(?:,{key})?"))
                .collect();
            format!("{}{rest}", keys[first])
        })
        .collect();
    format!("(?:{})", starts.join("|"))
}

/// A value without the separator or escape characters, as the document's grammar writes one.
/// (Letters, digits and `._-`: what form encoding leaves as it is, so a stored query's
/// canonical form matches the same pattern.)
const VALUE: &str = r"[A-Za-z0-9._-]";
const NUMBER: &str = r"-?[0-9]{1,15}";
/// A day that exists in every month of every year.
const DATE: &str = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])";
const DAYS: &str = r"(?:[1-9][0-9]{0,3}|[1-2][0-9]{4}|3[0-5][0-9]{3}|36[0-4][0-9]{2}|36500)";

/// The values part of a filter of `kind` with `operator`, values separated by `comma`.
fn values_pattern(kind: FieldKind, operator: Operator, comma: &str) -> String {
    match (kind, operator) {
        (_, Operator::Contains | Operator::Equals | Operator::StartsWith) => {
            format!("{VALUE}{{1,40}}")
        }
        (_, Operator::IsEmpty) => String::new(),
        (_, Operator::AnyOf) => format!("{VALUE}{{1,40}}(?:{comma}{VALUE}{{1,40}}){{0,9}}"),
        // Low to high: a first value of fewer digits, both non-negative.
        (FieldKind::Number, Operator::Between) => format!("[0-9]{{1,7}}{comma}[1-9][0-9]{{7,14}}"),
        (_, Operator::Eq | Operator::Lt | Operator::Gt) => NUMBER.to_owned(),
        // From an earlier year to a later one.
        (_, Operator::Between) => {
            format!("1[0-9]{{3}}{}{comma}2[0-9]{{3}}{}", &DATE[8..], &DATE[8..])
        }
        (_, Operator::Before | Operator::After) => DATE.to_owned(),
        (_, Operator::InLastDays) => DAYS.to_owned(),
    }
}

/// The filter grammar with `separator` between `<field>.<operator>` and the values, and
/// `comma` between values.
fn filter_alternatives(separator: &str, comma: &str) -> String {
    let mut alternatives = Vec::new();
    for field in ReportField::ALL {
        for operator in field.kind().operators() {
            alternatives.push(format!(
                "{}\\.{}{separator}{}",
                field.key(),
                operator.key(),
                values_pattern(field.kind(), *operator, comma)
            ));
        }
    }
    format!("(?:{})", alternatives.join("|"))
}

/// One `filter` value: `<field>.<operator>:<values>`.
pub fn filter_pattern() -> String {
    filter_alternatives(":", ",")
}

/// One `sort` value: a field key, `-` first for descending.
pub fn sort_pattern() -> String {
    let keys: Vec<&str> = ReportField::ALL.iter().map(|f| f.key()).collect();
    format!("-?(?:{})", keys.join("|"))
}

/// A report query written as a query string, as views and subscriptions store it: filters,
/// then service plans, then the sort, joined by `&` (form-encoded: `:` and `,` may be written
/// `%3A` and `%2C`, as the server writes them).
pub fn report_query_string() -> RefOr<Schema> {
    let filter = format!("filter={}", filter_alternatives("(?::|%3A)", "(?:,|%2C)"));
    let plan = "plan=[A-Za-z0-9]{1,20}";
    let sort = format!("sort={}", sort_pattern());
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!(
            "^(?:{filter}(?:&{filter}){{0,4}}(?:&{plan}){{0,3}}(?:&{sort})?\
             |{plan}(?:&{plan}){{0,2}}(?:&{sort})?|{sort})?$"
        )))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{decode_columns, Filter, Sort};

    /// Samples of each alternative the patterns allow, checked against the real parsers.
    #[test]
    fn the_documented_grammar_is_what_the_parsers_accept() {
        for field in ReportField::ALL {
            for operator in field.kind().operators() {
                let values = match (field.kind(), operator) {
                    (_, Operator::IsEmpty) => "",
                    (FieldKind::Number, Operator::Between) => "9999999,10000000",
                    (_, Operator::Between) => "1999-02-28,2000-01-01",
                    (_, Operator::Before | Operator::After) => "2024-12-28",
                    (_, Operator::InLastDays) => "36500",
                    (_, Operator::Eq | Operator::Lt | Operator::Gt) => "-999999999999999",
                    (_, Operator::AnyOf) => "Ada Lovelace,x@y.example",
                    _ => "Ada Lovelace",
                };
                let text = format!("{}.{}:{values}", field.key(), operator.key());
                assert!(Filter::decode(&text).is_ok(), "{text}");
            }
        }
        for sort in ["user_name", "-created_on"] {
            assert!(Sort::decode(sort).is_ok());
        }
        assert!(decode_columns("customer_name,user_email,custom_attribute_value").is_ok());
        assert!(columns_pattern().starts_with("(?:global_customer_id(?:,customer_name)?"));
    }

    #[test]
    fn written_schemas_are_schemas_not_the_fallback() {
        for schema in [create_admin(), update_admin(), month_day()] {
            let json = json_of(schema);
            assert!(
                json["oneOf"].as_array().is_some_and(|v| v.len() >= 2),
                "{json}"
            );
        }
    }
}

/// The request types whose schema is written here rather than derived.
macro_rules! written_schema {
    ($type:ty, $name:literal, $schema:path) => {
        impl utoipa::PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                $schema()
            }
        }
        impl utoipa::ToSchema for $type {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}

written_schema!(
    crate::auth::CreateAdminRequest,
    "CreateAdminRequest",
    create_admin
);
written_schema!(
    crate::auth::UpdateAdminRequest,
    "UpdateAdminRequest",
    update_admin
);
written_schema!(crate::subscription::MonthDay, "MonthDay", month_day);
