//! Report subscriptions through the real router, SQLite and a real SMTP server on loopback:
//! what a delivery contains, exactly-once scheduling, catch-up, retries and isolation.

mod common;

on_both_backends!(
    send_now_mails_the_download_of_the_same_view_with_text_html_and_attachment,
    a_delivery_recorded_before_a_stop_is_sent_once_after_the_restart,
    after_a_day_of_downtime_one_catch_up_delivery_is_sent,
    a_failing_smtp_server_is_retried_and_the_failure_is_in_the_history,
    a_customer_admins_subscription_never_holds_another_customers_rows,
    subscriptions_are_checked_owned_and_outlive_a_disabled_owner,
    a_stopping_scheduler_finishes_its_pass_and_ends,
);

use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use common::smtp::SmtpSink;
use common::{mail_settings, Backend, TestApp};
use mail_parser::{MessageParser, MimeHeaders};
use provisio_api::auth::Role;
use provisio_server::delivery::mail::Mailer;
use provisio_server::delivery::Deliverer;
use provisio_server::AppState;
use serde_json::{json, Value};

const QUERY: &str = "filter=user_status.any_of%3AActive&sort=-user_email";
const COLUMNS: &str = "user_email,user_name,customer_name";

/// A seeded app whose mail goes to `sink`, retrying at once (the backoff is not under test).
async fn app_with_sink(backend: Backend, sink: &SmtpSink) -> (TestApp, Deliverer) {
    let mut deliverer = None;
    let app = TestApp::on_with_state(backend, 120, |state| {
        let d = Deliverer::new(
            state.pool.clone(),
            mail_settings(Mailer::smtp(&sink.url()).expect("smtp url")),
        )
        .with_retry_delays(vec![Duration::ZERO, Duration::ZERO]);
        deliverer = Some(d.clone());
        AppState {
            deliverer: Some(d),
            ..state
        }
    })
    .await;
    (app, deliverer.expect("deliverer"))
}

fn daily(name: &str, recipients: &[&str]) -> Value {
    json!({
        "name": name,
        "view": {"kind": "snapshot", "query": QUERY, "columns": COLUMNS.split(',').collect::<Vec<_>>()},
        "format": "csv",
        "schedule": {"recurrence": {"every": "day"}, "hour": 7, "minute": 0},
        "recipients": recipients,
        "skip_empty": false,
        "enabled": true
    })
}

async fn subscribe(app: &TestApp, cookie: &str, body: Value) -> i64 {
    let created = app
        .send(
            Method::POST,
            "/api/v1/subscriptions",
            Some(cookie),
            Some(body),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_i64().expect("id")
}

/// "Send now" as the admin whose session `cookie` is.
async fn send_now(app: &TestApp, cookie: &str, id: i64) -> common::Answer {
    app.send(
        Method::POST,
        &format!("/api/v1/subscriptions/{id}/send"),
        Some(cookie),
        None,
    )
    .await
}

async fn deliveries(app: &TestApp, id: i64) -> Vec<Value> {
    let (status, list) = app
        .get(&format!("/api/v1/subscriptions/{id}/deliveries"))
        .await;
    assert_eq!(status, StatusCode::OK);
    list.as_array().cloned().unwrap_or_default()
}

/// Puts the subscription's next delivery at `at` (as if that time had come).
async fn due_at(app: &TestApp, id: i64, at: DateTime<Utc>) {
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    app.execute(&format!(
        "UPDATE subscriptions SET next_run_at = '{at}' WHERE id = {id}"
    ))
    .await;
}

async fn send_now_mails_the_download_of_the_same_view_with_text_html_and_attachment(
    backend: Backend,
) {
    let sink = SmtpSink::start().await;
    let (app, _) = app_with_sink(backend, &sink).await;
    let id = subscribe(
        &app,
        &app.msp_cookie,
        daily(
            "Morning active users",
            &["ops@msp.example", "lead@msp.example"],
        ),
    )
    .await;

    let sent = send_now(&app, &app.msp_cookie, id).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    assert_eq!(sent.body["outcome"], "sent", "{}", sent.body);

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let mut to = messages[0].to.clone();
    to.sort();
    assert_eq!(to, ["lead@msp.example", "ops@msp.example"]);
    let message = MessageParser::default()
        .parse(&messages[0].data)
        .expect("a MIME message");
    let subject = message.subject().unwrap_or_default();
    assert!(subject.starts_with("Morning active users: "), "{subject}");
    let text = message.body_text(0).expect("a plain-text part");
    let html = message.body_html(0).expect("an HTML part");
    let download = app
        .send(
            Method::GET,
            &format!("/api/v1/reports/user-provisioning/export?format=csv&cols={COLUMNS}&{QUERY}"),
            Some(&app.msp_cookie),
            None,
        )
        .await;
    let rows = download.text.lines().count() - 1;
    assert!(subject.contains(&format!("{rows} users")), "{subject}");
    assert!(text.contains("User Status is any of Active"), "{text}");
    assert!(
        text.contains("https://provisio.example/?filter=user_status.any_of%3AActive"),
        "a link back to the view: {text}"
    );
    assert!(html.contains("<table"), "{html}");
    let attachment = message.attachment(0).expect("an attachment");
    let name = attachment.attachment_name().unwrap_or_default();
    assert!(
        name.starts_with("user-provisioning_all-customers_") && name.ends_with(".csv"),
        "{name}"
    );
    assert_eq!(
        String::from_utf8_lossy(attachment.contents()),
        download.text,
        "the attachment is the download of the same view"
    );

    let history = deliveries(&app, id).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["on_demand"], true);
    assert_eq!(history[0]["rows"], rows);
    assert_eq!(history[0]["outcome"], "sent");
}

