//! The one place that talks HTTP to the Provisio API, typed by `provisio-api`.

use gloo_net::http::{Request, RequestBuilder, Response};
use provisio_api::auth::{
    AdminAccount, ChangePasswordRequest, CreateAdminRequest, CustomerRef, Me, SignInRequest,
    UpdateAdminRequest,
};
use provisio_api::mapping::{
    Mapping, MappingChange, MappingExplanation, MappingJob, MappingOptions, MappingOrderRequest,
    MappingPreview, MappingPreviewRequest, MappingSettings, SaveMappingRequest,
};
use provisio_api::provisioning::{
    EventDetail, EventFacets, EventPage, EventQuery, NotificationSettings, ProvisioningStatus,
};
use provisio_api::report::{
    encode_columns, encode_pairs, ColumnLayout, DefaultViewRequest, ExportFormat, ReportFacets,
    ReportField, ReportPage, ReportQuery, SaveViewRequest, SavedView, SavedViewList,
};
use provisio_api::scim::{
    CreateScimTokenRequest, CreatedScimToken, CustomAttributeSetting, ScimToken,
};
use provisio_api::subscription::{
    AssignOwnerRequest, Delivery, SaveSubscriptionRequest, Subscription,
};
use provisio_api::user::{BulkOutcome, BulkRequest, ManualPlacement, TimelineEntry, UserDetail};
use provisio_api::ErrorBody;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;

thread_local! {
    /// What the app does when the server says the session is over; set once at the root.
    static SESSION_ENDED: RefCell<Option<Rc<dyn Fn()>>> = RefCell::new(None);
}

/// Sets what every request does on a 401, so no page has to: the root ends the session, and
/// the shell sends the admin to sign in.
pub fn on_session_ended(hook: impl Fn() + 'static) {
    SESSION_ENDED.with(|slot| *slot.borrow_mut() = Some(Rc::new(hook)));
}

fn session_ended() {
    // Cloned out first: the hook may start requests of its own.
    if let Some(hook) = SESSION_ENDED.with(|slot| slot.borrow().clone()) {
        hook();
    }
}

/// What went wrong with a request, in words for the person at the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub message: String,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The parameter or field the server named, for showing the message beside it.
    pub parameter: Option<String>,
}

impl ApiFailure {
    /// The message, when the server named `field`: shown beside that field.
    pub fn about(&self, field: &str) -> Option<String> {
        (self.parameter.as_deref() == Some(field)).then(|| self.message.clone())
    }

