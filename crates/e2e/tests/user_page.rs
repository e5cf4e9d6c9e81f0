//! A user's page end to end, in real headless Chromium: opened from the report, it shows the
//! user's history; preserving and restoring them there is confirmed, recorded, and seen in the
//! report; once preserved, they are deleted for good after their email is typed.

use anyhow::{Context, Result};
use provisio_api::auth::Role;
use provisio_e2e::{Browser, TestServer};

/// Opens the report filtered to `email` and returns the User Status cell.
async fn report_status(browser: &Browser, server: &TestServer, email: &str) -> Result<String> {
    report_cell(browser, server, email, "user_status").await
}

/// Opens the report filtered to `email` and returns the cell of `field`.
async fn report_cell(
    browser: &Browser,
    server: &TestServer,
    email: &str,
    field: &str,
) -> Result<String> {
    let query = format!("/?filter=user_email.equals%3A{}", email.replace('@', "%40"));
    browser.client.goto(&server.url(&query)).await?;
    browser
        .wait_for_total(1, &format!("the row of {email}"))
        .await?;
    let column = browser.column_index(field).await?;
    Ok(browser.rendered_rows().await?[0][column].clone())
}

#[tokio::test]
async fn an_admin_opens_a_user_from_the_report_and_preserves_and_restores_them() -> Result<()> {
    let server = TestServer::start(60).await?;
    let (email, name): (String, String) = sqlx::query_as(
        "SELECT u.email, u.user_name FROM users u JOIN customers c ON c.id = u.customer_id \
         WHERE c.name = 'Northwind Traders' AND u.status = 'Active' ORDER BY u.id LIMIT 1",
    )
    .fetch_one(&server.pool)
    .await
    .context("an active Northwind user")?;
    let browser = Browser::start().await?;
    browser.sign_in(&server, Role::CustomerAdmin, "/").await?;
    assert_eq!(report_status(&browser, &server, &email).await?, "Active");

    browser.click("a.user-link").await?;
    browser.wait_for_text(".user-page h1", &name).await?;
    browser
        .wait_for_text(".user-page .subtitle", &email)
        .await?;
    browser.wait_for_text(".timeline", "History").await?;

    browser.click(".user-action").await?;
    browser
        .wait_for_text(".user-actions .confirm", "Preserve?")
        .await?;
    browser.click(".user-actions .confirm-yes").await?;
    browser.wait_for_text(".user-status", "Preserved").await?;
    let admin = server.admin(Role::CustomerAdmin).email;
    browser
        .wait_for_text(".timeline-entry[data-action=preserve]", admin)
        .await?;
    browser
        .wait_for_text(
            ".timeline-entry[data-action=preserve] .timeline-changes",
            "status: Active → Preserved",
        )
        .await?;
    let page = browser.client.current_url().await?;
    assert_eq!(report_status(&browser, &server, &email).await?, "Preserved");

    browser.client.goto(page.as_str()).await?;
    browser
        .eventually("the Restore button", || async {
            Ok(browser
                .text_of(".user-action")
                .await?
                .contains("Restore")
                .then_some(()))
        })
        .await?;
    browser.click(".user-action").await?;
    browser.click(".user-actions .confirm-yes").await?;
    browser.wait_for_text(".user-status", "Active").await?;
    browser.wait_for_text(".timeline-list", "restore").await?;
    assert_eq!(report_status(&browser, &server, &email).await?, "Active");

    // Preserved again, they can be deleted for good once their email is typed out.
    browser.client.goto(page.as_str()).await?;
    browser.wait_for_text(".user-action", "Preserve").await?;
    browser.click(".user-action").await?;
    browser.click(".user-actions .confirm-yes").await?;
    browser.wait_for_text(".user-status", "Preserved").await?;
    browser.click(".delete-user").await?;
    let blocked = browser
        .eval("return document.querySelector('.confirm-delete').disabled;")
        .await?;
    assert_eq!(
        blocked,
        serde_json::Value::Bool(true),
        "the email comes first"
    );
    browser
        .type_into("input[name=confirm-email]", &email)
        .await?;
    browser.click(".confirm-delete").await?;
    browser
        .eventually("the report after the deletion", || async {
            let url = browser.client.current_url().await?;
            Ok((url.path() == "/").then_some(()))
        })
        .await?;
    let query = format!("filter=user_email.equals%3A{}", email.replace('@', "%40"));
    assert_eq!(browser.api_total(&query).await?, 0, "gone from the report");
    browser.close().await
}

