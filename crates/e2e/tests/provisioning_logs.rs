//! The provisioning log and status end to end, in real headless Chromium: a SCIM request made
//! here appears in the log; filtering by status and searching by email find it; its detail
//! shows the modified properties; the CSV download holds it; and once every request fails,
//! the status overview shows the customer Failing.

use anyhow::Result;
use provisio_api::auth::Role;
use provisio_e2e::{Browser, TestServer};
use serde_json::json;

const TOKEN: &str = "pvs_e2e_logs_0123456789abcdef";

#[tokio::test]
async fn an_admin_finds_reads_and_downloads_a_scim_request_and_sees_failing_provisioning(
) -> Result<()> {
    let server = TestServer::start(40).await?;
    let northwind = server.customer_id("Northwind Traders").await?;
    server.scim_token(northwind, TOKEN).await?;
    let browser = Browser::start().await?;
    browser
        .sign_in(&server, Role::CustomerAdmin, "/provisioning/logs")
        .await?;

    let email = "grace.hopper@northwind.example";
    let user = json!({"userName": email, "emails": [{"value": email}], "active": true,
                      "displayName": "Grace Hopper", "title": "Rear Admiral"});
    let (status, _) = browser
        .scim("POST", "/scim/v2/Users", TOKEN, Some(user.clone()))
        .await?;
    assert_eq!(status, 201);
    let (status, _) = browser
        .scim("POST", "/scim/v2/Users", TOKEN, Some(user))
        .await?;
    assert_eq!(status, 409, "the second create clashes");

    browser
        .client
        .goto(&server.url("/provisioning/logs"))
        .await?;
    browser.wait_for_text(".events-table", email).await?;
    browser
        .wait_for_text(".status-panel", "Provisioning status")
        .await?;

    // Filtering by status keeps the refused create only.
    browser
        .click(".log-choices[data-filter=status] summary")
        .await?;
    browser.click("input[name=status][value=failure]").await?;
    browser.wait_for_text(".result-meta", "1 event").await?;
    browser
        .wait_for_text(".event-row[data-status=failure]", email)
        .await?;
    assert!(browser
        .client
        .current_url()
        .await?
        .as_str()
        .contains("status=failure"));

    // The search finds both by email; the success's detail shows what it set.
    browser
        .client
        .goto(&server.url("/provisioning/logs"))
        .await?;
    browser.wait_for_text(".events-table", email).await?;
    browser
        .type_into(".log-filters input[name=q]", "grace.hopper")
        .await?;
    browser.click(".log-filters button[type=submit]").await?;
    browser.wait_for_text(".result-meta", "2 events").await?;
    browser
        .click(".event-row[data-status=success] .event-open")
        .await?;
    browser.wait_for_text(".event-panel", "Steps").await?;
    browser.click("#tab-properties").await?;
    browser
        .wait_for_text(".modified-properties", "userName")
        .await?;
    browser.wait_for_text(".modified-properties", email).await?;
    browser.click("#tab-summary").await?;
    browser.wait_for_text(".event-summary", "E2E IdP").await?;

    // The refused one explains itself and links to the user it clashed with.
    browser.click(".close-panel").await?;
    browser
        .click(".event-row[data-status=failure] .event-open")
        .await?;
    browser
        .wait_for_text(".troubleshooting", "uniqueness")
        .await?;
    browser
        .wait_for_text(".troubleshooting .existing-user", email)
        .await?;

    browser.click(".export-menu summary").await?;
    browser.click(".export-menu [data-format=csv]").await?;
    let file = browser.wait_for_download(".csv").await?;
    let csv = std::fs::read_to_string(&file)?;
    assert!(csv.starts_with("Date (UTC),Identity,Action"), "{csv}");
    assert!(csv.matches(email).count() >= 2, "{csv}");
    assert!(csv.contains("Rear Admiral"), "modified properties: {csv}");

    // Every request failing: the overview shows the customer Failing.
    for _ in 0..20 {
        let (status, _) = browser
            .scim(
                "POST",
                "/scim/v2/Users",
                TOKEN,
                Some(json!({"userName": "no-email"})),
            )
            .await?;
        assert_eq!(status, 400);
    }
    browser.client.goto(&server.url("/provisioning")).await?;
    browser
        .wait_for_text("tr[data-state=failing]", "Northwind Traders")
        .await?;
    browser
        .wait_for_text("tr[data-state=failing]", "Failing")
        .await?;
    browser.close().await
}
