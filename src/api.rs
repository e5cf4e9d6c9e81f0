//! The one place that talks HTTP to the Provisio API, typed by `provisio-api`.

use gloo_net::http::{Request, RequestBuilder, Response};
use provisio_api::auth::{
    AdminAccount, ChangePasswordRequest, CreateAdminRequest, CustomerRef, Me, SignInRequest,
    UpdateAdminRequest,
};
use provisio_api::report::{encode_pairs, ReportFacets, ReportPage, ReportQuery};
use provisio_api::ErrorBody;
use serde::de::DeserializeOwned;
use serde::Serialize;

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
    /// The session is missing or over: the app should ask to sign in again.
    pub fn is_unauthorized(&self) -> bool {
        self.status == Some(401)
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
    let request = Request::post("/api/v1/session/password")
        .json(&body)
        .map_err(|_| unreachable_server())?;
    no_content(request.send().await.map_err(|_| unreachable_server())?).await
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

async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiFailure> {
    let response = Request::get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|_| unreachable_server())?;
    decode(response).await
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    request: RequestBuilder,
    body: &B,
) -> Result<T, ApiFailure> {
    let response = request
        .json(body)
        .map_err(|_| ApiFailure {
            message: "The request could not be prepared.".to_owned(),
            status: None,
            parameter: None,
        })?
        .send()
        .await
        .map_err(|_| unreachable_server())?;
    decode(response).await
}

async fn send_empty(request: RequestBuilder) -> Result<(), ApiFailure> {
    no_content(request.send().await.map_err(|_| unreachable_server())?).await
}

async fn no_content(response: Response) -> Result<(), ApiFailure> {
    if response.ok() {
        Ok(())
    } else {
        Err(failure(response).await)
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    if response.ok() {
        return response.json::<T>().await.map_err(|_| ApiFailure {
            message: "The server sent an answer this page does not understand. Reload the page."
                .to_owned(),
            status: Some(response.status()),
            parameter: None,
        });
    }
    Err(failure(response).await)
}

async fn failure(response: Response) -> ApiFailure {
    let status = response.status();
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
