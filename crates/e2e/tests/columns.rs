//! Arranging the report's columns and exporting what is shown, in real headless Chromium.

use anyhow::{Context, Result};
use fantoccini::key::Key;
use fantoccini::Locator;
use provisio_api::auth::Role;
use provisio_e2e::{Browser, TestServer};

const DEMO_USERS: u64 = 600;

/// Drags the header of `field` with real pointer actions and drops it on the left half of the
/// header of `onto`.
async fn drag_header(browser: &Browser, field: &str, onto: &str) -> Result<()> {
    browser
        .drag(
            &format!("th[data-field='{field}']"),
            &format!("th[data-field='{onto}']"),
            (-40, 0),
        )
        .await
}

/// The first rendered row's email lands in the column where the User Email header stands.
async fn first_row_email_column(browser: &Browser) -> Result<usize> {
    let rows = browser.rendered_rows().await?;
    rows.first()
        .context("a rendered row")?
        .iter()
        .position(|cell| cell.contains('@'))
        .context("an email cell")
}

#[tokio::test]
async fn dragging_a_header_reorders_the_table_persists_and_stays_per_admin() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    let browser = Browser::start().await?;
    browser.sign_in(&server, Role::MspAdmin, "/").await?;
    browser.wait_for_rows().await?;
    assert_eq!(browser.column_index("user_email").await?, 4);
    assert_eq!(first_row_email_column(&browser).await?, 4);

    drag_header(&browser, "user_email", "global_customer_id").await?;
    browser
        .eventually("User Email to be first", || async {
            Ok((browser.column_index("user_email").await? == 0).then_some(()))
        })
        .await?;
    assert_eq!(
        first_row_email_column(&browser).await?,
        0,
        "the cells follow their header"
    );
    assert_eq!(
        browser.header_fields().await?[1],
        "global_customer_id",
        "the others shift right"
    );

    // The order is the admin's, kept on the server: a reload shows it before any rows.
    browser.client.refresh().await?;
    browser.wait_for_rows().await?;
    assert_eq!(browser.column_index("user_email").await?, 0);
    browser.close().await?;

    // Another admin, in another browser, still has the report's own order.
    let other = Browser::start().await?;
    other.sign_in(&server, Role::ReadOnly, "/").await?;
    other.wait_for_rows().await?;
    assert_eq!(other.column_index("user_email").await?, 4);
    other.close().await
}

#[tokio::test]
async fn keyboard_moves_are_announced_and_hidden_columns_leave_the_table() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    let browser = Browser::start().await?;
    browser.sign_in(&server, Role::MspAdmin, "/").await?;
    browser.wait_for_rows().await?;

    let button = browser
        .client
        .find(Locator::Css("th[data-field='customer_name'] .sort-button"))
        .await?;
    let chord: String = [Key::Alt, Key::Shift, Key::Right]
        .into_iter()
        .map(char::from)
        .collect();
    button.send_keys(&chord).await?;
    browser
        .eventually("Customer Name to move right", || async {
            Ok((browser.column_index("customer_name").await? == 2).then_some(()))
        })
        .await?;
    let announced = browser
        .eval("return document.querySelector('.column-announcer').textContent;")
        .await?;
    assert_eq!(announced, "Customer Name moved to position 3 of 13");
    let focused = browser
        .eval("return document.activeElement.closest('th')?.dataset.field ?? null;")
        .await?;
    assert_eq!(focused, "customer_name", "focus stays on the moved header");

    // Hide Profile from its header menu.
    browser
        .click("th[data-field='profile'] .column-menu-button")
        .await?;
    browser
        .client
        .find(Locator::XPath(
            "//th[@data-field='profile']//button[@role='menuitem'][normalize-space()='Hide column']",
        ))
        .await?
        .click()
        .await?;
    browser
        .eventually("Profile to be hidden", || async {
            Ok((!browser
                .header_fields()
                .await?
                .contains(&"profile".to_owned()))
            .then_some(()))
        })
        .await?;
    let rows = browser.rendered_rows().await?;
    assert!(rows.iter().all(|r| r.len() == 12), "the cells went too");

    // The download leaves the hidden column out and keeps the moved one where it stands.
    browser.click(".export-menu summary").await?;
    browser
        .click(".export-menu button[data-format='csv']")
        .await?;
    let path = browser.wait_for_download(".csv").await?;
    let mut reader = csv::Reader::from_path(&path)?;
    let labels: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    assert_eq!(labels.len(), 12);
    assert!(!labels.contains(&"Profile".to_owned()));
    assert_eq!(labels[2], "Customer Name");

    // The Columns panel shows it unchecked and brings it back.
    browser.click(".columns-panel summary").await?;
    browser
        .click(".column-option[data-field='profile'] input")
        .await?;
    browser
        .eventually("Profile to be back", || async {
            Ok((browser.header_fields().await?.len() == 13).then_some(()))
        })
        .await?;
    browser.close().await
}