#[tokio::test]
async fn an_admin_places_a_user_by_hand_and_returns_them_to_the_mappings() -> Result<()> {
    let server = TestServer::start(60).await?;
    let (id, email, profile, other_profile): (i64, String, String, String) = sqlx::query_as(
        "SELECT u.id, u.email, p.name, (SELECT o.name FROM profiles o \
                WHERE o.customer_id = u.customer_id AND o.id <> u.profile_id ORDER BY o.id LIMIT 1) \
         FROM users u JOIN customers c ON c.id = u.customer_id \
         JOIN profiles p ON p.id = u.profile_id \
         WHERE c.name = 'Northwind Traders' AND u.status = 'Active' ORDER BY u.id LIMIT 1",
    )
    .fetch_one(&server.pool)
    .await
    .context("an active Northwind user, and another profile of Northwind")?;
    let browser = Browser::start().await?;
    browser
        .sign_in(&server, Role::CustomerAdmin, &format!("/users/{id}"))
        .await?;
    browser.wait_for_text(".user-facts", &profile).await?;

    browser.click(".place-by-hand").await?;
    browser
        .wait_for_text(".placement-form", "The mappings pass this user by")
        .await?;
    browser
        .eventually("the customer's profiles offered", || async {
            let count = browser
                .eval("return document.querySelectorAll('.placement-form select[name=profile] option').length;")
                .await?;
            Ok(count.as_u64().filter(|n| *n > 0).map(|_| ()))
        })
        .await?;
    browser
        .type_into(".placement-form input[name=quota]", "abc")
        .await?;
    browser.click(".placement-form button[type=submit]").await?;
    browser
        .wait_for_text(".placement-form .field-error", "whole number of GB")
        .await?;
    browser
        .eval("const q = document.querySelector('.placement-form input[name=quota]'); q.value = ''; q.dispatchEvent(new Event('input')); return null;")
        .await?;
    browser
        .type_into(".placement-form input[name=quota]", "250")
        .await?;
    // Another of the customer's profiles, chosen as a keyboard user would.
    let select = browser
        .client
        .find(fantoccini::Locator::Css(
            ".placement-form select[name=profile]",
        ))
        .await?;
    select.select_by_label(&other_profile).await?;
    browser.click(".placement-form button[type=submit]").await?;
    browser.wait_for_text(".user-facts", "by hand").await?;
    browser.wait_for_text(".user-facts", "250 GB").await?;
    browser.wait_for_text(".user-facts", &other_profile).await?;
    let page = browser.client.current_url().await?;
    assert_eq!(
        report_cell(&browser, &server, &email, "profile").await?,
        other_profile,
        "the report shows the profile placed by hand"
    );
    browser.client.goto(page.as_str()).await?;
    browser.wait_for_text(".user-facts", "by hand").await?;
    browser
        .wait_for_text(".timeline-entry[data-action=place]", "placedByHand")
        .await?;

    browser.click(".return-to-mappings").await?;
    browser
        .eventually("the user back with the mappings", || async {
            let facts = browser.text_of(".user-facts").await?;
            Ok((!facts.contains("by hand")).then_some(()))
        })
        .await?;
    assert!(browser
        .client
        .find(fantoccini::Locator::Css(".return-to-mappings"))
        .await
        .is_err());
    browser.close().await
}

