//! The mapping editor end to end, in real headless Chromium: build mappings like the seeds'
//! use case (a group first, then a location), see the live preview, reorder by dragging and
//! by keyboard, confirm the diff, see the users' placement change in the report, and have
//! "Test a user" explain it.

use anyhow::{Context, Result};
use fantoccini::key::Key;
use fantoccini::Locator;
use provisio_api::auth::Role;
use provisio_e2e::{Browser, TestServer};
use serde_json::{json, Value};

const TOKEN: &str = "pvs_mapping00_e2e-token-for-the-mapping-editor";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user(email: &str, extra: Value) -> Value {
    let mut user = json!({"userName": email, "emails": [{"value": email, "primary": true}],
        "name": {"givenName": "Test", "familyName": "User"}, "active": true});
    if let (Some(user), Some(extra)) = (user.as_object_mut(), extra.as_object()) {
        user.extend(extra.clone());
    }
    user
}

/// Pushes three users and a Finance group over SCIM, as Entra ID would.
async fn provision(browser: &Browser) -> Result<()> {
    let london = json!({"addresses": [{"type": "work", "locality": "London"}]});
    let mut finance = london.clone();
    finance[ENTERPRISE] = json!({"department": "Finance"});
    let mut ids = Vec::new();
    for (email, extra) in [
        ("fin@northwind.example", finance),
        ("lon@northwind.example", london),
        ("oth@northwind.example", json!({})),
    ] {
        let (status, created) = browser
            .scim("POST", "/scim/v2/Users", TOKEN, Some(user(email, extra)))
            .await?;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().context("id")?.to_owned());
    }
    let group = json!({"displayName": "Finance", "members": [{"value": ids[0]}]});
    let (status, created) = browser
        .scim("POST", "/scim/v2/Groups", TOKEN, Some(group))
        .await?;
    assert_eq!(status, 201, "{created}");
    Ok(())
}

/// The mapping names in the list, highest priority first.
async fn mapping_order(browser: &Browser) -> Result<Vec<String>> {
    let names = browser
        .eval("return Array.from(document.querySelectorAll('tr.mapping-row')).map(r => r.dataset.mapping);")
        .await?;
    Ok(serde_json::from_value(names)?)
}

/// Confirms the open change dialog once its diff is shown, waits for it to close and for the
/// re-evaluation it starts to place every user.
async fn confirm_change(browser: &Browser, diff_says: &str) -> Result<()> {
    browser
        .wait_for_text(".change-dialog .diff-total", diff_says)
        .await?;
    browser.click(".change-dialog .confirm-change").await?;
    browser
        .eventually("the dialog to close", || async {
            Ok(browser
                .client
                .find(Locator::Css(".change-dialog"))
                .await
                .is_err()
                .then_some(()))
        })
        .await?;
    browser
        .wait_for_text(".notice", "Every user is placed by the new mappings")
        .await
}

/// Fills the open form: name, then `kind` and what it needs, then profile and region by index.
async fn fill_form(browser: &Browser, name: &str, profile: usize, region: usize) -> Result<()> {
    let form = browser
        .eventually("the mapping form", || async {
            Ok(browser
                .client
                .find(Locator::Css(".mapping-form"))
                .await
                .ok())
        })
        .await?;
    form.find(Locator::Css("input[name=name]"))
        .await?
        .send_keys(name)
        .await
        .context("typing the name")?;
    form.find(Locator::Css("select[name=profile]"))
        .await?
        .select_by_index(profile)
        .await
        .context("choosing the profile")?;
    form.find(Locator::Css("select[name=storage-region]"))
        .await?
        .select_by_index(region)
        .await
        .context("choosing the region")?;
    Ok(())
}

/// The Profile and Storage Region cells of the report's row for `email`, with the region
/// column added through the URL as the Columns panel would.
async fn report_placement(
    browser: &Browser,
    server: &TestServer,
    email: &str,
) -> Result<(String, String)> {
    let query = format!(
        "/?filter=user_email.equals%3A{}&cols=user_email,profile,storage_region",
        email.replace('@', "%40")
    );
    browser.client.goto(&server.url(&query)).await?;
    browser
        .wait_for_total(1, &format!("the row of {email}"))
        .await?;
    let profile = browser.column_index("profile").await?;
    let region = browser.column_index("storage_region").await?;
    let row = browser.rendered_rows().await?.remove(0);
    Ok((row[profile].clone(), row[region].clone()))
}