    /// The message, unless it names one of the form's `fields`: shown for the whole form.
    pub fn beyond(&self, fields: &[&str]) -> Option<String> {
        match self.parameter.as_deref() {
            Some(field) if fields.contains(&field) => None,
            _ => Some(self.message.clone()),
        }
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

const REPORT_PATH: &str = "/api/v1/reports/user-provisioning";

/// One page of the report; `cursor` continues a previous page of the same query.
pub async fn report_page(
    query: &ReportQuery,
    cursor: Option<&str>,
    limit: u32,
) -> Result<ReportPage, ApiFailure> {
    let mut pairs = query.to_pairs();
    pairs.push(("limit".to_owned(), limit.to_string()));
    if let Some(cursor) = cursor {
        pairs.push(("cursor".to_owned(), cursor.to_owned()));
    }
    get_json(&format!("{REPORT_PATH}?{}", encode_pairs(&pairs))).await
}

/// The values and counts the filter UI offers.
pub async fn report_facets() -> Result<ReportFacets, ApiFailure> {
    get_json(&format!("{REPORT_PATH}/facets")).await
}

/// The signed-in admin's column layout of the report.
pub async fn report_layout() -> Result<ColumnLayout, ApiFailure> {
    get_json(&format!("{REPORT_PATH}/layout")).await
}

pub async fn save_report_layout(layout: &ColumnLayout) -> Result<ColumnLayout, ApiFailure> {
    send_json(Request::put(&format!("{REPORT_PATH}/layout")), layout).await
}

pub async fn reset_report_layout() -> Result<ColumnLayout, ApiFailure> {
    call(Request::delete(&format!("{REPORT_PATH}/layout"))).await
}

pub async fn saved_views() -> Result<SavedViewList, ApiFailure> {
    get_json(&format!("{REPORT_PATH}/views")).await
}

pub async fn create_view(request: &SaveViewRequest) -> Result<SavedView, ApiFailure> {
    send_json(Request::post(&format!("{REPORT_PATH}/views")), request).await
}

pub async fn update_view(id: i64, request: &SaveViewRequest) -> Result<SavedView, ApiFailure> {
    send_json(Request::put(&format!("{REPORT_PATH}/views/{id}")), request).await
}

pub async fn delete_view(id: i64) -> Result<(), ApiFailure> {
    send_empty(Request::delete(&format!("{REPORT_PATH}/views/{id}"))).await
}

pub async fn set_default_view(view_id: Option<i64>) -> Result<(), ApiFailure> {
    send_json_empty(
        Request::put(&format!("{REPORT_PATH}/default-view")),
        &DefaultViewRequest { view_id },
    )
    .await
}

/// The export endpoint's URL for a query, its visible columns and a format.
pub fn export_url(query: &ReportQuery, columns: &[ReportField], format: ExportFormat) -> String {
    let mut pairs = query.to_pairs();
    pairs.push(("cols".to_owned(), encode_columns(columns)));
    pairs.push(("format".to_owned(), format.key().to_owned()));
    format!("{REPORT_PATH}/export?{}", encode_pairs(&pairs))
}

/// A finished download: the file's bytes and the name the server gave it.
pub struct Download {
    pub file_name: String,
    pub blob: web_sys::Blob,
}

/// Fetches an export, reporting the bytes and lines received as they stream in; `signal`
/// cancels it. Every row of an export ends a line, so lines count rows closely enough for a
/// progress bar.
pub async fn download(
    url: &str,
    signal: &web_sys::AbortSignal,
    on_progress: impl Fn(u64, u64),
) -> Result<Download, ApiFailure> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let response = Request::get(url)
        .abort_signal(Some(signal))
        .send()
        .await
        .map_err(|_| cancelled_or_unreachable(signal))?;
    if !response.ok() {
        return Err(failure(response).await);
    }
    let file_name = response
        .headers()
        .get("content-disposition")
        .and_then(|value| file_name_of(&value))
        .unwrap_or_else(|| "user-provisioning-export".to_owned());
    let content_type = response.headers().get("content-type").unwrap_or_default();
    let body = response.body().ok_or_else(|| ApiFailure {
        message: "The server sent an empty export. Retry.".to_owned(),
        status: None,
        parameter: None,
    })?;
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| cancelled_or_unreachable(signal))?;
    let chunks = js_sys::Array::new();
    let (mut bytes, mut lines) = (0_u64, 0_u64);
    loop {
        let step = JsFuture::from(reader.read())
            .await
            .map_err(|_| cancelled_or_unreachable(signal))?;
        let done = js_sys::Reflect::get(&step, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        if let Ok(value) = js_sys::Reflect::get(&step, &"value".into()) {
            let chunk = js_sys::Uint8Array::new(&value);
            bytes += u64::from(chunk.length());
            lines += chunk.to_vec().iter().filter(|b| **b == b'\n').count() as u64;
            chunks.push(&chunk);
            on_progress(bytes, lines);
        }
    }
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&content_type);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&chunks, &options).map_err(|_| {
            ApiFailure {
                message: "The browser could not hold the export; filter it down and retry."
                    .to_owned(),
                status: None,
                parameter: None,
            }
        })?;
    Ok(Download { file_name, blob })
}

/// `attachment; filename="x.csv"` → `x.csv`.
fn file_name_of(disposition: &str) -> Option<String> {
    let start = disposition.find("filename=\"")? + "filename=\"".len();
    let rest = &disposition[start..];
    let name = &rest[..rest.find('"')?];
    (!name.is_empty()).then(|| name.to_owned())
}

fn cancelled_or_unreachable(signal: &web_sys::AbortSignal) -> ApiFailure {
    if signal.aborted() {
        ApiFailure {
            message: "Export cancelled.".to_owned(),
            status: None,
            parameter: None,
        }
    } else {
        unreachable_server()
    }
}

pub async fn current_admin() -> Result<Me, ApiFailure> {
    get_json("/api/v1/session").await
}

pub async fn sign_in(email: String, password: String) -> Result<Me, ApiFailure> {
    send_json(
        Request::post("/api/v1/session"),
        &SignInRequest { email, password },
    )
    .await
}

pub async fn sign_out() -> Result<(), ApiFailure> {
    send_empty(Request::delete("/api/v1/session")).await
}

/// Changes the password; the server then ends every session of this admin.
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), ApiFailure> {
    let body = ChangePasswordRequest {
        current_password,
        new_password,
    };
    send_json_empty(Request::post("/api/v1/session/password"), &body).await
}

