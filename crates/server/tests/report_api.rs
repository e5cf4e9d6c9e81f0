//! The report API against a real SQLite file: every operator, every sort, paging and bad input.

mod common;

on_both_backends!(
    every_operator_of_every_field_type_selects_exactly_the_matching_rows,
    filters_and_service_plans_are_anded,
    every_column_sorts_both_ways_with_the_id_as_tie_breaker,
    paging_by_cursor_walks_the_same_rows_as_one_big_page,
    rows_carry_the_thirteen_fields_with_utc_times,
    bad_input_gets_400_naming_the_parameter,
    facets_count_every_row_by_value,
    health_check_answers,
    both_reading_plans_page_every_sort_to_the_same_rows,
    the_plan_follows_where_matches_bunch_up_in_the_sort_order,
);

use std::cmp::Ordering;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{Backend, TestApp};
use provisio_api::report::{encode_pairs, ReportField, ReportPage, ReportQuery, ReportRow};
use provisio_server::db::report::{self, Keyset, PageRequest, Plan};
use provisio_server::db::Scope;

const USERS: u64 = 700;

fn uri(pairs: &[(&str, &str)]) -> String {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    format!("/api/v1/reports/user-provisioning?{}", encode_pairs(&owned))
}

/// Every row of a query, following cursors page by page.
async fn all_rows(app: &TestApp, pairs: &[(&str, &str)], limit: u32) -> (Vec<ReportRow>, u64) {
    let limit = limit.to_string();
    let mut base: Vec<(&str, &str)> = pairs.to_vec();
    base.push(("limit", &limit));
    let (status, body) = app.get(&uri(&base)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut page: ReportPage = serde_json::from_value(body).expect("a report page");
    let total = page.total.expect("the first page carries the total");
    let mut rows = std::mem::take(&mut page.rows);
    while let Some(cursor) = page.next_cursor.take() {
        let mut next = base.clone();
        next.push(("cursor", &cursor));
        let (status, body) = app.get(&uri(&next)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        page = serde_json::from_value(body).expect("a report page");
        assert_eq!(page.total, None, "only the first page carries the total");
        rows.append(&mut page.rows);
    }
    (rows, total)
}

fn ids(rows: &[ReportRow]) -> Vec<i64> {
    let mut ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids
}

fn day_start(text: &str) -> DateTime<Utc> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .expect("date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

async fn every_operator_of_every_field_type_selects_exactly_the_matching_rows(backend: Backend) {
    let app = TestApp::on(backend, USERS).await;
    let (everything, total) = all_rows(&app, &[], 1000).await;
    assert_eq!(total, USERS);
    assert_eq!(everything.len() as u64, USERS);

    let sample = everything[17].clone();
    let name_part = sample.user_name[1..4].to_lowercase();
    let email_prefix = sample.user_email[..3].to_uppercase();
    let customer = sample.customer_name.clone();
    let other_customer = everything
        .iter()
        .find(|r| r.customer_name != customer)
        .expect("several customers")
        .customer_name
        .clone();
    let usage = sample.endpoints_usage_mb.to_string();
    let now = Utc::now();

    type Predicate = Box<dyn Fn(&ReportRow) -> bool>;
    let cases: Vec<(String, Predicate)> = vec![
        (
            format!("user_name.contains:{name_part}"),
            Box::new({
                let part = name_part.clone();
                move |r: &ReportRow| r.user_name.to_lowercase().contains(&part)
            }),
        ),
        (
            // Three characters and more are looked up in the trigram index, fewer are scanned.
            format!(
                "user_email.contains:{}",
                &sample.user_email[2..7].to_uppercase()
            ),
            Box::new({
                let part = sample.user_email[2..7].to_lowercase();
                move |r: &ReportRow| r.user_email.to_lowercase().contains(&part)
            }),
        ),
        (
            format!("user_email.contains:{}", &sample.user_email[1..3]),
            Box::new({
                let part = sample.user_email[1..3].to_lowercase();
                move |r: &ReportRow| r.user_email.to_lowercase().contains(&part)
            }),
        ),
        (
            format!("customer_name.equals:{}", customer.to_uppercase()),
            Box::new({
                let c = customer.clone();
                move |r: &ReportRow| r.customer_name == c
            }),
        ),
        (
            format!("user_email.starts_with:{email_prefix}"),
            Box::new({
                let p = email_prefix.to_lowercase();
                move |r: &ReportRow| r.user_email.to_lowercase().starts_with(&p)
            }),
        ),
        (
            "custom_attribute_name.is_empty:".to_owned(),
            Box::new(|r: &ReportRow| r.custom_attribute_name.is_none()),
        ),
        (
            format!(
                "customer_name.any_of:{},{}",
                customer.replace(',', "\\,"),
                other_customer.replace(',', "\\,")
            ),
            Box::new({
                let (a, b) = (customer.clone(), other_customer.clone());
                move |r: &ReportRow| r.customer_name == a || r.customer_name == b
            }),
        ),
        (
            "user_status.any_of:Preserved,Pending".to_owned(),
            Box::new(|r: &ReportRow| r.user_status == "Preserved" || r.user_status == "Pending"),
        ),
        (
            "endpoints_license.any_of:-".to_owned(),
            Box::new(|r: &ReportRow| r.endpoints_license == "-"),
        ),
        (
            format!("endpoints_usage_mb.eq:{usage}"),
            Box::new({
                let u = sample.endpoints_usage_mb;
                move |r: &ReportRow| r.endpoints_usage_mb == u
            }),
        ),
        (
            "endpoints_usage_mb.lt:1000".to_owned(),
            Box::new(|r: &ReportRow| r.endpoints_usage_mb < 1000),
        ),
        (
            "endpoints_usage_mb.gt:100000".to_owned(),
            Box::new(|r: &ReportRow| r.endpoints_usage_mb > 100_000),
        ),
        (
            "endpoints_usage_mb.between:500,20000".to_owned(),
            Box::new(|r: &ReportRow| (500..=20_000).contains(&r.endpoints_usage_mb)),
        ),
        (
            "created_on.before:2025-01-01".to_owned(),
            Box::new(|r: &ReportRow| r.created_on < day_start("2025-01-01")),
        ),
        (
            "created_on.after:2025-06-30".to_owned(),
            Box::new(|r: &ReportRow| r.created_on >= day_start("2025-07-01")),
        ),
        (
            "created_on.between:2024-03-01,2024-03-31".to_owned(),
            Box::new(|r: &ReportRow| {
                r.created_on >= day_start("2024-03-01") && r.created_on < day_start("2024-04-01")
            }),
        ),
        (
            "created_on.in_last_days:90".to_owned(),
            Box::new(move |r: &ReportRow| r.created_on >= now - Duration::days(90)),
        ),
        (
            "managed_by.any_of:Okta,AD/LDAP".to_owned(),
            Box::new(|r: &ReportRow| r.managed_by == "Okta" || r.managed_by == "AD/LDAP"),
        ),
    ];

    for (filter, predicate) in cases {
        let expected: Vec<ReportRow> = everything
            .iter()
            .filter(|r| predicate(r))
            .cloned()
            .collect();
        assert!(!expected.is_empty(), "the demo data exercises '{filter}'");
        assert!(
            expected.len() < everything.len(),
            "'{filter}' excludes some rows"
        );
        let (rows, total) = all_rows(&app, &[("filter", &filter)], 1000).await;
        assert_eq!(ids(&rows), ids(&expected), "rows of '{filter}'");
        assert_eq!(total, expected.len() as u64, "total of '{filter}'");
    }
}

async fn filters_and_service_plans_are_anded(backend: Backend) {
    let app = TestApp::on(backend, USERS).await;
    let (everything, _) = all_rows(&app, &[], 1000).await;
    let (by_plan, _) = all_rows(&app, &[("plan", "Elite"), ("plan", "Business")], 1000).await;
    let (active, _) = all_rows(&app, &[("filter", "user_status.any_of:Active")], 1000).await;
    let (both, total) = all_rows(
        &app,
        &[
            ("plan", "Elite"),
            ("plan", "Business"),
            ("filter", "user_status.any_of:Active"),
        ],
        1000,
    )
    .await;
    let active_ids = ids(&active);
    let expected: Vec<i64> = ids(&by_plan)
        .into_iter()
        .filter(|id| active_ids.binary_search(id).is_ok())
        .collect();
    assert!(!by_plan.is_empty() && by_plan.len() < everything.len());
    assert_eq!(ids(&both), expected);
    assert_eq!(total, expected.len() as u64);
}

fn text_order(a: &str, b: &str) -> Ordering {
    a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase())
}

async fn every_column_sorts_both_ways_with_the_id_as_tie_breaker(backend: Backend) {
    let app = TestApp::on(backend, 300).await;
    for field in ReportField::ALL {
        for descending in [false, true] {
            let sort = if descending {
                format!("-{}", field.key())
            } else {
                field.key().to_owned()
            };
            let (rows, _) = all_rows(&app, &[("sort", &sort)], 1000).await;
            assert_eq!(rows.len(), 300);
            for pair in rows.windows(2) {
                let by_value = match field {
                    ReportField::EndpointsUsageMb => {
                        pair[0].endpoints_usage_mb.cmp(&pair[1].endpoints_usage_mb)
                    }
                    ReportField::CreatedOn => pair[0].created_on.cmp(&pair[1].created_on),
                    _ => text_order(&pair[0].cell(field), &pair[1].cell(field)),
                };
                let order = by_value.then(pair[0].id.cmp(&pair[1].id));
                let expected = if descending {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
                assert_eq!(
                    order, expected,
                    "sort '{sort}' between rows {} and {}",
                    pair[0].id, pair[1].id
                );
            }
        }
    }
}

async fn paging_by_cursor_walks_the_same_rows_as_one_big_page(backend: Backend) {
    let app = TestApp::on(backend, USERS).await;
    for sort in [
        "customer_name",
        "-created_on",
        "endpoints_usage_mb",
        "-profile",
    ] {
        let query = [
            ("sort", sort),
            ("filter", "user_status.any_of:Active,Preserved"),
        ];
        let (whole, whole_total) = all_rows(&app, &query, 1000).await;
        let (paged, paged_total) = all_rows(&app, &query, 7).await;
        let whole_ids: Vec<i64> = whole.iter().map(|r| r.id).collect();
        let paged_ids: Vec<i64> = paged.iter().map(|r| r.id).collect();
        assert_eq!(paged_ids, whole_ids, "paging by 7 under sort '{sort}'");
        assert_eq!(paged_total, whole_total);
    }
}

async fn rows_carry_the_thirteen_fields_with_utc_times(backend: Backend) {
    let app = TestApp::on(backend, 50).await;
    let (status, body) = app.get("/api/v1/reports/user-provisioning?limit=1").await;
    assert_eq!(status, StatusCode::OK);
    let row = body["rows"][0].as_object().expect("a row object");
    for field in ReportField::ALL {
        assert!(row.contains_key(field.key()), "row has '{}'", field.key());
    }
    let created = row["created_on"].as_str().expect("created_on is text");
    assert!(created.ends_with('Z'), "UTC: {created}");
    DateTime::parse_from_rfc3339(created).expect("ISO 8601");
}

async fn bad_input_gets_400_naming_the_parameter(backend: Backend) {
    let app = TestApp::on(backend, 50).await;
    let (_, first) = app
        .get("/api/v1/reports/user-provisioning?limit=5&sort=user_name")
        .await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let cases: Vec<(String, &str)> = vec![
        (uri(&[("filter", "shoe_size.eq:9")]), "filter"),
        (uri(&[("filter", "created_on.contains:2024")]), "filter"),
        (uri(&[("filter", "user_status.equals:Active")]), "filter"),
        (uri(&[("filter", "endpoints_usage_mb.gt:lots")]), "filter"),
        (uri(&[("filter", "created_on.before:yesterday")]), "filter"),
        (uri(&[("filter", "endpoints_usage_mb.between:5")]), "filter"),
        (uri(&[("filter", "user_name.sounds_like:x")]), "filter"),
        (uri(&[("filter", "no-colon-here")]), "filter"),
        (uri(&[("sort", "shoe_size")]), "sort"),
        (
            uri(&[("sort", "user_name"), ("sort", "user_email")]),
            "sort",
        ),
        (uri(&[("limit", "0")]), "limit"),
        (uri(&[("limit", "1001")]), "limit"),
        (uri(&[("limit", "ten")]), "limit"),
        (uri(&[("cursor", "not a cursor")]), "cursor"),
        (
            uri(&[("cursor", &cursor), ("sort", "user_email")]),
            "cursor",
        ),
        (
            uri(&[
                ("cursor", &cursor),
                ("sort", "user_name"),
                ("filter", "user_name.contains:a"),
            ]),
            "cursor",
        ),
        (uri(&[("colour", "blue")]), "query"),
        (uri(&[("plan", "")]), "plan"),
    ];
    for (uri, parameter) in cases {
        let (status, body) = app.get(&uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "{uri}");
        assert_eq!(body["error"]["parameter"], parameter, "{uri}");
        assert!(
            !body["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{uri}"
        );
    }
    let (status, _) = app
        .get(&uri(&[("cursor", &cursor), ("sort", "user_name")]))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the cursor still works for its own query"
    );
}

async fn facets_count_every_row_by_value(backend: Backend) {
    let app = TestApp::on(backend, USERS).await;
    let (status, body) = app.get("/api/v1/reports/user-provisioning/facets").await;
    assert_eq!(status, StatusCode::OK);
    for facet in [
        "service_plans",
        "customers",
        "profiles",
        "user_statuses",
        "endpoints_licenses",
        "managed_by",
    ] {
        let values = body[facet].as_array().expect("a facet list");
        let sum: u64 = values
            .iter()
            .map(|v| v["count"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(sum, USERS, "facet '{facet}' counts every row once");
    }
    assert!(body["service_plans"].as_array().map(Vec::len).unwrap_or(0) >= 3);
}

#[tokio::test]
async fn openapi_document_describes_the_report_and_unknown_api_paths_are_json_404() {
    let app = TestApp::with_demo_users(1).await;
    let (status, doc) = app.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/reports/user-provisioning"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/reports/user-provisioning/facets"]["get"].is_object());
    assert!(doc["components"]["schemas"]["ReportRow"].is_object());
    let (status, body) = app.get("/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

/// Every `$ref` of the document names a schema the document holds: a client generator or a
/// contract tester skips (or refuses) whatever a dangling reference describes.
#[tokio::test]
async fn every_reference_in_the_openapi_document_resolves() {
    fn references<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                    found.push(target);
                }
                map.values().for_each(|v| references(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| references(v, found)),
            _ => {}
        }
    }
    let app = TestApp::with_demo_users(1).await;
    let (_, doc) = app.get("/api/openapi.json").await;
    let mut found = Vec::new();
    references(&doc, &mut found);
    assert!(found.len() > 20, "the document refers to its schemas");
    let dangling: Vec<&str> = found
        .into_iter()
        .filter(|target| doc.pointer(target.trim_start_matches('#')).is_none())
        .collect();
    assert!(dangling.is_empty(), "unresolved: {dangling:?}");
}

async fn health_check_answers(backend: Backend) {
    let app = TestApp::on(backend, 1).await;
    let (status, _) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn seeding_ten_thousand_users_fills_a_realistic_msp() {
    let app = TestApp::with_demo_users(10_000).await;
    let (status, body) = app.get("/api/v1/reports/user-provisioning/facets").await;
    assert_eq!(status, StatusCode::OK);
    let count = |facet: &str| body[facet].as_array().map(Vec::len).unwrap_or(0);
    assert!(count("customers") >= 25);
    assert!(count("service_plans") >= 3);
    let licenses: Vec<&str> = body["endpoints_licenses"]
        .as_array()
        .expect("licenses")
        .iter()
        .filter_map(|v| v["value"].as_str())
        .collect();
    assert_eq!(licenses, ["-", "active", "preserved"]);
    let managers: Vec<&str> = body["managed_by"]
        .as_array()
        .expect("managed by")
        .iter()
        .filter_map(|v| v["value"].as_str())
        .collect();
    for idp in ["-", "AD/LDAP", "Microsoft Entra ID", "Okta"] {
        assert!(managers.contains(&idp), "{idp} among {managers:?}");
    }
    let users: i64 = app.scalar("SELECT COUNT(*) FROM users").await;
    assert_eq!(users, 10_000);
}

/// Every page of `query` read by `plan` through the database layer, following keysets.
async fn all_rows_by_plan(
    app: &TestApp,
    query: &provisio_api::report::ReportQuery,
    plan: Plan,
) -> Vec<i64> {
    let now = Utc::now();
    let mut after = None;
    let mut ids = Vec::new();
    loop {
        let request = PageRequest {
            scope: Scope::AllCustomers,
            query,
            plan,
            after: after.as_ref(),
            limit: 37,
            now,
        };
        let (rows, more) = report::page(&app.database, request).await.expect("a page");
        ids.extend(rows.iter().map(|row| row.id));
        match rows.last() {
            Some(last) if more => after = Some(Keyset::of(last, query.sort.field, plan)),
            _ => return ids,
        }
    }
}

async fn both_reading_plans_page_every_sort_to_the_same_rows(backend: Backend) {
    let app = TestApp::on(backend, USERS).await;
    for field in ReportField::ALL {
        for sort in [field.key().to_owned(), format!("-{}", field.key())] {
            let pairs = vec![
                ("sort".to_owned(), sort.clone()),
                (
                    "filter".to_owned(),
                    "user_status.any_of:Active,Pending".to_owned(),
                ),
            ];
            let query = ReportQuery::from_decoded(&pairs).expect("a query");
            let walked = all_rows_by_plan(&app, &query, Plan::WalkSortIndex).await;
            let sorted = all_rows_by_plan(&app, &query, Plan::SortMatches).await;
            assert_eq!(walked, sorted, "both plans under sort '{sort}'");
            let (whole, total) = all_rows(
                &app,
                &[
                    ("sort", sort.as_str()),
                    ("filter", "user_status.any_of:Active,Pending"),
                ],
                1000,
            )
            .await;
            let whole: Vec<i64> = whole.iter().map(|row| row.id).collect();
            assert_eq!(walked, whole, "the API's one big page under sort '{sort}'");
            assert_eq!(total, whole.len() as u64);
        }
    }
}

#[tokio::test]
async fn plans_follow_how_many_rows_match() {
    // Walking the sort index pays about limit × in scope / matching rows; sorting, matching.
    assert_eq!(
        Plan::for_total(1_000_000, 1_000_000, 100),
        Plan::WalkSortIndex
    );
    assert_eq!(Plan::for_total(20_000, 1_000_000, 100), Plan::WalkSortIndex);
    assert_eq!(Plan::for_total(5_000, 1_000_000, 100), Plan::SortMatches);
    assert_eq!(Plan::for_total(0, 1_000_000, 100), Plan::SortMatches);
}

#[tokio::test]
async fn renamed_customers_profiles_and_users_sort_filter_and_count_by_their_new_names() {
    let app = TestApp::with_demo_users(USERS).await;
    let (customer_id, old_name): (i64, String) =
        sqlx::query_as("SELECT id, name FROM customers ORDER BY name DESC LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .expect("a customer");
    let users_of_customer: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE customer_id = ?")
            .bind(customer_id)
            .fetch_one(&app.pool)
            .await
            .expect("count");
    sqlx::query("UPDATE customers SET name = 'Aardvark Renamed' WHERE id = ?")
        .bind(customer_id)
        .execute(&app.pool)
        .await
        .expect("rename customer");
    let profile_id: i64 =
        sqlx::query_scalar("SELECT profile_id FROM users WHERE customer_id = ? LIMIT 1")
            .bind(customer_id)
            .fetch_one(&app.pool)
            .await
            .expect("a profile");
    sqlx::query("UPDATE profiles SET name = 'zz Renamed profile' WHERE id = ?")
        .bind(profile_id)
        .execute(&app.pool)
        .await
        .expect("rename profile");
    // Users move too: some to another status, some to another profile of their customer.
    app.execute("UPDATE users SET status = 'Preserved', license = 'preserved' WHERE id % 3 = 0")
        .await;
    sqlx::query(
        "UPDATE users SET profile_id = (SELECT MIN(p.id) FROM profiles p \
         WHERE p.customer_id = users.customer_id) WHERE id % 5 = 0",
    )
    .execute(&app.pool)
    .await
    .expect("move some");

    // A renamed user is found by the new name's parts, and no longer by the old one's.
    let (user_id, old_user_name): (i64, String) =
        sqlx::query_as("SELECT id, user_name FROM users ORDER BY id LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .expect("a user");
    sqlx::query("UPDATE users SET user_name = 'Qwzx \"Renamed\"' WHERE id = ?")
        .bind(user_id)
        .execute(&app.pool)
        .await
        .expect("rename user");
    let (found, found_total) =
        all_rows(&app, &[("filter", "user_name.contains:WZX \"REN")], 10).await;
    assert_eq!(
        (found_total, found.first().map(|r| r.id)),
        (1, Some(user_id))
    );
    let (old_found, _) = all_rows(
        &app,
        &[("filter", &format!("user_name.equals:{old_user_name}"))],
        1000,
    )
    .await;
    assert!(old_found.iter().all(|r| r.id != user_id));

    let (first, total) = all_rows(&app, &[("sort", "customer_name")], 5).await;
    assert_eq!(first[0].customer_name, "Aardvark Renamed");
    assert_eq!(total, USERS);

    let (renamed, renamed_total) = all_rows(
        &app,
        &[("filter", "customer_name.equals:Aardvark Renamed")],
        1000,
    )
    .await;
    assert_eq!(renamed_total, u64::try_from(users_of_customer).unwrap_or(0));
    assert_eq!(renamed.len() as u64, renamed_total);
    let (old, old_total) = all_rows(
        &app,
        &[("filter", &format!("customer_name.equals:{old_name}"))],
        10,
    )
    .await;
    assert!(
        old.is_empty() && old_total == 0,
        "no row keeps the old name"
    );

    let (by_profile, _) = all_rows(&app, &[("sort", "-profile")], 1000).await;
    let in_profile: Vec<&ReportRow> = by_profile
        .iter()
        .filter(|row| row.profile == "zz Renamed profile")
        .collect();
    let expected: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE profile_id = ?")
        .bind(profile_id)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(in_profile.len() as i64, expected);
    assert!(
        by_profile
            .iter()
            .take(in_profile.len())
            .all(|row| row.profile == "zz Renamed profile"),
        "the renamed profile sorts last"
    );

    let (status, facets) = app.get("/api/v1/reports/user-provisioning/facets").await;
    assert_eq!(status, StatusCode::OK);
    let customers = facets["customers"].as_array().expect("customers");
    assert!(customers.iter().any(|v| v["value"] == "Aardvark Renamed"));
    assert!(!customers.iter().any(|v| v["value"] == old_name.as_str()));

    // A user written without the copies (as SCIM and hand-written SQL do) gets them.
    sqlx::query(
        "INSERT INTO users (customer_id, user_name, email, profile_id, status, license, \
         created_at) VALUES (?, 'New Person', 'new.person@example.com', ?, 'Active', 'active', \
         '2026-01-01T00:00:00Z')",
    )
    .bind(customer_id)
    .bind(profile_id)
    .execute(&app.pool)
    .await
    .expect("insert a user");
    let (new, _) = all_rows(
        &app,
        &[("filter", "user_email.equals:new.person@example.com")],
        5,
    )
    .await;
    assert_eq!(
        new.iter()
            .map(|r| (r.customer_name.as_str(), r.profile.as_str()))
            .collect::<Vec<_>>(),
        [("Aardvark Renamed", "zz Renamed profile")]
    );

    // A custom attribute value filled in, and another emptied: `user_counts` groups by emptiness.
    for (from, to) in [("= ''", "'E-1234'"), ("<> ''", "''")] {
        sqlx::query(&format!(
            "UPDATE users SET custom_attribute_value = {to} WHERE id IN \
             (SELECT id FROM users WHERE custom_attribute_value {from} ORDER BY id LIMIT 3)"
        ))
        .execute(&app.pool)
        .await
        .expect("attribute values change");
    }
    let (empty, total) =
        all_rows(&app, &[("filter", "custom_attribute_value.is_empty:")], 50).await;
    let counted: i64 = app
        .scalar("SELECT COUNT(*) FROM users WHERE custom_attribute_value = ''")
        .await;
    assert!(counted > 0);
    assert_eq!(
        (empty.len() as u64, total),
        (counted as u64, counted as u64)
    );
    assert!(empty.iter().all(|row| row
        .custom_attribute_value
        .as_deref()
        .unwrap_or("")
        .is_empty()));

    let (kept, counted) = common::user_counts_kept_and_counted(&app.pool).await;
    assert_eq!(kept, counted, "user_counts follows every change");
}

async fn the_plan_follows_where_matches_bunch_up_in_the_sort_order(backend: Backend) {
    let app = TestApp::on(backend, USERS).await;
    let (customer, users): (String, i64) = sqlx::query_as(
        "SELECT c.name, COUNT(*) FROM users u JOIN customers c ON c.id = u.customer_id \
         GROUP BY c.id ORDER BY 2 DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .expect("the largest customer");
    let plan_for = |sort: &str, limit: u32| {
        let pairs = vec![
            ("sort".to_owned(), sort.to_owned()),
            (
                "filter".to_owned(),
                format!("customer_name.equals:{customer}"),
            ),
        ];
        let query = ReportQuery::from_decoded(&pairs).expect("a query");
        let pool = app.pool.clone();
        async move {
            report::plan(
                &pool.clone().into(),
                Scope::AllCustomers,
                &query,
                u64::try_from(users).unwrap_or(0),
                limit,
                Utc::now(),
            )
            .await
            .expect("a plan")
        }
    };
    // Sorted by customer, the customer's users sit together: the walk reads only them.
    assert_eq!(plan_for("customer_name", 1).await, Plan::WalkSortIndex);
    // Sorted by profile, a small first page fills within the first profile name the customer
    // uses, where its users are mixed with others': the walk reads about that name's users per
    // match for each row of the page, not all of that name's users.
    assert_eq!(plan_for("profile", 5).await, Plan::WalkSortIndex);
    // A page that needs nearly all the customer's users would walk every user of each profile
    // name it uses, most of them other customers': the matches are read and sorted instead.
    let nearly_all = u32::try_from(users / 2).unwrap_or(1);
    assert_eq!(plan_for("profile", nearly_all).await, Plan::SortMatches);
}
