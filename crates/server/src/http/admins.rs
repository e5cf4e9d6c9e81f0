//! `/api/v1/admins`: MSP admins list, create, re-role and disable admin accounts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use provisio_api::auth::{AdminAccount, CreateAdminRequest, Role, UpdateAdminRequest};
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{ApiJson, ApiPath};
use super::session::validate_password;
use crate::auth::{password, ClientAddress, CurrentAdmin};
use crate::db::{self, Scope};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_admins, create_admin))
        .routes(routes!(update_admin))
}

/// Every admin account (MSP admins only).
#[utoipa::path(get, path = "/api/v1/admins", tag = "admins",
    responses((status = 200, body = Vec<AdminAccount>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_admins(
    State(state): State<AppState>,
    admin: CurrentAdmin,
) -> Result<Json<Vec<AdminAccount>>, ApiError> {
    admin.require_msp_admin()?;
    Ok(Json(db::admins::list(&state.pool).await?))
}

/// Creates an admin with an initial password (MSP admins only).
#[utoipa::path(post, path = "/api/v1/admins", tag = "admins", request_body = CreateAdminRequest,
    responses((status = 201, body = AdminAccount), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, description = "No such customer", body = ErrorBody),
              (status = 409, description = "The email is taken", body = ErrorBody)))]
async fn create_admin(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiJson(request): ApiJson<CreateAdminRequest>,
) -> Result<(StatusCode, Json<AdminAccount>), ApiError> {
    admin.require_msp_admin()?;
    let email = validate_email(&request.email)?;
    let display_name = validate_display_name(&request.display_name)?;
    validate_password(&request.password, "password")?;
    let customer_id = customer_for_role(&state, request.role, request.customer_id).await?;
    if db::admins::find_by_email(&state.pool, &email)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict {
            parameter: Some("email"),
            message: format!("An admin with the email {email} already exists."),
        });
    }
    let hash = password::hash(request.password).await?;
    let new = db::admins::NewAdmin {
        email: &email,
        display_name: &display_name,
        password_hash: &hash,
        role: request.role,
        customer_id,
    };
    let id = db::admins::insert(&state.pool, &new).await?;
    let actor = admin.actor();
    let detail = format!("created {email} as {}", request.role.label());
    db::audit::record(
        &state.pool,
        actor,
        "admin_created",
        &detail,
        address.as_deref(),
    )
    .await?;
    let account = db::admins::account(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// Changes an admin's role, name or disabled state (MSP admins only). The last active MSP admin
/// cannot be demoted or disabled. A changed role or a disable ends that admin's sessions.
#[utoipa::path(patch, path = "/api/v1/admins/{id}", tag = "admins", request_body = UpdateAdminRequest,
    params(("id" = i64, Path, description = "Admin id")),
    responses((status = 200, body = AdminAccount), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "Would leave no active MSP admin", body = ErrorBody)))]
async fn update_admin(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<UpdateAdminRequest>,
) -> Result<Json<AdminAccount>, ApiError> {
    admin.require_msp_admin()?;
    refuse_self_lockout(&admin, id, &request)?;
    let display_name = request
        .display_name
        .as_deref()
        .map(validate_display_name)
        .transpose()?;
    let customer_id = match request.role {
        Some(role) => Some(customer_for_role(&state, role, request.customer_id).await?),
        None if request.customer_id.is_some() => {
            return Err(ApiError::bad_request(
                "customer_id",
                "Give the role with the customer: a customer belongs to a role.",
            ))
        }
        None => None,
    };
    // Read, check and write in one write transaction: a concurrent change to this admin, or
    // to the other MSP admins, cannot slip in between.
    let mut tx = db::write_transaction(&state.pool).await?;
    let target = db::admins::find(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let update = db::admins::AdminUpdate {
        role: request.role.unwrap_or(target.role()),
        customer_id: customer_id.unwrap_or(target.customer_id),
        disabled: request.disabled.unwrap_or(target.disabled),
        display_name: display_name.as_deref().unwrap_or(&target.display_name),
    };
    if !db::admins::update(&mut tx, id, &update).await? {
        return Err(ApiError::Conflict {
            parameter: None,
            message: "This is the last active MSP admin; make another admin an MSP admin first."
                .to_owned(),
        });
    }
    let (role, disabled) = (update.role, update.disabled);
    if role != target.role()
        || update.customer_id != target.customer_id
        || (disabled && !target.disabled)
    {
        db::admins::delete_sessions_of(&mut tx, id).await?;
    }
    tx.commit().await?;
    let actor = admin.actor();
    let detail = format!(
        "{}: role {}, {}",
        target.email,
        role.label(),
        if disabled { "disabled" } else { "enabled" }
    );
    db::audit::record(
        &state.pool,
        actor,
        "admin_updated",
        &detail,
        address.as_deref(),
    )
    .await?;
    Ok(Json(
        db::admins::account(&state.pool, id)
            .await?
            .ok_or(ApiError::NotFound)?,
    ))
}

/// Locking oneself out is never what was meant; another MSP admin can do it.
fn refuse_self_lockout(
    admin: &CurrentAdmin,
    id: i64,
    request: &UpdateAdminRequest,
) -> Result<(), ApiError> {
    let demotes = request.role.is_some_and(|role| role != Role::MspAdmin);
    if id == admin.id && (request.disabled == Some(true) || demotes) {
        return Err(ApiError::Conflict {
            parameter: None,
            message: "You cannot disable or demote yourself; ask another MSP admin.".to_owned(),
        });
    }
    Ok(())
}

/// The customer an admin of `role` belongs to, checked to exist.
async fn customer_for_role(
    state: &AppState,
    role: Role,
    customer_id: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    match (role, customer_id) {
        (Role::MspAdmin, Some(_)) => Err(ApiError::bad_request(
            "customer_id",
            "An MSP admin sees every customer; leave the customer empty.",
        )),
        (Role::CustomerAdmin, None) => Err(ApiError::bad_request(
            "customer_id",
            "Choose the customer this admin manages.",
        )),
        (_, Some(id)) => match db::customers::find(&state.pool, Scope::AllCustomers, id).await? {
            Some(customer) => Ok(Some(customer.id)),
            None => Err(ApiError::Missing {
                parameter: "customer_id",
                message: format!("There is no customer {id}."),
            }),
        },
        (_, None) => Ok(None),
    }
}

/// The address as sent (the document's pattern admits no surrounding spaces, so neither
/// does the server; the web app trims what is typed).
fn validate_email(email: &str) -> Result<String, ApiError> {
    if !provisio_api::auth::plausible_email(email) {
        return Err(ApiError::bad_request(
            "email",
            "Enter an email address such as name@example.com.",
        ));
    }
    Ok(email.to_owned())
}

fn validate_display_name(name: &str) -> Result<String, ApiError> {
    super::text::clean(
        "display_name",
        name,
        100,
        "Enter a name of 1 to 100 characters.",
    )
}