pub async fn customers() -> Result<Vec<CustomerRef>, ApiFailure> {
    get_json("/api/v1/customers").await
}

pub async fn admins() -> Result<Vec<AdminAccount>, ApiFailure> {
    get_json("/api/v1/admins").await
}

pub async fn create_admin(request: &CreateAdminRequest) -> Result<AdminAccount, ApiFailure> {
    send_json(Request::post("/api/v1/admins"), request).await
}

pub async fn update_admin(
    id: i64,
    request: &UpdateAdminRequest,
) -> Result<AdminAccount, ApiFailure> {
    send_json(Request::patch(&format!("/api/v1/admins/{id}")), request).await
}

/// A customer's SCIM tokens (never the secrets).
pub async fn scim_tokens(customer_id: i64) -> Result<Vec<ScimToken>, ApiFailure> {
    get_json(&format!("/api/v1/customers/{customer_id}/scim-tokens")).await
}

/// Generates a token; the answer holds the secret, which the server never shows again.
pub async fn create_scim_token(
    customer_id: i64,
    request: &CreateScimTokenRequest,
) -> Result<CreatedScimToken, ApiFailure> {
    let url = format!("/api/v1/customers/{customer_id}/scim-tokens");
    send_json(Request::post(&url), request).await
}

pub async fn revoke_scim_token(customer_id: i64, token_id: i64) -> Result<(), ApiFailure> {
    let url = format!("/api/v1/customers/{customer_id}/scim-tokens/{token_id}");
    send_empty(Request::delete(&url)).await
}

pub async fn subscriptions() -> Result<Vec<Subscription>, ApiFailure> {
    get_json("/api/v1/subscriptions").await
}

pub async fn create_subscription(
    request: &SaveSubscriptionRequest,
) -> Result<Subscription, ApiFailure> {
    send_json(Request::post("/api/v1/subscriptions"), request).await
}

pub async fn update_subscription(
    id: i64,
    request: &SaveSubscriptionRequest,
) -> Result<Subscription, ApiFailure> {
    send_json(
        Request::put(&format!("/api/v1/subscriptions/{id}")),
        request,
    )
    .await
}

pub async fn delete_subscription(id: i64) -> Result<(), ApiFailure> {
    send_empty(Request::delete(&format!("/api/v1/subscriptions/{id}"))).await
}

/// Delivers now; answers the delivery as recorded (sent, skipped or failed).
pub async fn send_subscription_now(id: i64) -> Result<Delivery, ApiFailure> {
    call(Request::post(&format!("/api/v1/subscriptions/{id}/send"))).await
}

pub async fn deliveries(id: i64) -> Result<Vec<Delivery>, ApiFailure> {
    get_json(&format!("/api/v1/subscriptions/{id}/deliveries")).await
}

pub async fn assign_subscription_owner(id: i64, owner_id: i64) -> Result<Subscription, ApiFailure> {
    send_json(
        Request::put(&format!("/api/v1/subscriptions/{id}/owner")),
        &AssignOwnerRequest { owner_id },
    )
    .await
}

fn mappings_path(customer_id: i64) -> String {
    format!("/api/v1/customers/{customer_id}/mappings")
}

/// A customer's mappings, highest priority first.
pub async fn mappings(customer_id: i64) -> Result<Vec<Mapping>, ApiFailure> {
    get_json(&mappings_path(customer_id)).await
}

/// Where a re-evaluation of the customer's users stands.
pub async fn mapping_job(customer_id: i64, id: i64) -> Result<MappingJob, ApiFailure> {
    get_json(&format!("{}/jobs/{id}", mappings_path(customer_id))).await
}

/// What the mapping editor offers for a customer.
pub async fn mapping_options(customer_id: i64) -> Result<MappingOptions, ApiFailure> {
    get_json(&format!("{}/options", mappings_path(customer_id))).await
}

/// Adds a mapping at the lowest priority; answers the whole new list and the job placing the
/// customer's users by it.
pub async fn create_mapping(
    customer_id: i64,
    request: &SaveMappingRequest,
) -> Result<MappingChange, ApiFailure> {
    send_json(Request::post(&mappings_path(customer_id)), request).await
}

pub async fn update_mapping(
    customer_id: i64,
    id: i64,
    request: &SaveMappingRequest,
) -> Result<MappingChange, ApiFailure> {
    let url = format!("{}/{id}", mappings_path(customer_id));
    send_json(Request::put(&url), request).await
}

pub async fn delete_mapping(customer_id: i64, id: i64) -> Result<MappingChange, ApiFailure> {
    let url = format!("{}/{id}", mappings_path(customer_id));
    call(Request::delete(&url)).await
}