async fn a_delivery_recorded_before_a_stop_is_sent_once_after_the_restart(backend: Backend) {
    let sink = SmtpSink::start().await;
    let (app, deliverer) = app_with_sink(backend, &sink).await;
    let id = subscribe(&app, &app.msp_cookie, daily("Daily", &["ops@msp.example"])).await;
    let now = Utc::now();
    due_at(&app, id, now - chrono::Duration::minutes(1)).await;

    // The scheduler records the due delivery, then the process stops before sending.
    let recorded =
        provisio_server::db::subscriptions::record_due(&app.database, now, |s, after| {
            s.next_after(after)
        })
        .await
        .expect("recorded");
    assert_eq!(recorded, 1);
    assert!(sink.messages().is_empty());

    // After the restart: recovery, then as many scheduler passes as you like.
    let restarted = deliverer.clone();
    restarted.recover().await.expect("recover");
    for _ in 0..3 {
        restarted.tick(now).await.expect("tick");
    }
    assert_eq!(
        sink.messages().len(),
        1,
        "sent once, not dropped, not repeated"
    );
    let history = deliveries(&app, id).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["outcome"], "sent");
    assert_eq!(history[0]["on_demand"], false);

    // A delivery cut off mid-send is not sent again, and says so.
    due_at(&app, id, now - chrono::Duration::seconds(30)).await;
    provisio_server::db::subscriptions::record_due(&app.database, now, |s, after| {
        s.next_after(after)
    })
    .await
    .expect("recorded");
    app.execute("UPDATE deliveries SET status = 'sending' WHERE status = 'pending'")
        .await;
    deliverer.recover().await.expect("recover");
    deliverer.tick(now).await.expect("tick");
    assert_eq!(sink.messages().len(), 1);
    let history = deliveries(&app, id).await;
    assert_eq!(history[0]["outcome"], "failed");
    assert!(history[0]["error"]
        .as_str()
        .is_some_and(|e| e.contains("may not have arrived")));
}

