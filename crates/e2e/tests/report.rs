//! The User Provisioning report in real headless Chromium against the real server.

use anyhow::{Context, Result};
use fantoccini::Locator;
use provisio_e2e::{Browser, TestServer};

const DEMO_USERS: u64 = 2_000;

const ROWS_SCRIPT: &str =
    "return Array.from(document.querySelectorAll('tbody tr.row[data-row-id]'))\
    .map(r => Array.from(r.cells).map(c => c.textContent));";
const HEADERS_SCRIPT: &str =
    "return Array.from(document.querySelectorAll('thead th')).map(th => th.dataset.field);";

/// The text of every rendered body row, cell by cell.
async fn rendered_rows(browser: &Browser) -> Result<Vec<Vec<String>>> {
    let value = browser.eval(ROWS_SCRIPT).await?;
    Ok(serde_json::from_value(value)?)
}

async fn column_index(browser: &Browser, field: &str) -> Result<usize> {
    let headers: Vec<String> = serde_json::from_value(browser.eval(HEADERS_SCRIPT).await?)?;
    headers
        .iter()
        .position(|h| h == field)
        .with_context(|| format!("no '{field}' column in {headers:?}"))
}

async fn total_text(browser: &Browser) -> Result<String> {
    Ok(browser
        .client
        .find(Locator::Css(".total"))
        .await?
        .text()
        .await?)
}

/// Waits until rows are rendered and the total reads as a number of users; returns it.
async fn wait_for_rows(browser: &Browser) -> Result<u64> {
    browser
        .eventually("rows and a total", || async {
            let rows = rendered_rows(browser).await?;
            let text = total_text(browser).await.unwrap_or_default();
            let count = text
                .strip_suffix(" users")
                .or_else(|| text.strip_suffix(" user"))
                .and_then(|n| n.replace(',', "").parse::<u64>().ok());
            Ok(count.filter(|_| !rows.is_empty()))
        })
        .await
}

async fn api_total(browser: &Browser, query: &str) -> Result<u64> {
    let page = browser
        .fetch_json(&format!(
            "/api/v1/reports/user-provisioning?limit=1&{query}"
        ))
        .await?;
    page["total"]
        .as_u64()
        .with_context(|| format!("no total in {page}"))
}

#[tokio::test]
async fn report_page_shows_demo_rows_with_the_thirteen_columns_and_a_bounded_dom() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    let browser = Browser::start().await?;
    browser.client.goto(&server.url("/")).await?;
    let total = wait_for_rows(&browser).await?;
    assert_eq!(total, DEMO_USERS);

    let labels: Vec<String> = serde_json::from_value(
        browser
            .eval("return Array.from(document.querySelectorAll('thead th .header-label')).map(e => e.textContent);")
            .await?,
    )?;
    assert_eq!(
        labels,
        [
            "Global Customer ID",
            "Customer Name",
            "Account Name",
            "User Name",
            "User Email",
            "Profile",
            "User Status",
            "Endpoints License",
            "Endpoints Usage (MB)",
            "Created On (UTC)",
            "Managed By",
            "Custom Attribute Name",
            "Custom Attribute Value",
        ]
    );

    let rows = rendered_rows(&browser).await?;
    assert!(
        rows.len() < 80,
        "only the visible rows are in the DOM, got {}",
        rows.len()
    );
    assert!(rows.iter().all(|r| r.len() == 13));

    // Scrolling deep loads further pages while the DOM stays bounded.
    for _ in 0..6 {
        browser
            .eval("const s = document.querySelector('.table-scroll'); s.scrollTop = s.scrollHeight; return 0;")
            .await?;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let deepest: u64 = browser
        .eventually("rows past the first page", || async {
            let value = browser
                .eval("return Math.max(...Array.from(document.querySelectorAll('tbody tr.row[aria-rowindex]')).map(r => +r.getAttribute('aria-rowindex')));")
                .await?;
            Ok(value.as_u64().filter(|n| *n > 400))
        })
        .await?;
    assert!(deepest > 400);
    let rows = rendered_rows(&browser).await?;
    assert!(
        rows.len() < 80,
        "DOM stays bounded after scrolling, got {}",
        rows.len()
    );
    browser.close().await
}

