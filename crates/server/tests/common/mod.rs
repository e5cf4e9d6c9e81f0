//! A real server router over a real temporary SQLite file, seeded with demo data.
#![allow(dead_code)] // Each test binary uses a different part of this harness.

pub mod scim;
pub mod smtp;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use provisio_api::auth::Role;
use provisio_server::delivery::mail::Mailer;
use provisio_server::delivery::MailSettings;
use provisio_server::demo::DemoAdmin;
use provisio_server::{app, AppOptions, AppState};
pub use provisio_testkit::Backend;
use provisio_testkit::SeededDatabase;
use serde_json::Value;
use tower::ServiceExt;

/// Makes each named `async fn(Backend)` two tests, `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test($crate::common::Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                super::$test($crate::common::Backend::Postgres).await
            }
        }
    )*};
}

pub struct TestApp {
    pub router: Router,
    /// The seeded SQLite database (on PostgreSQL, the source of the copy the app runs on).
    pub pool: sqlx::SqlitePool,
    /// The database the app runs on.
    pub database: provisio_server::db::Pool,
    pub admins: Vec<DemoAdmin>,
    /// The MSP admin's session cookie, used by `get`.
    pub msp_cookie: String,
    /// The database's folder, kept while the app lives (None over an existing router).
    _database: Option<SeededDatabase>,
}

/// An answer: status, headers and the body parsed as JSON (Null when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    /// The body as text, for answers that are not JSON (exports).
    pub text: String,
}

impl TestApp {
    pub async fn with_demo_users(users: u64) -> TestApp {
        TestApp::with_state(users, |state| state).await
    }

    /// A seeded app on `backend`.
    pub async fn on(backend: Backend, users: u64) -> TestApp {
        TestApp::on_with_state(backend, users, |state| state).await
    }

    /// A seeded app whose state `configure` adjusts first (limits, say).
    pub async fn with_state(users: u64, configure: impl FnOnce(AppState) -> AppState) -> TestApp {
        TestApp::on_with_state(Backend::Sqlite, users, configure).await
    }

    pub async fn on_with_state(
        backend: Backend,
        users: u64,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> TestApp {
        let mut database = SeededDatabase::on(backend, users)
            .await
            .expect("seeded database");
        let state = database
            .state("https://provisio.example")
            .expect("application state");
        let router = app(configure(state), &AppOptions::default());
        let mut test_app = TestApp {
            router,
            pool: database.pool.clone(),
            database: database.database.clone(),
            admins: std::mem::take(&mut database.admins),
            msp_cookie: String::new(),
            _database: Some(database),
        };
        test_app.msp_cookie = test_app.sign_in_as(Role::MspAdmin).await;
        test_app
    }

    /// A harness over an existing router and database, without demo admins or a session.
    pub fn from_router(router: Router, pool: sqlx::SqlitePool) -> TestApp {
        TestApp {
            router,
            database: provisio_server::db::Pool::from(&pool),
            pool,
            admins: vec![],
            msp_cookie: String::new(),
            _database: None,
        }
    }

    /// Runs `sql` (no parameters, SQL both engines read alike) on the app's database.
    pub async fn execute(&self, sql: &str) -> u64 {
        use provisio_server::db::Pool;
        let done = match &self.database {
            Pool::Sqlite(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|d| d.rows_affected()),
            Pool::Postgres(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|d| d.rows_affected()),
        };
        done.unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    /// The one integer `sql` answers, on the app's database.
    pub async fn scalar(&self, sql: &str) -> i64 {
        use provisio_server::db::Pool;
        let value = match &self.database {
            Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        };
        value.unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    /// The one text `sql` answers, on the app's database.
    pub async fn text(&self, sql: &str) -> String {
        use provisio_server::db::Pool;
        let value = match &self.database {
            Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        };
        value.unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    /// The integers of the one column `sql` answers, on the app's database.
    pub async fn integers(&self, sql: &str) -> Vec<i64> {
        use provisio_server::db::Pool;
        let values = match &self.database {
            Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        };
        values.unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    /// The texts of the one column `sql` answers, on the app's database.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        use provisio_server::db::Pool;
        let values = match &self.database {
            Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        };
        values.unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    pub fn admin(&self, role: Role) -> &DemoAdmin {
        self.admins
            .iter()
            .find(|a| a.role == role)
            .expect("a demo admin of each role")
    }

    /// Signs in as the demo admin of `role`; returns the `Cookie` header value.
    pub async fn sign_in_as(&self, role: Role) -> String {
        let admin = self.admin(role);
        let (email, password) = (admin.email.to_owned(), admin.password.clone());
        self.sign_in(&email, &password)
            .await
            .expect("demo admin signs in")
    }

    /// Signs in; returns the `Cookie` header value, or the failing answer.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<String, Answer> {
        let body = serde_json::json!({"email": email, "password": password});
        let answer = self
            .send(Method::POST, "/api/v1/session", None, Some(body))
            .await;
        if answer.status != StatusCode::OK {
            return Err(answer);
        }
        let set_cookie = answer
            .headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("a session cookie");
        Ok(set_cookie.split(';').next().unwrap_or_default().to_owned())
    }

    /// GET as the MSP admin.
    pub async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let answer = self
            .send(Method::GET, uri, Some(&self.msp_cookie), None)
            .await;
        (answer.status, answer.body)
    }

    /// Waits for the re-evaluation job a mapping change answered to finish (as the MSP
    /// admin); returns the mappings it answered.
    pub async fn settled(&self, change: &Answer) -> Value {
        let job = change.body["job"]["id"]
            .as_i64()
            .expect("a mapping change answers its job");
        let customer = self
            .scalar(&format!(
                "SELECT customer_id FROM mapping_jobs WHERE id = {job}"
            ))
            .await;
        let uri = format!("/api/v1/customers/{customer}/mappings/jobs/{job}");
        for _ in 0..500 {
            let (status, progress) = self.get(&uri).await;
            assert_eq!(status, StatusCode::OK, "{progress}");
            if progress["state"] != "running" {
                return change.body["mappings"].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("mapping job {job} did not finish");
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        self.send_request(request).await
    }

    pub async fn send_request(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

/// Mail from Provisio, linking to a console at a fixed address.
pub fn mail_settings(mailer: Mailer) -> MailSettings {
    provisio_testkit::mail_settings(mailer, "https://provisio.example").expect("mail settings")
}

/// What `user_counts` holds, and what counting the users says it should hold.
pub async fn user_counts_kept_and_counted(
    pool: &sqlx::SqlitePool,
) -> (Vec<(String, i64)>, Vec<(String, i64)>) {
    const KEY: &str = "customer_id || '|' || customer_global_id || '|' || customer_name || '|' \
        || customer_account_name || '|' || customer_service_plan || '|' || profile_name || '|' \
        || storage_region_name || '|' || mapping_name || '|' || status || '|' || license || '|' \
        || managed_by || '|' || COALESCE(quota_gb, 2147483647) || '|' || custom_attribute_name \
        || '|' || custom_attribute_value_empty";
    let kept = sqlx::query_as(&format!(
        "SELECT {KEY}, n FROM user_counts WHERE n > 0 ORDER BY 1"
    ))
    .fetch_all(pool)
    .await
    .expect("kept counts");
    let counted = sqlx::query_as(&format!(
        "SELECT {KEY}, COUNT(*) FROM users GROUP BY 1 ORDER BY 1"
    ))
    .fetch_all(pool)
    .await
    .expect("counted");
    (kept, counted)
}
