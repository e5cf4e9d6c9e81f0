//! A real server router over a real temporary SQLite file, seeded with demo data.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use provisio_server::{app, db, demo, AppOptions, AppState};
use serde_json::Value;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub pool: sqlx::SqlitePool,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn with_demo_users(users: u64) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let pool = db::connect(&url).await.expect("database opens");
        demo::seed(&pool, users).await.expect("demo data seeds");
        let router = app(AppState { pool: pool.clone() }, &AppOptions::default());
        TestApp {
            router,
            pool,
            _dir: dir,
        }
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let response = self
            .router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
            .await
            .expect("router answers");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
    }
}