#[tokio::test]
async fn an_admin_builds_mappings_and_users_land_where_they_say() -> Result<()> {
    let server = TestServer::start(40).await?;
    let northwind = server.customer_id("Northwind Traders").await?;
    server.scim_token(northwind, TOKEN).await?;
    let browser = Browser::start().await?;
    browser
        .sign_in(&server, Role::CustomerAdmin, "/mappings")
        .await?;
    provision(&browser).await?;
    let defaults = report_placement(&browser, &server, "fin@northwind.example").await?;

    browser.client.goto(&server.url("/mappings")).await?;
    browser.wait_for_text(".empty-state", "No mappings").await?;

    // A group mapping: the live preview counts the one Finance member.
    browser.click(".add-mapping").await?;
    fill_form(&browser, "Finance", 1, 1).await?;
    browser
        .click(".group-choices input[name=group]")
        .await
        .context("choosing the group")?;
    browser
        .wait_for_text(".preview-matched", "Matches 1 users; places 1")
        .await?;
    browser.click(".review-mapping").await?;
    confirm_change(&browser, "3 of 3 users change placement").await?;
    browser
        .wait_for_text("tr.mapping-row[data-mapping='Finance'] .mapping-users", "1")
        .await?;
    let finance = report_placement(&browser, &server, "fin@northwind.example").await?;
    assert_ne!(
        finance.0, defaults.0,
        "the Finance mapping changed their profile"
    );
    assert_ne!(finance.1, defaults.1, "and their storage region");

    // An attribute mapping below it: it matches both Londoners, the group takes one.
    browser.client.goto(&server.url("/mappings")).await?;
    browser
        .eventually("the add button", || async {
            Ok(browser.client.find(Locator::Css(".add-mapping")).await.ok())
        })
        .await?
        .click()
        .await?;
    fill_form(&browser, "London", 0, 0).await?;
    browser
        .click("input[name=match-kind][value=attribute]")
        .await?;
    browser
        .client
        .find(Locator::Css("select[name=attribute]"))
        .await?
        .select_by_value("locality")
        .await?;
    browser.type_into("input[name=values]", "london").await?;
    browser
        .wait_for_text(".preview-matched", "Matches 2 users; places 1")
        .await?;
    browser
        .wait_for_text(".preview-taken", "1 of them are taken")
        .await?;
    browser.click(".review-mapping").await?;
    confirm_change(&browser, "1 of 3 users change placement").await?;
    assert_eq!(mapping_order(&browser).await?, ["Finance", "London"]);

    // The keyboard proposes a move; cancelling it changes nothing.
    let chord: String = [Key::Alt, Key::Shift, Key::Up]
        .into_iter()
        .map(char::from)
        .collect();
    browser
        .type_into("tr.mapping-row[data-mapping='London'] .move-handle", &chord)
        .await?;
    browser
        .wait_for_text(".mapping-announcer", "“London” to priority 1 of 2")
        .await?;
    browser
        .wait_for_text(
            ".change-dialog .diff-total",
            "1 of 3 users change placement",
        )
        .await?;
    browser.click(".change-dialog .button.secondary").await?;
    assert_eq!(mapping_order(&browser).await?, ["Finance", "London"]);

    // With a region-move threshold of 0, moving anyone's region asks for the customer's name.
    browser.click(".mapping-settings summary").await?;
    let threshold = browser
        .client
        .find(Locator::Css("input[name=region-move-threshold]"))
        .await?;
    threshold.clear().await?;
    threshold.send_keys("0").await?;
    browser
        .click(".mapping-settings button[type=submit]")
        .await?;
    browser
        .wait_for_text(".mapping-settings .hint", "Saved.")
        .await?;

    // Dragging London above Finance, confirmed, gives the Londoner in Finance to London.
    browser
        .drag(
            "tr.mapping-row[data-mapping='London'] td.mapping-name",
            "tr.mapping-row[data-mapping='Finance'] td.mapping-name",
            (0, -8),
        )
        .await?;
    browser
        .wait_for_text(
            ".change-dialog .diff-total",
            "1 of 3 users change placement",
        )
        .await?;
    // The settings panel kept its confirmation through all that: saving does not reload it.
    assert_eq!(browser.text_of(".mapping-settings .hint").await?, "Saved.");
    let blocked = browser
        .eval("return document.querySelector('.change-dialog .confirm-change').disabled;")
        .await?;
    assert_eq!(
        blocked,
        Value::Bool(true),
        "the customer's name comes first"
    );
    browser
        .type_into("input[name=confirm-customer]", "Northwind Traders")
        .await?;
    confirm_change(&browser, "1 of 3 users change placement").await?;
    browser
        .eventually("the new order", || async {
            Ok((mapping_order(&browser).await? == ["London", "Finance"]).then_some(()))
        })
        .await?;

    // "Test a user" explains the placement, mapping by mapping.
    browser
        .type_into("input[name=test-email]", "fin@northwind.example")
        .await?;
    browser.click(".test-user button[type=submit]").await?;
    browser
        .wait_for_text(".explanation-verdict", "placed by \"London\" (priority 1)")
        .await?;
    browser
        .wait_for_text(".verdicts", "member of group Finance")
        .await?;

    let london = report_placement(&browser, &server, "fin@northwind.example").await?;
    assert_eq!(
        london.0, defaults.0,
        "London places them on the first profile"
    );
    assert_ne!(london.1, finance.1, "and in London's storage region");
    browser.close().await
}
