//! SCIM provisioning end to end: a token generated in the page provisions a user over
//! `/scim/v2`, the user shows in the report, and a revoked token stops working.

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use fantoccini::key::Key;
use fantoccini::Locator;
use provisio_api::auth::Role;
use provisio_api::scim::IdentityProvider;
use provisio_e2e::{Browser, TestServer};
use provisio_server::auth::hash_token;
use provisio_server::db::scim_tokens::{self, NewToken};
use serde_json::{json, Value};

fn okta_user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Grace", "familyName": "Hopper"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Grace Hopper",
        "active": true
    })
}

#[tokio::test]
async fn a_token_from_the_page_provisions_a_user_until_it_is_revoked() -> Result<()> {
    let server = TestServer::start(60).await?;
    let browser = Browser::start().await?;
    browser
        .sign_in(&server, Role::CustomerAdmin, "/scim")
        .await?;

    let tenant_url = browser
        .eventually("the Tenant URL", || async {
            let value = browser
                .eval("const i = document.querySelector('input[aria-label=\"Tenant URL\"]'); return i ? i.value : '';")
                .await?;
            Ok(value.as_str().filter(|v| !v.is_empty()).map(str::to_owned))
        })
        .await?;
    assert_eq!(tenant_url, server.url("/scim/v2"));
    browser
        .eventually("the empty token list", || async {
            Ok(browser
                .client
                .find(Locator::Css(".empty-state"))
                .await
                .ok()
                .map(|_| ()))
        })
        .await?;

    // Generate: name, identity provider, expiry.
    browser.click(".generate-token").await?;
    let form = browser
        .client
        .find(Locator::Css("form.generate-form"))
        .await?;
    form.find(Locator::Css("input[name=token_name]"))
        .await?
        .send_keys("Okta production")
        .await?;
    form.find(Locator::Css("select[name=identity_provider]"))
        .await?
        .select_by_value("okta")
        .await?;
    form.find(Locator::Css("select[name=lifetime_days]"))
        .await?
        .select_by_value("90")
        .await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;

    // The secret shows once, in a dialog that only the confirmation closes.
    let token = browser
        .eventually("the token dialog", || async {
            let value = browser
                .eval("const i = document.querySelector('.token-dialog input.token-secret'); return i ? i.value : '';")
                .await?;
            Ok(value.as_str().filter(|v| !v.is_empty()).map(str::to_owned))
        })
        .await?;
    assert!(token.starts_with("pvs_"), "{token}");
    // Escape does not close it: only the confirmation does, so the secret cannot be lost.
    browser
        .client
        .active_element()
        .await?
        .send_keys(&Key::Escape.to_string())
        .await?;
    let still_open = browser
        .eval("const d = document.querySelector('.token-dialog'); return !!(d && d.open);")
        .await?;
    assert_eq!(still_open, json!(true));
    browser.click(".token-dialog .copy-button").await?;
    let copy_status = browser
        .eventually("the copy outcome", || async {
            let text = browser.text_of(".token-dialog .copy-status").await?;
            Ok((!text.is_empty()).then_some(text))
        })
        .await?;
    assert!(
        copy_status.contains("Copied") || copy_status.contains("Ctrl+C"),
        "{copy_status}"
    );
    let done = browser.client.find(Locator::Css(".token-done")).await?;
    assert_eq!(done.attr("disabled").await?.as_deref(), Some("true"));
    browser.click(".token-dialog input[name=stored]").await?;
    done.click().await?;
    browser
        .eventually("the dialog to close", || async {
            Ok(browser
                .client
                .find(Locator::Css(".token-dialog"))
                .await
                .is_err()
                .then_some(()))
        })
        .await?;
    let row = browser
        .eventually("the new token in the list", || async {
            let row = browser.text_of(".tokens-table tbody tr").await?;
            Ok((!row.is_empty()).then_some(row))
        })
        .await?;
    assert!(
        row.contains("Okta production") && row.contains("Active"),
        "{row}"
    );
    assert!(
        row.contains(&token[..12]),
        "the row shows the prefix: {row}"
    );
    assert!(!row.contains(&token), "the row never shows the secret");
    assert!(
        !browser
            .eval("return document.body.innerHTML")
            .await?
            .as_str()
            .unwrap_or_default()
            .contains(&token),
        "once closed, the secret is gone from the page"
    );

    // The identity provider creates a user; the report shows it at once, managed by Okta.
    let (status, created) = browser
        .scim(
            "POST",
            "/scim/v2/Users",
            &token,
            Some(okta_user("grace.hopper@northwind.example")),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    browser
        .client
        .goto(&server.url("/?filter=user_email.contains%3Agrace.hopper%40northwind.example"))
        .await?;
    browser
        .wait_for_total(1, "the provisioned user in the report")
        .await?;
    let rows = browser.rendered_rows().await?;
    let managed_by = browser.column_index("managed_by").await?;
    let status_column = browser.column_index("user_status").await?;
    assert_eq!(rows[0][managed_by], "Okta");
    assert_eq!(rows[0][status_column], "Active");

    // A token of another customer cannot see or touch this customer's user, nor the reverse.
    let other_customer: i64 =
        sqlx::query_scalar("SELECT id FROM customers WHERE name <> 'Northwind Traders' LIMIT 1")
            .fetch_one(&server.pool)
            .await?;
    let other_token = "pvs_0ther000_e2e-token-of-another-customer";
    scim_tokens::insert(
        &server.pool.clone().into(),
        &NewToken {
            customer_id: other_customer,
            name: "Other IdP",
            identity_provider: IdentityProvider::EntraId,
            prefix: "pvs_0ther000",
            token_hash: &hash_token(other_token),
            created_by: "e2e",
            expires_at: Utc::now() + Duration::days(30),
        },
        2,
    )
    .await?
    .context("the customer already has two active tokens")?;
    let id = created["id"].as_str().context("SCIM id")?;
    let (status, _) = browser
        .scim("GET", &format!("/scim/v2/Users/{id}"), other_token, None)
        .await?;
    assert_eq!(status, 404);
    let (status, _) = browser
        .scim(
            "PATCH",
            &format!("/scim/v2/Users/{id}"),
            other_token,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "value": {"active": false}}]}),
            ),
        )
        .await?;
    assert_eq!(status, 404);
    let (status, found) = browser
        .scim(
            "GET",
            "/scim/v2/Users?filter=userName%20eq%20%22grace.hopper%40northwind.example%22",
            other_token,
            None,
        )
        .await?;
    assert_eq!((status, found["totalResults"].as_u64()), (200, Some(0)));
    let (status, theirs) = browser
        .scim(
            "POST",
            "/scim/v2/Users",
            other_token,
            Some(okta_user("alan.turing@elsewhere.example")),
        )
        .await?;
    assert_eq!(status, 201, "{theirs}");
    let their_id = theirs["id"].as_str().context("SCIM id")?;
    let (status, _) = browser
        .scim(
            "DELETE",
            &format!("/scim/v2/Users/{their_id}"),
            &token,
            None,
        )
        .await?;
    assert_eq!(status, 404);
    let (_, still_active) = browser
        .scim("GET", &format!("/scim/v2/Users/{id}"), &token, None)
        .await?;
    assert_eq!(still_active["active"], json!(true));

    // Revoke with confirmation; the next SCIM call with it is refused.
    browser.client.goto(&server.url("/scim")).await?;
    browser
        .eventually("the token row", || async {
            Ok(browser
                .client
                .find(Locator::Css(".tokens-table .revoke"))
                .await
                .ok())
        })
        .await?
        .click()
        .await?;
    browser.click(".tokens-table .confirm-yes").await?;
    browser
        .eventually("the revoked status", || async {
            let row = browser
                .text_of(".tokens-table tbody tr")
                .await
                .unwrap_or_default();
            Ok(row.contains("Revoked").then_some(()))
        })
        .await?;
    let (status, error) = browser.scim("GET", "/scim/v2/Users", &token, None).await?;
    assert_eq!(status, 401, "{error}");
    assert_eq!(error["status"], json!("401"));

    browser.close().await
}