#[tokio::test]
async fn adding_and_removing_a_filter_updates_rows_and_url() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    let browser = Browser::start().await?;
    browser.client.goto(&server.url("/")).await?;
    let unfiltered = wait_for_rows(&browser).await?;

    browser
        .client
        .find(Locator::Css(".add-filter"))
        .await?
        .click()
        .await?;
    let field = browser
        .client
        .find(Locator::Css(".filter-editor .filter-field"))
        .await?;
    field.select_by_value("user_status").await?;
    let preserved = browser
        .eventually("the status checklist", || async {
            let boxes = browser
                .client
                .find_all(Locator::Css(".filter-editor .checklist label"))
                .await?;
            for label in boxes {
                if label.text().await?.starts_with("Preserved") {
                    return Ok(Some(label));
                }
            }
            Ok(None)
        })
        .await?;
    preserved.click().await?;
    browser
        .client
        .find(Locator::Css(".filter-editor button[type=submit]"))
        .await?
        .click()
        .await?;

    let expected = api_total(&browser, "filter=user_status.any_of%3APreserved").await?;
    assert!(expected > 0 && expected < unfiltered);
    browser
        .eventually("the filtered total", || async {
            let total = wait_for_rows(&browser).await?;
            Ok((total == expected).then_some(()))
        })
        .await?;
    let url = browser.client.current_url().await?;
    assert!(
        url.query()
            .unwrap_or("")
            .contains("filter=user_status.any_of%3APreserved"),
        "URL holds the filter: {url}"
    );
    let status = column_index(&browser, "user_status").await?;
    let rows = rendered_rows(&browser).await?;
    assert!(
        rows.iter().all(|r| r[status] == "Preserved"),
        "only preserved users"
    );
    let chip = browser
        .client
        .find(Locator::Css(".chip-label"))
        .await?
        .text()
        .await?;
    assert_eq!(chip, "User Status is any of Preserved");

    browser
        .client
        .find(Locator::Css(".chip-remove"))
        .await?
        .click()
        .await?;
    browser
        .eventually("the unfiltered total", || async {
            let total = wait_for_rows(&browser).await?;
            Ok((total == unfiltered).then_some(()))
        })
        .await?;
    let url = browser.client.current_url().await?;
    assert!(
        !url.query().unwrap_or("").contains("filter="),
        "filter left the URL: {url}"
    );
    assert!(browser
        .client
        .find_all(Locator::Css(".chip"))
        .await?
        .is_empty());

    // Back restores the filtered view from the URL.
    browser.client.back().await?;
    browser
        .eventually("the filtered total after Back", || async {
            let total = wait_for_rows(&browser).await?;
            Ok((total == expected).then_some(()))
        })
        .await?;
    browser.close().await
}

#[tokio::test]
async fn clicking_a_header_sorts_the_rows_both_ways() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    let browser = Browser::start().await?;
    browser.client.goto(&server.url("/")).await?;
    wait_for_rows(&browser).await?;
    let usage = column_index(&browser, "endpoints_usage_mb").await?;
    let header = "th[data-field=endpoints_usage_mb]";
    let usages = |rows: Vec<Vec<String>>| -> Vec<i64> {
        rows.iter()
            .map(|r| r[usage].replace(',', "").parse::<i64>().unwrap_or(-1))
            .collect()
    };

    for (direction, url_part) in [
        ("ascending", "sort=endpoints_usage_mb"),
        ("descending", "sort=-endpoints_usage_mb"),
    ] {
        browser
            .client
            .find(Locator::Css(&format!("{header} button")))
            .await?
            .click()
            .await?;
        let values = browser
            .eventually(&format!("{direction} usage"), || async {
                let sorted = browser
                    .client
                    .find(Locator::Css(header))
                    .await?
                    .attr("aria-sort")
                    .await?;
                if sorted.as_deref() != Some(direction) {
                    return Ok(None);
                }
                let values = usages(rendered_rows(&browser).await?);
                let ordered = values.windows(2).all(|w| match direction {
                    "ascending" => w[0] <= w[1],
                    _ => w[0] >= w[1],
                });
                Ok((ordered && values.len() > 5).then_some(values))
            })
            .await?;
        assert!(values.iter().all(|v| *v >= 0));
        let url = browser.client.current_url().await?;
        assert!(url.query().unwrap_or("").contains(url_part), "{url}");
    }
    browser.close().await
}

#[tokio::test]
async fn reloading_a_url_with_filters_restores_the_view() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    let browser = Browser::start().await?;
    let query = "filter=customer_name.equals%3ACoho+Winery&plan=Business&plan=Enterprise&plan=Elite&sort=-created_on";
    let expected = {
        browser.client.goto(&server.url("/")).await?;
        wait_for_rows(&browser).await?;
        api_total(&browser, query).await?
    };
    assert!(expected > 0);
    browser
        .client
        .goto(&server.url(&format!("/?{query}")))
        .await?;
    for pass in ["first load", "after reload"] {
        let total = wait_for_rows(&browser).await?;
        assert_eq!(total, expected, "{pass}");
        let customer = column_index(&browser, "customer_name").await?;
        let rows = rendered_rows(&browser).await?;
        assert!(rows.iter().all(|r| r[customer] == "Coho Winery"), "{pass}");
        let chip = browser
            .client
            .find(Locator::Css(".chip-label"))
            .await?
            .text()
            .await?;
        assert_eq!(chip, "Customer Name equals Coho Winery", "{pass}");
        let sort = browser
            .client
            .find(Locator::Css("th[data-field=created_on]"))
            .await?
            .attr("aria-sort")
            .await?;
        assert_eq!(sort.as_deref(), Some("descending"), "{pass}");
        let plans = browser
            .client
            .find(Locator::Css(".multi-select summary"))
            .await?
            .text()
            .await?;
        assert!(
            plans.contains("Business") && plans.contains("Elite"),
            "{pass}: {plans}"
        );
        browser.client.refresh().await?;
    }
    browser.close().await
}

#[tokio::test]
async fn a_filter_that_matches_nothing_shows_the_empty_state() -> Result<()> {
    let server = TestServer::start(200).await?;
    let browser = Browser::start().await?;
    browser
        .client
        .goto(&server.url("/?filter=user_email.contains%3Ano-such-user-anywhere"))
        .await?;
    let heading = browser
        .eventually("the empty state", || async {
            match browser.client.find(Locator::Css(".empty-state h2")).await {
                Ok(element) => Ok(Some(element.text().await?)),
                Err(_) => Ok(None),
            }
        })
        .await?;
    assert_eq!(heading, "No users match");
    browser
        .client
        .find(Locator::Css(".empty-state button"))
        .await?
        .click()
        .await?;
    let total = wait_for_rows(&browser).await?;
    assert_eq!(total, 200);
    browser.close().await
}
