//! Two Provisio instances on one PostgreSQL database, each with its own connections and its own
//! in-process state, behave as one: what one writes the other serves at once.

mod common;

use axum::http::{Method, StatusCode};
use common::scim::{customer_id, scim, token_for};
use common::{Backend, TestApp};
use provisio_api::auth::Role;
use provisio_server::{app, db, AppOptions, AppState};
use serde_json::json;

/// A second instance over the database `first` runs on: a new pool, a new router.
async fn second_instance(first: &TestApp) -> TestApp {
    let db::Pool::Postgres(pool) = &first.database else {
        panic!("the first instance runs on PostgreSQL");
    };
    let own_connections = sqlx::postgres::PgPoolOptions::new()
        .connect_with((*pool.connect_options()).clone())
        .await
        .expect("the second instance's connections");
    let router = app(
        AppState::new(own_connections.clone()),
        &AppOptions::default(),
    );
    let mut second = TestApp::from_router(router, first.pool.clone());
    second.database = db::Pool::Postgres(own_connections);
    second
}

#[tokio::test]
async fn a_session_and_a_scim_create_on_one_instance_are_served_by_the_other() {
    let first = TestApp::on(Backend::Postgres, 20).await;
    let second = second_instance(&first).await;

    // Signed in on the first, the cookie works on the second; signed out on the second, it no
    // longer works on the first.
    let cookie = first.sign_in_as(Role::CustomerAdmin).await;
    let on_second = second
        .send(Method::GET, "/api/v1/session", Some(&cookie), None)
        .await;
    assert_eq!(on_second.status, StatusCode::OK, "{}", on_second.text);
    assert_eq!(on_second.body["role"], "customer_admin");

    // A user an identity provider creates through the first is listed by the second.
    let northwind = customer_id(&first, "Northwind Traders").await;
    let (token, _) = token_for(&first, northwind, "entra_id").await;
    let created = scim(
        &first,
        &token,
        Method::POST,
        "/scim/v2/Users",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "twin@northwindtraders.com",
            "emails": [{"value": "twin@northwindtraders.com", "primary": true}],
            "active": true
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let listed = scim(
        &second,
        &token,
        Method::GET,
        "/scim/v2/Users?filter=userName%20eq%20%22twin@northwindtraders.com%22",
        None,
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["totalResults"], 1);
    let report = second
        .send(
            Method::GET,
            "/api/v1/reports/user-provisioning?filter=user_email.equals:twin@northwindtraders.com",
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(report.body["total"], 1, "{}", report.text);

    // A create of the same userName through the second is the uniqueness conflict, not a copy.
    let again = scim(
        &second,
        &token,
        Method::POST,
        "/scim/v2/Users",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "twin@northwindtraders.com",
            "emails": [{"value": "other@northwindtraders.com", "primary": true}]
        })),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    let signed_out = second
        .send(Method::DELETE, "/api/v1/session", Some(&cookie), None)
        .await;
    assert!(signed_out.status.is_success(), "{}", signed_out.text);
    let after = first
        .send(Method::GET, "/api/v1/session", Some(&cookie), None)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn instances_starting_together_migrate_an_empty_database_once() {
    let url = provisio_testkit::postgres::fresh_database()
        .await
        .expect("a fresh database");
    let starts = futures_util::future::join_all((0..3).map(|_| db::open(&url))).await;
    for started in starts {
        started.expect("every instance starts");
    }
    let pool = db::postgres::connect(&url).await.expect("connects");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("the migrations table");
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .expect("the migrations folder")
        .count();
    assert_eq!(applied as usize, files, "each migration applied once");
}

#[tokio::test]
async fn a_mapping_job_runs_on_one_instance_at_a_time() {
    let first = TestApp::on(Backend::Postgres, 20).await;
    let second = second_instance(&first).await;
    let job = 4242;
    let lease = db::mappings::lease_job(&first.database, job)
        .await
        .expect("the first instance asks")
        .expect("and takes the job");
    let elsewhere = db::mappings::lease_job(&second.database, job)
        .await
        .expect("the second instance asks");
    assert!(elsewhere.is_none(), "the job is the first instance's");
    // The second's run of it leaves it to the first.
    provisio_server::reevaluation::run(&second.database, job)
        .await
        .expect("runs nothing");
    lease.release(job).await.expect("released");
    let taken_over = db::mappings::lease_job(&second.database, job)
        .await
        .expect("asks again");
    assert!(taken_over.is_some(), "released, it is free to take");

    // A lease dropped without release (its job stopped on an error) frees the job too.
    drop(taken_over);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(db::mappings::lease_job(&first.database, job)
        .await
        .expect("asks")
        .is_some());
}