async fn after_a_day_of_downtime_one_catch_up_delivery_is_sent(backend: Backend) {
    let sink = SmtpSink::start().await;
    let (app, deliverer) = app_with_sink(backend, &sink).await;
    let hourly_ish = daily("Daily", &["ops@msp.example"]);
    let id = subscribe(&app, &app.msp_cookie, hourly_ish).await;
    let now = Utc::now();
    // Due 26 hours ago: at least one more occurrence was missed while the server was down.
    due_at(&app, id, now - chrono::Duration::hours(26)).await;

    deliverer.tick(now).await.expect("tick");
    deliverer.tick(now).await.expect("tick");
    assert_eq!(
        sink.messages().len(),
        1,
        "one catch-up, not one per missed day"
    );
    let (_, subscription) = app.get(&format!("/api/v1/subscriptions/{id}")).await;
    let next: DateTime<Utc> = subscription["next_delivery"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("next delivery");
    assert!(next > now, "the next delivery is in the future: {next}");
    assert!(next - now <= chrono::Duration::hours(24));
}

async fn a_failing_smtp_server_is_retried_and_the_failure_is_in_the_history(backend: Backend) {
    let sink = SmtpSink::start().await;
    let (app, deliverer) = app_with_sink(backend, &sink).await;
    let id = subscribe(&app, &app.msp_cookie, daily("Daily", &["ops@msp.example"])).await;
    sink.refuse(true);
    let first = send_now(&app, &app.msp_cookie, id).await;
    assert_eq!(first.body["outcome"], "pending", "{}", first.body);
    assert!(first.body["error"]
        .as_str()
        .is_some_and(|e| e.contains("retrying")));
    // The server recovers before the retry.
    sink.refuse(false);
    deliverer.tick(Utc::now()).await.expect("tick");
    let history = deliveries(&app, id).await;
    assert_eq!(history[0]["outcome"], "sent");
    assert_eq!(history[0]["attempts"], 2);
    assert_eq!(sink.messages().len(), 1);

    // A server that keeps failing: given up after the retries, shown as failed.
    sink.refuse(true);
    send_now(&app, &app.msp_cookie, id).await;
    for _ in 0..3 {
        deliverer.tick(Utc::now()).await.expect("tick");
    }
    let history = deliveries(&app, id).await;
    assert_eq!(history[0]["outcome"], "failed");
    assert_eq!(history[0]["attempts"], 3);
    assert!(history[0]["error"]
        .as_str()
        .is_some_and(|e| e.contains("gave up")));
}

async fn a_customer_admins_subscription_never_holds_another_customers_rows(backend: Backend) {
    let sink = SmtpSink::start().await;
    let (app, _) = app_with_sink(backend, &sink).await;
    let customer_admin = app.sign_in_as(Role::CustomerAdmin).await;
    let mut body = daily("Mine", &["me@northwindtraders.com"]);
    body["view"] =
        json!({"kind": "snapshot", "query": "", "columns": ["customer_name", "user_email"]});
    let id = subscribe(&app, &customer_admin, body).await;
    // Someone edits the stored view to ask for another customer's rows.
    app.execute(&format!("UPDATE subscriptions SET query = 'filter=customer_name.any_of%3AWoodgrove%20Bank' WHERE id = {id}"))
        .await;
    let sent = send_now(&app, &customer_admin, id).await;
    assert_eq!(sent.body["outcome"], "sent", "{}", sent.body);
    assert_eq!(
        sent.body["rows"], 0,
        "no Woodgrove rows reach a Northwind admin"
    );
    app.execute(&format!(
        "UPDATE subscriptions SET query = '' WHERE id = {id}"
    ))
    .await;
    send_now(&app, &customer_admin, id).await;
    let messages = sink.messages();
    let message = MessageParser::default()
        .parse(&messages[1].data)
        .expect("a MIME message");
    let csv =
        String::from_utf8_lossy(message.attachment(0).expect("attachment").contents()).into_owned();
    let customers: std::collections::BTreeSet<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').next())
        .collect();
    assert_eq!(
        customers.into_iter().collect::<Vec<_>>(),
        ["Northwind Traders"]
    );
}

async fn subscriptions_are_checked_owned_and_outlive_a_disabled_owner(backend: Backend) {
    let sink = SmtpSink::start().await;
    let (app, _) = app_with_sink(backend, &sink).await;
    let customer_admin = app.sign_in_as(Role::CustomerAdmin).await;
    for (field, bad) in [
        ("recipients", json!([])),
        ("recipients", json!(["not an address"])),
        ("name", json!("  ")),
        (
            "view",
            json!({"kind": "snapshot", "query": "", "columns": ["user_email", "user_email"]}),
        ),
        (
            "view",
            json!({"kind": "snapshot", "query": "sort=user_name&filter=user_name.is_empty:", "columns": []}),
        ),
    ] {
        let mut body = daily("Checked", &["ops@msp.example"]);
        body[field] = bad;
        let refused = app
            .send(
                Method::POST,
                "/api/v1/subscriptions",
                Some(&customer_admin),
                Some(body),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}");
        assert_eq!(refused.body["error"]["parameter"], field);
    }
    let mut no_days = daily("Weekly", &["ops@msp.example"]);
    no_days["schedule"] =
        json!({"recurrence": {"every": "week", "weekdays": []}, "hour": 7, "minute": 0});
    let refused = app
        .send(
            Method::POST,
            "/api/v1/subscriptions",
            Some(&customer_admin),
            Some(no_days),
        )
        .await;
    assert_eq!(refused.body["error"]["parameter"], "schedule");

    let mut weekly = daily("Weekly", &["me@northwindtraders.com"]);
    weekly["schedule"] = json!({"recurrence": {"every": "week", "weekdays": ["mon", "thu"]}, "hour": 7, "minute": 0});
    let id = subscribe(&app, &customer_admin, weekly).await;
    let (_, mine) = app.get(&format!("/api/v1/subscriptions/{id}")).await;
    assert_eq!(
        mine["schedule_text"],
        "Every Monday and Thursday at 07:00 UTC"
    );
    let viewer = app.sign_in_as(Role::ReadOnly).await;
    let hidden = app
        .send(
            Method::GET,
            &format!("/api/v1/subscriptions/{id}"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    // The owner is disabled: deliveries stop with a reason, until an MSP admin takes over.
    let owner_id: i64 = app
        .scalar("SELECT id FROM admins WHERE role = 'customer_admin'")
        .await;
    app.send(
        Method::PATCH,
        &format!("/api/v1/admins/{owner_id}"),
        Some(&app.msp_cookie),
        Some(json!({"disabled": true})),
    )
    .await;
    let refused = send_now(&app, &app.msp_cookie, id).await;
    assert_eq!(refused.body["outcome"], "failed");
    assert!(refused.body["error"]
        .as_str()
        .is_some_and(|e| e.contains("disabled")));
    let msp_id: i64 = app
        .scalar("SELECT id FROM admins WHERE role = 'msp_admin'")
        .await;
    let taken = app
        .send(
            Method::PUT,
            &format!("/api/v1/subscriptions/{id}/owner"),
            Some(&app.msp_cookie),
            Some(json!({"owner_id": msp_id})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
    assert_eq!(taken.body["owner"]["id"], msp_id);
    let sent = send_now(&app, &app.msp_cookie, id).await;
    assert_eq!(sent.body["outcome"], "sent", "{}", sent.body);
}

async fn a_stopping_scheduler_finishes_its_pass_and_ends(backend: Backend) {
    let sink = SmtpSink::start().await;
    let (_app, deliverer) = app_with_sink(backend, &sink).await;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let scheduler =
        provisio_server::delivery::spawn_scheduler(deliverer, Duration::from_millis(20), stopping);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!scheduler.is_finished(), "it runs until told to stop");
    stop.send(true).expect("the scheduler listens");
    tokio::time::timeout(Duration::from_secs(10), scheduler)
        .await
        .expect("it ends once stopped")
        .expect("without panicking");
}

/// Two instances on one PostgreSQL database, each with its own connections and scheduler, look
/// for due deliveries at the same moments: the due delivery is recorded and sent once.
#[tokio::test]
async fn two_instances_on_one_postgres_database_send_a_due_delivery_once() {
    let sink = SmtpSink::start().await;
    let (app, first) = app_with_sink(Backend::Postgres, &sink).await;
    let provisio_server::db::Pool::Postgres(pool) = &app.database else {
        panic!("the app runs on PostgreSQL");
    };
    let other_instance = sqlx::postgres::PgPoolOptions::new()
        .connect_with((*pool.connect_options()).clone())
        .await
        .expect("a second instance's connections");
    let second = Deliverer::new(
        other_instance,
        mail_settings(Mailer::smtp(&sink.url()).expect("smtp url")),
    );
    let id = subscribe(&app, &app.msp_cookie, daily("Daily", &["ops@msp.example"])).await;
    let now = Utc::now();
    due_at(&app, id, now - chrono::Duration::minutes(1)).await;
    for _ in 0..3 {
        let (a, b) = tokio::join!(first.tick(now), second.tick(now));
        a.expect("first instance");
        b.expect("second instance");
    }
    assert_eq!(sink.messages().len(), 1, "sent once");
    assert_eq!(deliveries(&app, id).await.len(), 1, "recorded once");
}