#[tokio::test]
async fn an_admin_acts_on_selected_users_and_on_every_match_after_a_dry_run() -> Result<()> {
    let server = TestServer::start(60).await?;
    let browser = Browser::start().await?;
    browser
        .sign_in(
            &server,
            Role::CustomerAdmin,
            "/?filter=user_status.any_of%3AActive&sort=user_email",
        )
        .await?;
    let active = browser.wait_for_rows().await?;
    assert!(active > 2, "the demo has active Northwind users");
    let column = browser.column_index("user_email").await?;
    let rows = browser.rendered_rows().await?;
    let picked = [rows[0][column].clone(), rows[1][column].clone()];
    browser
        .click("tbody tr.row:nth-of-type(2) .select-row")
        .await?;
    browser
        .click("tbody tr.row:nth-of-type(3) .select-row")
        .await?;
    browser
        .wait_for_text(".bulk-count", "2 users selected")
        .await?;
    browser.click(".bulk-preserve").await?;
    browser
        .wait_for_text(".bulk-confirm", "Preserve 2 users?")
        .await?;
    let status_of = |email: String| {
        let pool = server.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status FROM users WHERE email = ?")
                .bind(email)
                .fetch_one(&pool)
                .await
        }
    };
    assert_eq!(
        status_of(picked[0].clone()).await?,
        "Active",
        "asking changes nothing"
    );
    browser.click(".bulk-confirm-yes").await?;
    browser
        .wait_for_text(".bulk-done", "Preserved 2 users.")
        .await?;
    browser
        .wait_for_total(active - 2, "the preserved users gone from Active")
        .await?;
    for email in &picked {
        assert_eq!(status_of(email.clone()).await?, "Preserved");
    }

    // One of them placed by hand on another profile of the customer, with a quota.
    browser
        .click("tbody tr.row:nth-of-type(2) .select-row")
        .await?;
    browser
        .wait_for_text(".bulk-count", "1 user selected")
        .await?;
    browser.click(".bulk-place").await?;
    browser
        .eventually("the customer's profiles offered", || async {
            let count = browser
                .eval("return document.querySelectorAll('.bulk-bar select[name=profile] option').length;")
                .await?;
            Ok(count.as_u64().filter(|n| *n > 1).map(|_| ()))
        })
        .await?;
    browser
        .eval("const s = document.querySelector('.bulk-bar select[name=profile]'); s.selectedIndex = 1; s.dispatchEvent(new Event('change')); return null;")
        .await?;
    browser
        .type_into(".bulk-bar input[name=quota]", "75")
        .await?;
    browser
        .click(".bulk-bar .placement-form button[type=submit]")
        .await?;
    browser
        .wait_for_text(".bulk-confirm", "Place by hand 1 user?")
        .await?;
    browser.click(".bulk-confirm-yes").await?;
    browser
        .wait_for_text(".bulk-done", "Placed 1 user by hand.")
        .await?;
    let placed: (bool, Option<i64>) = sqlx::query_as(
        "SELECT u.placement_manual, u.quota_gb FROM users u \
         WHERE u.status = 'Active' AND u.customer_id = (SELECT id FROM customers \
         WHERE name = 'Northwind Traders') ORDER BY u.email COLLATE NOCASE LIMIT 1",
    )
    .fetch_one(&server.pool)
    .await?;
    assert_eq!(placed, (true, Some(75)), "the first row is placed by hand");

    // One preserved user deleted for good, once the word is typed.
    let query = "/?filter=user_status.any_of%3APreserved";
    browser.client.goto(&server.url(query)).await?;
    let before = browser.wait_for_rows().await?;
    let gone = browser.rendered_rows().await?[0][column].clone();
    browser
        .click("tbody tr.row:nth-of-type(2) .select-row")
        .await?;
    browser.click(".bulk-delete").await?;
    browser
        .wait_for_text(".bulk-confirm", "Delete permanently 1 user?")
        .await?;
    let blocked = browser
        .eval("return document.querySelector('.bulk-confirm-yes').disabled;")
        .await?;
    assert_eq!(
        blocked,
        serde_json::Value::Bool(true),
        "the word comes first"
    );
    browser
        .type_into("input[name=confirm-bulk-delete]", "delete")
        .await?;
    browser.click(".bulk-confirm-yes").await?;
    browser
        .wait_for_text(".bulk-done", "Deleted 1 user permanently.")
        .await?;
    browser
        .wait_for_total(before - 1, "one preserved user fewer")
        .await?;
    let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = ?")
        .bind(&gone)
        .fetch_one(&server.pool)
        .await?;
    assert_eq!(remaining, 0, "{gone} is gone");

    // Every preserved user the filters match, ticked from the header, restored at once.
    let preserved = browser.wait_for_rows().await?;
    browser.click("thead .select-all").await?;
    browser
        .wait_for_text(".bulk-count", &format!("{preserved} users selected"))
        .await?;
    browser.click(".bulk-restore").await?;
    browser
        .wait_for_text(".bulk-confirm", &format!("Restore {preserved} users?"))
        .await?;
    browser.click(".bulk-confirm-yes").await?;
    browser
        .wait_for_text(".empty-state", "No users match")
        .await?;
    for email in picked.iter().filter(|email| **email != gone) {
        assert_eq!(status_of(email.clone()).await?, "Active");
    }
    browser.close().await
}
