//! The one place that talks HTTP to the Provisio API, typed by `provisio-api`.

use gloo_net::http::{Request, Response};
use provisio_api::report::{encode_pairs, ReportFacets, ReportPage, ReportQuery};
use provisio_api::ErrorBody;
use serde::de::DeserializeOwned;

/// What went wrong with a request, in words for the person at the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub message: String,
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

async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiFailure> {
    let response = Request::get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|_| ApiFailure {
            message: "Provisio's server could not be reached. Check your connection and retry."
                .to_owned(),
        })?;
    decode(response).await
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    if response.ok() {
        return response.json::<T>().await.map_err(|_| ApiFailure {
            message: "The server sent an answer this page does not understand. Reload the page."
                .to_owned(),
        });
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiFailure {
            message: body.error.message,
        }),
        Err(_) => Err(ApiFailure {
            message: format!("The server answered with status {status}. Retry in a moment."),
        }),
    }
}