pub async fn order_mappings(customer_id: i64, ids: Vec<i64>) -> Result<MappingChange, ApiFailure> {
    let url = format!("{}/order", mappings_path(customer_id));
    send_json(Request::put(&url), &MappingOrderRequest { ids }).await
}

/// What saving a list of mappings would change, without saving it.
pub async fn preview_mappings(
    customer_id: i64,
    request: &MappingPreviewRequest,
) -> Result<MappingPreview, ApiFailure> {
    let url = format!("{}/preview", mappings_path(customer_id));
    send_json(Request::post(&url), request).await
}

/// Which mapping places the user with this email, and why.
pub async fn explain_mapping(
    customer_id: i64,
    email: &str,
) -> Result<MappingExplanation, ApiFailure> {
    let query = encode_pairs(&[("email".to_owned(), email.to_owned())]);
    get_json(&format!("{}/explain?{query}", mappings_path(customer_id))).await
}

pub async fn set_mapping_settings(
    customer_id: i64,
    settings: &MappingSettings,
) -> Result<MappingSettings, ApiFailure> {
    let url = format!("{}/settings", mappings_path(customer_id));
    send_json(Request::put(&url), settings).await
}

/// One user for the user page.
pub async fn user(id: i64) -> Result<UserDetail, ApiFailure> {
    get_json(&format!("/api/v1/users/{id}")).await
}

/// A user's history, newest first.
pub async fn user_timeline(id: i64) -> Result<Vec<TimelineEntry>, ApiFailure> {
    get_json(&format!("/api/v1/users/{id}/timeline")).await
}

pub async fn preserve_user(id: i64) -> Result<UserDetail, ApiFailure> {
    call(Request::post(&format!("/api/v1/users/{id}/preserve"))).await
}

/// Deletes a preserved user permanently.
pub async fn delete_user(id: i64) -> Result<(), ApiFailure> {
    send_empty(Request::delete(&format!("/api/v1/users/{id}"))).await
}

pub async fn restore_user(id: i64) -> Result<UserDetail, ApiFailure> {
    call(Request::post(&format!("/api/v1/users/{id}/restore"))).await
}

/// Places the user by hand on a profile, region and quota; the mappings pass them by.
pub async fn place_user_by_hand(
    id: i64,
    placement: &ManualPlacement,
) -> Result<UserDetail, ApiFailure> {
    send_json(
        Request::put(&format!("/api/v1/users/{id}/placement")),
        placement,
    )
    .await
}

/// Hands the user back to the mappings.
pub async fn clear_manual_placement(id: i64) -> Result<UserDetail, ApiFailure> {
    call(Request::delete(&format!("/api/v1/users/{id}/placement"))).await
}

/// The customer's User-Identifier Custom Attribute.
pub async fn custom_attribute(customer_id: i64) -> Result<CustomAttributeSetting, ApiFailure> {
    get_json(&custom_attribute_path(customer_id)).await
}

/// Sets the customer's custom attribute; their SCIM users are refilled.
pub async fn set_custom_attribute(
    customer_id: i64,
    setting: &CustomAttributeSetting,
) -> Result<CustomAttributeSetting, ApiFailure> {
    send_json(Request::put(&custom_attribute_path(customer_id)), setting).await
}

fn custom_attribute_path(customer_id: i64) -> String {
    format!("/api/v1/customers/{customer_id}/scim/custom-attribute")
}

/// One action over many users, or (dry run) how many it would change.
pub async fn bulk_users(request: &BulkRequest) -> Result<BulkOutcome, ApiFailure> {
    send_json(Request::post("/api/v1/users/bulk"), request).await
}

const EVENTS_PATH: &str = "/api/v1/provisioning/events";

