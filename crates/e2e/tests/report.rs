//! The User Provisioning report in real headless Chromium against the real server.

use anyhow::Result;
use fantoccini::Locator;
use provisio_api::auth::Role;
use provisio_e2e::{Browser, TestServer};

const DEMO_USERS: u64 = 2_000;

#[tokio::test]
async fn report_page_shows_demo_rows_with_the_thirteen_columns_and_a_bounded_dom() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    let browser = Browser::start().await?;
    browser.sign_in(&server, Role::MspAdmin, "/").await?;
    let total = browser.wait_for_rows().await?;
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

    let rows = browser.rendered_rows().await?;
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
    let rows = browser.rendered_rows().await?;
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
    browser.sign_in(&server, Role::MspAdmin, "/").await?;
    let unfiltered = browser.wait_for_rows().await?;

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

    let expected = browser
        .api_total("filter=user_status.any_of%3APreserved")
        .await?;
    assert!(expected > 0 && expected < unfiltered);
    browser
        .wait_for_total(expected, "the filtered total")
        .await?;
    let url = browser.client.current_url().await?;
    assert!(
        url.query()
            .unwrap_or("")
            .contains("filter=user_status.any_of%3APreserved"),
        "URL holds the filter: {url}"
    );
    let status = browser.column_index("user_status").await?;
    let rows = browser.rendered_rows().await?;
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
        .wait_for_total(unfiltered, "the unfiltered total")
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
        .wait_for_total(expected, "the filtered total after Back")
        .await?;
    browser.close().await
}

#[tokio::test]
async fn clicking_a_header_sorts_the_rows_both_ways() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    let browser = Browser::start().await?;
    browser.sign_in(&server, Role::MspAdmin, "/").await?;
    browser.wait_for_rows().await?;
    let usage = browser.column_index("endpoints_usage_mb").await?;
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
                // One read: the header may be re-rendered between a find and an attribute read.
                let sorted = browser
                    .eval(&format!(
                        "const h = document.querySelector(\"{header}\"); return h ? h.getAttribute('aria-sort') : null;"
                    ))
                    .await?;
                if sorted.as_str() != Some(direction) {
                    return Ok(None);
                }
                let values = usages(browser.rendered_rows().await?);
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
        browser.sign_in(&server, Role::MspAdmin, "/").await?;
        browser.wait_for_rows().await?;
        browser.api_total(query).await?
    };
    assert!(expected > 0);
    browser
        .client
        .goto(&server.url(&format!("/?{query}")))
        .await?;
    for pass in ["first load", "after reload"] {
        let total = browser.wait_for_rows().await?;
        assert_eq!(total, expected, "{pass}");
        let customer = browser.column_index("customer_name").await?;
        let rows = browser.rendered_rows().await?;
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
        .sign_in(
            &server,
            Role::MspAdmin,
            "/?filter=user_email.contains%3Ano-such-user-anywhere",
        )
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
    let total = browser.wait_for_rows().await?;
    assert_eq!(total, 200);
    browser.close().await
}
