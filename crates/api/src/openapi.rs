//! What the OpenAPI document says about values whose rules a type alone cannot carry: names,
//! emails, report filters, report queries written as query strings, column lists. Each schema
//! states exactly what the server accepts (the report query's patterns are checked against
//! their parsers), so a client that follows the document is never refused and one that strays
//! is.

use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;

use crate::report::ReportField;

mod report_query;

pub use report_query::{filter_pattern, optional_sort_pattern, report_query_string, sort_pattern};

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
    column_list().min_items(Some(1)).into()
}

/// Field keys in display order, each once.
fn column_list() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(field_keys())
        .max_items(Some(ReportField::ALL.len()))
        .unique_items(true)
}

fn field_keys() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ReportField::ALL.iter().map(|f| f.key())))
}

/// A snapshot's columns: field keys, each once, in order; none for the report's own.
pub fn snapshot_columns() -> RefOr<Schema> {
    column_list().into()
}

#[cfg(test)]
mod tests {
    use super::*;

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