#[tokio::test]
async fn the_csv_download_holds_the_visible_columns_in_order_and_every_filtered_row() -> Result<()>
{
    let server = TestServer::start(DEMO_USERS).await?;
    sqlx::query(
        "UPDATE users SET user_name = '=cmd|'' /C calc''!A0' \
         WHERE id = (SELECT MIN(u.id) FROM users u WHERE u.status = 'Active')",
    )
    .execute(&server.pool)
    .await?;
    let browser = Browser::start().await?;
    browser
        .sign_in(
            &server,
            Role::MspAdmin,
            "/?filter=user_status.any_of%3AActive&sort=-user_name&cols=user_name%2Cuser_email%2Ccustomer_name",
        )
        .await?;
    let total = browser.wait_for_rows().await?;
    assert_eq!(
        total,
        browser
            .api_total("filter=user_status.any_of%3AActive")
            .await?
    );
    assert_eq!(
        browser.header_fields().await?,
        ["user_name", "user_email", "customer_name"]
    );

    browser.click(".export-menu summary").await?;
    browser
        .click(".export-menu button[data-format='csv']")
        .await?;
    let path = browser.wait_for_download(".csv").await?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("file name")?;
    assert!(
        name.starts_with("user-provisioning_all-customers_") && name.ends_with("Z.csv"),
        "{name}"
    );
    let mut reader = csv::Reader::from_path(&path)?;
    assert_eq!(
        reader.headers()?.iter().collect::<Vec<_>>(),
        ["User Name", "User Email", "Customer Name"]
    );
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    assert_eq!(
        records.len() as u64,
        total,
        "every filtered row, not only those loaded"
    );
    assert!(
        records.iter().any(|r| &r[0] == "'=cmd|' /C calc'!A0"),
        "the formula arrives neutralised"
    );
    assert!(records.iter().all(|r| !r[0].starts_with('=')));
    let status = browser
        .eval("return document.querySelector('.export-status')?.textContent ?? '';")
        .await?;
    assert_eq!(status, format!("Downloaded {name}"));

    // The JSON download of the same view round-trips to the same rows.
    browser.click(".export-menu summary").await?;
    browser
        .click(".export-menu button[data-format='json']")
        .await?;
    let json_path = browser.wait_for_download(".json").await?;
    let exported: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&std::fs::read(json_path)?)?;
    assert_eq!(exported.len(), records.len());
    for (object, record) in exported.iter().zip(&records) {
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 3);
        assert_eq!(object["user_email"], record[1]);
        assert_eq!(object["customer_name"], record[2]);
    }
    browser.close().await
}

#[tokio::test]
async fn a_saved_view_names_the_url_opens_by_default_and_is_shared_read_only() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    let browser = Browser::start().await?;
    browser
        .sign_in(
            &server,
            Role::MspAdmin,
            "/?sort=-user_email&cols=user_email%2Cuser_status",
        )
        .await?;
    browser.wait_for_rows().await?;

    browser.click(".save-view").await?;
    browser
        .client
        .find(Locator::Css(".view-name"))
        .await?
        .send_keys("Emails Z to A")
        .await?;
    browser.click(".view-shared").await?;
    browser.click(".save-view-form button[type=submit]").await?;
    let url = browser
        .eventually("the URL to name the view", || async {
            let url = browser.client.current_url().await?;
            Ok(url
                .query()
                .is_some_and(|q| q.contains("view="))
                .then_some(url))
        })
        .await?;
    let query = url.query().unwrap_or_default().to_owned();
    assert!(query.contains("sort=-user_email"), "{query}");
    assert!(query.contains("cols=user_email%2Cuser_status"), "{query}");

    browser.click(".toggle-default-view").await?;
    browser
        .eventually("the view to be the default", || async {
            let pressed = browser
                .eval("return document.querySelector('.toggle-default-view')?.getAttribute('aria-pressed');")
                .await?;
            Ok((pressed == "true").then_some(()))
        })
        .await?;

    // The bare report address now opens the default view, columns and all.
    browser.client.goto(&server.url("/")).await?;
    browser
        .eventually("the default view to open", || async {
            let url = browser.client.current_url().await?;
            Ok(url
                .query()
                .is_some_and(|q| q.contains("view=") && q.contains("cols="))
                .then_some(()))
        })
        .await?;
    browser.wait_for_rows().await?;
    assert_eq!(
        browser.header_fields().await?,
        ["user_email", "user_status"]
    );
    browser.close().await?;

    // The MSP's read-only viewer can pick the shared view but not change or delete it.
    let reader = Browser::start().await?;
    reader.sign_in(&server, Role::ReadOnly, "/").await?;
    reader.wait_for_rows().await?;
    let option = reader
        .eventually("the shared view in the picker", || async {
            let text = reader
                .eval("return Array.from(document.querySelectorAll('.view-select option')).map(o => o.textContent).join('|');")
                .await?;
            Ok(text
                .as_str()
                .filter(|t| t.contains("Emails Z to A (shared by"))
                .map(str::to_owned))
        })
        .await?;
    assert!(option.contains("Standard report"));
    reader.client.goto(url.as_str()).await?;
    reader.wait_for_rows().await?;
    assert_eq!(reader.header_fields().await?, ["user_email", "user_status"]);
    assert!(reader
        .client
        .find(Locator::Css(".delete-view"))
        .await
        .is_err());
    reader.close().await
}
