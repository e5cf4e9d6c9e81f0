//! Sign-in, roles and isolation in real headless Chromium.

use anyhow::{Context, Result};
use fantoccini::Locator;
use provisio_api::auth::Role;
use provisio_e2e::{Browser, TestServer};

const DEMO_USERS: u64 = 1_500;

#[tokio::test]
async fn a_visit_without_a_session_asks_to_sign_in_and_returns_to_the_view() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    let browser = Browser::start().await?;
    browser
        .client
        .goto(&server.url("/?sort=-created_on"))
        .await?;
    browser
        .eventually("the sign-in page", || async {
            let url = browser.client.current_url().await?;
            Ok((url.path() == "/sign-in").then_some(()))
        })
        .await?;
    let unauthenticated = browser
        .fetch_json("/api/v1/reports/user-provisioning")
        .await?;
    assert_eq!(unauthenticated["error"]["code"], "unauthorized");

    let admin = server.admin(Role::ReadOnly);
    browser
        .fill_sign_in(admin.email, "not the password at all")
        .await?;
    let error = browser
        .eventually("the sign-in error", || async {
            match browser
                .client
                .find(Locator::Css(".sign-in-card .form-error"))
                .await
            {
                Ok(element) => Ok(Some(element.text().await?)),
                Err(_) => Ok(None),
            }
        })
        .await?;
    assert_eq!(error, "Email or password is incorrect.");

    browser
        .client
        .find(Locator::Css("input[name=email]"))
        .await?
        .clear()
        .await?;
    browser.fill_sign_in(admin.email, &admin.password).await?;
    browser.wait_for_rows().await?;
    let url = browser.client.current_url().await?;
    assert_eq!(url.path(), "/");
    assert_eq!(
        url.query(),
        Some("sort=-created_on"),
        "back to the view that was asked for"
    );
    let who = browser
        .client
        .find(Locator::Css(".whoami-role"))
        .await?
        .text()
        .await?;
    assert_eq!(who, "Read-only");
    browser.close().await
}

#[tokio::test]
async fn each_role_sees_exactly_its_customers() -> Result<()> {
    let server = TestServer::start(DEMO_USERS).await?;
    for role in [Role::MspAdmin, Role::CustomerAdmin, Role::ReadOnly] {
        let browser = Browser::start().await?;
        browser.sign_in(&server, role, "/").await?;
        let total = browser.wait_for_rows().await?;
        let admins_link = browser
            .client
            .find_all(Locator::Css("nav a[href='/admins']"))
            .await?;
        let facets = browser
            .fetch_json("/api/v1/reports/user-provisioning/facets")
            .await?;
        let customers: Vec<String> = facets["customers"]
            .as_array()
            .context("customer facet")?
            .iter()
            .filter_map(|c| c["value"].as_str().map(str::to_owned))
            .collect();
        match role {
            Role::CustomerAdmin => {
                assert!(
                    total > 0 && total < DEMO_USERS,
                    "{role:?} sees a part: {total}"
                );
                let customer = browser.column_index("customer_name").await?;
                let rows = browser.rendered_rows().await?;
                assert!(
                    rows.iter().all(|r| r[customer] == "Northwind Traders"),
                    "only Northwind rows"
                );
                assert_eq!(customers, ["Northwind Traders"]);
                assert!(
                    admins_link.is_empty(),
                    "no Admins page for a customer admin"
                );
            }
            _ => {
                assert_eq!(total, DEMO_USERS, "{role:?} sees every customer");
                assert!(customers.len() >= 25);
                assert_eq!(
                    admins_link.len(),
                    usize::from(role == Role::MspAdmin),
                    "{role:?}"
                );
            }
        }
        browser.close().await?;
    }
    Ok(())
}

