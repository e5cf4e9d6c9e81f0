//! Discovery (RFC 7644 §4): what this service provider supports, its resource types and the
//! schemas of their attributes.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::attributes::ENTERPRISE_SCHEMA;
use super::groups::GROUP_SCHEMA;
use super::projection::MAX_COUNT;
use super::response::{list_response, scim_json};
use super::users::USER_SCHEMA;
use super::{ScimClient, ScimError};
use crate::db::scim_users::{Home, DIRECTORY_ATTRIBUTES};

pub async fn service_provider_config(_: ScimClient) -> Response {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": MAX_COUNT},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": true},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A token from Provisio's SCIM provisioning page",
                "primary": true
            }],
            "meta": {"resourceType": "ServiceProviderConfig", "location": "/scim/v2/ServiceProviderConfig"}
        }),
    )
}

pub async fn resource_types(_: ScimClient) -> Response {
    let all = all_resource_types();
    let total = all.len() as i64;
    list_response(all, total, 1)
}

pub async fn resource_type(_: ScimClient, Path(id): Path<String>) -> Result<Response, ScimError> {
    find(all_resource_types(), &id, "resource type")
}

pub async fn schemas(_: ScimClient) -> Response {
    let all = all_schemas();
    let total = all.len() as i64;
    list_response(all, total, 1)
}

pub async fn schema(_: ScimClient, Path(id): Path<String>) -> Result<Response, ScimError> {
    find(all_schemas(), &id, "schema")
}

fn find(resources: Vec<Value>, id: &str, what: &str) -> Result<Response, ScimError> {
    resources
        .into_iter()
        .find(|r| r["id"] == id)
        .map(|r| scim_json(StatusCode::OK, &r))
        .ok_or_else(|| ScimError::not_found(format!("No {what} with id {id}.")))
}

fn all_resource_types() -> Vec<Value> {
    let resource_type = |id: &str, endpoint: &str, schema: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": id, "name": id, "endpoint": endpoint, "schema": schema,
            "meta": {"resourceType": "ResourceType", "location": format!("/scim/v2/ResourceTypes/{id}")}
        })
    };
    let mut user = resource_type("User", "/Users", USER_SCHEMA);
    user["schemaExtensions"] = json!([{"schema": ENTERPRISE_SCHEMA, "required": false}]);
    vec![user, resource_type("Group", "/Groups", GROUP_SCHEMA)]
}

fn attribute(name: &str, kind: &str, required: bool, mutability: &str, uniqueness: &str) -> Value {
    json!({"name": name, "type": kind, "multiValued": false, "required": required,
           "caseExact": false, "mutability": mutability, "returned": "default",
           "uniqueness": uniqueness})
}

fn complex(name: &str, multi_valued: bool, required: bool, sub_attributes: Vec<Value>) -> Value {
    json!({"name": name, "type": "complex", "multiValued": multi_valued, "required": required,
           "mutability": "readWrite", "returned": "default", "subAttributes": sub_attributes})
}

fn schema_resource(id: &str, name: &str, attributes: Vec<Value>) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id, "name": name, "description": name, "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("/scim/v2/Schemas/{id}")}
    })
}

fn all_schemas() -> Vec<Value> {
    let read_write = |name: &str, kind: &str, required: bool| {
        attribute(name, kind, required, "readWrite", "none")
    };
    let user = schema_resource(
        USER_SCHEMA,
        "User",
        vec![
            attribute("userName", "string", true, "readWrite", "server"),
            read_write("externalId", "string", false),
            read_write("displayName", "string", false),
            // Every Provisio user is active or preserved: `active` is replaced, never removed.
            read_write("active", "boolean", true),
            complex(
                "name",
                false,
                false,
                vec![
                    read_write("givenName", "string", false),
                    read_write("familyName", "string", false),
                ],
            ),
            complex(
                "emails",
                true,
                true,
                vec![
                    read_write("value", "string", true),
                    read_write("type", "string", false),
                    read_write("primary", "boolean", false),
                ],
            ),
            read_write("title", "string", false),
            read_write("userType", "string", false),
            read_write("preferredLanguage", "string", false),
            complex(
                "addresses",
                true,
                false,
                vec![
                    read_write("type", "string", false),
                    read_write("locality", "string", false),
                    read_write("region", "string", false),
                    read_write("country", "string", false),
                ],
            ),
        ],
    );
    let enterprise = schema_resource(
        ENTERPRISE_SCHEMA,
        "EnterpriseUser",
        DIRECTORY_ATTRIBUTES
            .into_iter()
            .filter(|(_, home)| *home == Home::Enterprise)
            .map(|(name, _)| read_write(name, "string", false))
            .collect(),
    );
    let mut member_ref = attribute("$ref", "reference", false, "immutable", "none");
    member_ref["referenceTypes"] = json!(["User"]);
    let group = schema_resource(
        GROUP_SCHEMA,
        "Group",
        vec![
            attribute("displayName", "string", true, "readWrite", "server"),
            read_write("externalId", "string", false),
            complex(
                "members",
                true,
                false,
                vec![
                    attribute("value", "string", false, "immutable", "none"),
                    member_ref,
                ],
            ),
        ],
    );
    vec![user, enterprise, group]
}