/// The query's pairs, with any more (`limit`, `cursor`, `format`) after them.
fn event_url(path: &str, query: &EventQuery, more: &[(&str, &str)]) -> String {
    let mut pairs = query.to_pairs();
    pairs.extend(more.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    format!("{path}?{}", encode_pairs(&pairs))
}

/// One page of the provisioning log; `cursor` continues a previous page of the same query.
pub async fn provisioning_events(
    query: &EventQuery,
    cursor: Option<&str>,
) -> Result<EventPage, ApiFailure> {
    let limit = provisio_api::provisioning::DEFAULT_EVENT_PAGE.to_string();
    let mut more = vec![("limit", limit.as_str())];
    if let Some(cursor) = cursor {
        more.push(("cursor", cursor));
    }
    get_json(&event_url(EVENTS_PATH, query, &more)).await
}

pub async fn provisioning_facets(query: &EventQuery) -> Result<EventFacets, ApiFailure> {
    // Facets count over the date range and search only, so every option stays offered.
    let window = EventQuery {
        statuses: vec![],
        kinds: vec![],
        customers: vec![],
        tokens: vec![],
        oldest_first: false,
        ..query.clone()
    };
    get_json(&event_url(&format!("{EVENTS_PATH}/facets"), &window, &[])).await
}

pub async fn provisioning_event(id: i64) -> Result<EventDetail, ApiFailure> {
    get_json(&format!("{EVENTS_PATH}/{id}")).await
}

/// The log's download URL for a query and format.
pub fn events_export_url(query: &EventQuery, format: ExportFormat) -> String {
    event_url(
        &format!("{EVENTS_PATH}/export"),
        query,
        &[("format", format.key())],
    )
}

/// Every customer's provisioning status in scope, or one customer's (with its hourly chart).
pub async fn provisioning_status(
    customer: Option<i64>,
) -> Result<Vec<ProvisioningStatus>, ApiFailure> {
    match customer {
        Some(id) => get_json(&format!("/api/v1/provisioning/status?customer={id}")).await,
        None => get_json("/api/v1/provisioning/status").await,
    }
}

pub async fn provisioning_notifications(
    customer_id: i64,
) -> Result<NotificationSettings, ApiFailure> {
    get_json(&format!(
        "/api/v1/customers/{customer_id}/provisioning/notifications"
    ))
    .await
}

pub async fn set_provisioning_notifications(
    customer_id: i64,
    settings: NotificationSettings,
) -> Result<NotificationSettings, ApiFailure> {
    send_json(
        Request::put(&format!(
            "/api/v1/customers/{customer_id}/provisioning/notifications"
        )),
        &settings,
    )
    .await
}

// Only the small typed ends below are generic; the exchange itself is one function, so each
// answer type adds its JSON decoding to the download and not another copy of the HTTP code.

async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiFailure> {
    call(Request::get(url).header("Accept", "application/json")).await
}

/// Sends `request` without a body and decodes the JSON answer.
async fn call<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ApiFailure> {
    parse(&exchange(request.build()).await?)
}

/// Sends `body` as JSON and decodes the JSON answer.
async fn send_json<B: Serialize, T: DeserializeOwned>(
    request: RequestBuilder,
    body: &B,
) -> Result<T, ApiFailure> {
    parse(&exchange(request.json(body)).await?)
}

/// Sends `request` without a body; the answer has none.
async fn send_empty(request: RequestBuilder) -> Result<(), ApiFailure> {
    exchange(request.build()).await.map(drop)
}

/// Sends `body` as JSON; the answer has none.
async fn send_json_empty<B: Serialize>(
    request: RequestBuilder,
    body: &B,
) -> Result<(), ApiFailure> {
    exchange(request.json(body)).await.map(drop)
}

/// Sends the request and answers the body of a success; every failure, a 401 included, is
/// turned into an `ApiFailure` here.
async fn exchange(request: Result<Request, gloo_net::Error>) -> Result<String, ApiFailure> {
    let request = request.map_err(|_| ApiFailure {
        message: "The request could not be prepared.".to_owned(),
        status: None,
        parameter: None,
    })?;
    let response = request.send().await.map_err(|_| unreachable_server())?;
    if !response.ok() {
        return Err(failure(response).await);
    }
    response.text().await.map_err(|_| unreachable_server())
}

fn parse<T: DeserializeOwned>(body: &str) -> Result<T, ApiFailure> {
    serde_json::from_str(body).map_err(|_| ApiFailure {
        message: "The server sent an answer this page does not understand. Reload the page."
            .to_owned(),
        status: None,
        parameter: None,
    })
}

async fn failure(response: Response) -> ApiFailure {
    let status = response.status();
    if status == 401 {
        session_ended();
    }
    match response.json::<ErrorBody>().await {
        Ok(body) => ApiFailure {
            message: body.error.message,
            status: Some(status),
            parameter: body.error.parameter,
        },
        Err(_) => ApiFailure {
            message: format!("The server answered with status {status}. Retry in a moment."),
            status: Some(status),
            parameter: None,
        },
    }
}

fn unreachable_server() -> ApiFailure {
    ApiFailure {
        message: "Provisio's server could not be reached. Check your connection and retry."
            .to_owned(),
        status: None,
        parameter: None,
    }
}