#[tokio::test]
async fn the_custom_attribute_chosen_on_the_page_fills_the_report_from_scim() -> Result<()> {
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let server = TestServer::start(40).await?;
    let northwind = server.customer_id("Northwind Traders").await?;
    let token = "pvs_custom01_e2e-token-for-the-custom-attribute";
    server.scim_token(northwind, token).await?;
    let browser = Browser::start().await?;
    browser
        .sign_in(&server, Role::CustomerAdmin, "/scim")
        .await?;
    let mut user = okta_user("ada.lovelace@northwind.example");
    user[ENTERPRISE] = json!({"employeeNumber": "E-1815"});
    let (status, created) = browser
        .scim("POST", "/scim/v2/Users", token, Some(user))
        .await?;
    assert_eq!(status, 201, "{created}");

    let select = browser
        .eventually("the custom attribute setting", || async {
            Ok(browser
                .client
                .find(Locator::Css(
                    ".custom-attribute-form select[name=custom-attribute]",
                ))
                .await
                .ok())
        })
        .await?;
    select.select_by_value("employeeNumber").await?;
    browser
        .click(".custom-attribute-form button[type=submit]")
        .await?;
    browser
        .wait_for_text(".custom-attribute-form .form-status", "Saved")
        .await?;

    browser
        .client
        .goto(&server.url("/?filter=user_email.equals%3Aada.lovelace%40northwind.example"))
        .await?;
    browser
        .wait_for_total(1, "the SCIM user in the report")
        .await?;
    let rows = browser.rendered_rows().await?;
    let name = browser.column_index("custom_attribute_name").await?;
    let value = browser.column_index("custom_attribute_value").await?;
    assert_eq!(
        (rows[0][name].as_str(), rows[0][value].as_str()),
        ("employeeNumber", "E-1815")
    );

    // Reloaded, the page shows the saved choice.
    browser.client.goto(&server.url("/scim")).await?;
    browser
        .eventually("the saved choice", || async {
            let chosen = browser
                .eval("const s = document.querySelector('.custom-attribute-form select'); return s ? s.value : '';")
                .await?;
            Ok((chosen == json!("employeeNumber")).then_some(()))
        })
        .await?;
    browser.close().await
}
