//! Report exports through the real router and a real SQLite file: the columns, order, rows and
//! scope of the table, in CSV and JSON.

mod common;

on_both_backends!(
    csv_has_the_chosen_columns_in_order_and_every_matching_row_in_the_table_order,
    formula_looking_cells_arrive_neutralised_and_json_round_trips,
    a_customer_admin_exports_only_their_customer_and_the_file_says_so,
    bad_export_parameters_get_a_400_naming_them,
);

use axum::http::{header, Method, StatusCode};
use common::{Backend, TestApp};
use provisio_api::auth::Role;
use provisio_api::report::{encode_pairs, ReportField, ReportPage};
use serde_json::Value;

const USERS: u64 = 600;

fn export_uri(pairs: &[(&str, &str)]) -> String {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    format!(
        "/api/v1/reports/user-provisioning/export?{}",
        encode_pairs(&owned)
    )
}

/// The ids of every row of a query as the table endpoint orders them.
async fn table_emails(app: &TestApp, pairs: &[(&str, &str)]) -> Vec<String> {
    let mut owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    owned.push(("limit".into(), "1000".into()));
    let (status, body) = app
        .get(&format!(
            "/api/v1/reports/user-provisioning?{}",
            encode_pairs(&owned)
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: ReportPage = serde_json::from_value(body).expect("page");
    assert!(page.next_cursor.is_none(), "the test data fits one page");
    page.rows.into_iter().map(|r| r.user_email).collect()
}

async fn csv_has_the_chosen_columns_in_order_and_every_matching_row_in_the_table_order(
    backend: Backend,
) {
    let app = TestApp::on(backend, USERS).await;
    let query = [
        ("filter", "user_status.any_of:Active"),
        ("sort", "-endpoints_usage_mb"),
    ];
    let mut pairs = query.to_vec();
    pairs.extend([
        ("cols", "user_email,customer_name,endpoints_usage_mb"),
        ("format", "csv"),
    ]);
    let answer = app
        .send(
            Method::GET,
            &export_uri(&pairs),
            Some(&app.msp_cookie),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let disposition = answer.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("ascii");
    assert!(
        disposition.starts_with("attachment; filename=\"user-provisioning_all-customers_")
            && disposition.ends_with("Z.csv\""),
        "{disposition}"
    );

    let mut reader = csv::Reader::from_reader(answer.text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .expect("header row")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        headers,
        ["User Email", "Customer Name", "Endpoints Usage (MB)"]
    );
    let records: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("valid CSV");
    let expected = table_emails(&app, &query).await;
    assert!(expected.len() > 100);
    let exported: Vec<String> = records.iter().map(|r| r[0].to_owned()).collect();
    assert_eq!(exported, expected, "same rows, same order as the table");
    assert!(records.iter().all(|r| r.len() == 3));
}

async fn formula_looking_cells_arrive_neutralised_and_json_round_trips(backend: Backend) {
    let app = TestApp::on(backend, 50).await;
    app.execute("UPDATE users SET user_name = '=HYPERLINK(\"http://evil.example\")' WHERE id = (SELECT MIN(id) FROM users)")
        .await;
    let csv_answer = app
        .send(
            Method::GET,
            &export_uri(&[
                ("format", "csv"),
                ("cols", "user_name"),
                ("filter", "user_name.starts_with:="),
            ]),
            Some(&app.msp_cookie),
            None,
        )
        .await;
    let mut reader = csv::Reader::from_reader(csv_answer.text.as_bytes());
    let cells: Vec<String> = reader
        .records()
        .map(|r| r.expect("record")[0].to_owned())
        .collect();
    assert_eq!(cells, ["'=HYPERLINK(\"http://evil.example\")"]);

    let json_answer = app
        .send(
            Method::GET,
            &export_uri(&[("format", "json")]),
            Some(&app.msp_cookie),
            None,
        )
        .await;
    assert_eq!(
        json_answer.headers[header::CONTENT_TYPE],
        "application/json"
    );
    let rows = json_answer.body.as_array().expect("a JSON array");
    assert_eq!(rows.len(), 50);
    let keys: Vec<&String> = rows[0].as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), ReportField::SEED.len());
    let evil = rows
        .iter()
        .find(|r| r["user_name"].as_str().is_some_and(|n| n.starts_with('=')))
        .expect("JSON keeps the raw value: it is data, not a spreadsheet");
    assert!(evil["endpoints_usage_mb"].is_i64());
    // Every exported object reads back as the table's row of the same email.
    let (_, first_page) = app
        .get("/api/v1/reports/user-provisioning?limit=1000")
        .await;
    let table = first_page["rows"].as_array().expect("rows");
    for (exported, shown) in rows.iter().zip(table) {
        for field in ReportField::SEED {
            let key = field.key();
            let shown_value = if shown[key].is_null() {
                Value::Null
            } else {
                shown[key].clone()
            };
            assert_eq!(exported[key], shown_value, "{key}");
        }
    }
}

async fn a_customer_admin_exports_only_their_customer_and_the_file_says_so(backend: Backend) {
    let app = TestApp::on(backend, USERS).await;
    let cookie = app.sign_in_as(Role::CustomerAdmin).await;
    let answer = app
        .send(
            Method::GET,
            &export_uri(&[
                ("format", "csv"),
                ("cols", "customer_name"),
                ("filter", "customer_name.equals:Woodgrove Bank"),
            ]),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.text.trim_end(),
        "Customer Name",
        "another customer's rows never arrive"
    );
    let all = app
        .send(
            Method::GET,
            &export_uri(&[("format", "csv"), ("cols", "customer_name")]),
            Some(&cookie),
            None,
        )
        .await;
    let disposition = all.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("ascii");
    assert!(
        disposition.contains("user-provisioning_northwind-traders_"),
        "{disposition}"
    );
    let mut reader = csv::Reader::from_reader(all.text.as_bytes());
    let names: Vec<String> = reader
        .records()
        .map(|r| r.expect("record")[0].to_owned())
        .collect();
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| n == "Northwind Traders"));
}

async fn bad_export_parameters_get_a_400_naming_them(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    for (pairs, parameter) in [
        (vec![], "format"),
        (vec![("format", "xlsx")], "format"),
        (vec![("format", "csv"), ("cols", "user_email,nope")], "cols"),
        (vec![("format", "csv"), ("cols", "")], "cols"),
        (vec![("format", "csv"), ("limit", "5")], "query"),
        (
            vec![("format", "csv"), ("filter", "user_email.lt:3")],
            "filter",
        ),
    ] {
        let answer = app
            .send(
                Method::GET,
                &export_uri(&pairs),
                Some(&app.msp_cookie),
                None,
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{pairs:?}: {}",
            answer.text
        );
        assert_eq!(answer.body["error"]["parameter"], parameter, "{pairs:?}");
    }
}