#[tokio::test]
async fn an_msp_admin_creates_and_disables_an_admin_then_signs_out() -> Result<()> {
    let server = TestServer::start(200).await?;
    let browser = Browser::start().await?;
    browser.sign_in(&server, Role::MspAdmin, "/admins").await?;
    browser
        .eventually("the admins table", || async {
            let rows = browser
                .client
                .find_all(Locator::Css(".admins-table tbody tr"))
                .await?;
            Ok((rows.len() == 3).then_some(()))
        })
        .await?;

    browser
        .client
        .find(Locator::Css(".add-admin"))
        .await?
        .click()
        .await?;
    let form = browser
        .client
        .find(Locator::Css("form.create-admin"))
        .await?;
    form.find(Locator::Css("input[name=email]"))
        .await?
        .send_keys("casey@provisio.example")
        .await?;
    form.find(Locator::Css("input[name=display_name]"))
        .await?
        .send_keys("Casey Viewer")
        .await?;
    form.find(Locator::Css("select[name=role]"))
        .await?
        .select_by_value("read_only")
        .await?;
    form.find(Locator::Css("input[name=password]"))
        .await?
        .send_keys("short")
        .await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    let error = browser
        .eventually("the password error", || async {
            let texts = browser.eval("return Array.from(document.querySelectorAll('form.create-admin .field-error')).map(e => e.textContent).join('');").await?;
            Ok(texts.as_str().filter(|t| !t.is_empty()).map(str::to_owned))
        })
        .await?;
    assert!(error.contains("12 characters"), "{error}");
    let password = form.find(Locator::Css("input[name=password]")).await?;
    password.clear().await?;
    password.send_keys("a long enough password").await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;

    let row = "tr[data-admin='casey@provisio.example']";
    browser
        .eventually("the new admin's row", || async {
            Ok(browser
                .client
                .find(Locator::Css(row))
                .await
                .ok()
                .map(|_| ()))
        })
        .await?;
    browser
        .client
        .find(Locator::Css(&format!("{row} .actions-cell button")))
        .await?
        .click()
        .await?;
    browser
        .client
        .find(Locator::Css(&format!("{row} .confirm-yes")))
        .await?
        .click()
        .await?;
    browser
        .eventually("the disabled status", || async {
            let text = browser.text_of(&format!("{row} td:nth-child(5)")).await?;
            Ok((text == "Disabled").then_some(()))
        })
        .await?;

    browser
        .client
        .find(Locator::Css(".sign-out"))
        .await?
        .click()
        .await?;
    browser
        .eventually("the sign-in page after signing out", || async {
            let url = browser.client.current_url().await?;
            Ok((url.path() == "/sign-in").then_some(()))
        })
        .await?;
    let after = browser.fetch_json("/api/v1/session").await?;
    assert_eq!(after["error"]["code"], "unauthorized");
    browser.close().await
}

#[tokio::test]
async fn changing_the_password_signs_out_and_the_new_password_works() -> Result<()> {
    let server = TestServer::start(100).await?;
    let browser = Browser::start().await?;
    let admin = server.admin(Role::CustomerAdmin);
    browser
        .sign_in(&server, Role::CustomerAdmin, "/account")
        .await?;
    let form = browser
        .eventually("the password form", || async {
            Ok(browser
                .client
                .find(Locator::Css("form.change-password"))
                .await
                .ok())
        })
        .await?;
    let fill = |current: String, new: &'static str, repeat: &'static str| {
        let form = form.clone();
        async move {
            for (name, value) in [
                ("current", current.as_str()),
                ("new", new),
                ("repeat", repeat),
            ] {
                let input = form
                    .find(Locator::Css(&format!("input[name={name}]")))
                    .await?;
                input.clear().await?;
                input.send_keys(value).await?;
            }
            form.find(Locator::Css("button[type=submit]"))
                .await?
                .click()
                .await?;
            anyhow::Ok(())
        }
    };
    fill(
        admin.password.clone(),
        "the new passphrase!",
        "a different one!!!",
    )
    .await?;
    let error = browser
        .client
        .find(Locator::Css("form.change-password .form-error"))
        .await?
        .text()
        .await?;
    assert_eq!(error, "The new passwords do not match.");

    fill(
        admin.password.clone(),
        "the new passphrase!",
        "the new passphrase!",
    )
    .await?;
    browser
        .eventually("the sign-in page after the change", || async {
            let url = browser.client.current_url().await?;
            Ok((url.path() == "/sign-in").then_some(()))
        })
        .await?;
    browser
        .fill_sign_in(admin.email, "the new passphrase!")
        .await?;
    // Signed in again, back on the page that was open.
    browser
        .eventually("the account page again", || async {
            let url = browser.client.current_url().await?;
            let form = browser
                .client
                .find(Locator::Css("form.change-password"))
                .await
                .ok();
            Ok((url.path() == "/account" && form.is_some()).then_some(()))
        })
        .await?;
    browser.close().await
}

#[tokio::test]
async fn a_session_that_ends_on_the_server_sends_any_page_to_sign_in() -> Result<()> {
    let server = TestServer::start(50).await?;
    let browser = Browser::start().await?;
    browser.sign_in(&server, Role::MspAdmin, "/").await?;
    browser.wait_for_rows().await?;
    // The session ends behind the app's back (expired, or signed out in another tab).
    browser
        .eval("return fetch('/api/v1/session', {method: 'DELETE'}).then(r => r.status);")
        .await?;
    browser.click("a[href='/subscriptions']").await?;
    browser
        .eventually("the sign-in page after the 401", || async {
            let url = browser.client.current_url().await?;
            let back = url
                .query_pairs()
                .any(|(key, value)| key == "next" && value == "/subscriptions");
            Ok((url.path() == "/sign-in" && back).then_some(()))
        })
        .await?;
    browser.close().await
}
