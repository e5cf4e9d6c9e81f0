//! Subscribing to the report from the page, and Send now, in real headless Chromium.

use anyhow::{Context, Result};
use fantoccini::Locator;
use mail_parser::{MessageParser, MimeHeaders};
use provisio_api::auth::Role;
use provisio_e2e::{Browser, TestServer};

#[tokio::test]
async fn subscribe_to_the_view_see_next_deliveries_send_now_and_find_the_message() -> Result<()> {
    let server = TestServer::start(300).await?;
    let browser = Browser::start().await?;
    browser
        .sign_in(
            &server,
            Role::MspAdmin,
            "/?filter=user_status.any_of%3AActive&sort=-user_email",
        )
        .await?;
    browser.wait_for_rows().await?;

    // Manage Subscription → subscribe to the view on screen.
    browser.click(".manage-subscription").await?;
    browser
        .eventually("the subscription panel", || async {
            Ok(browser
                .client
                .find(Locator::Css(".new-subscription"))
                .await
                .ok())
        })
        .await?
        .click()
        .await?;
    let form = browser
        .client
        .find(Locator::Css("form.subscription-form"))
        .await?;
    let chips = form
        .find(Locator::Css(".snapshot-chips"))
        .await?
        .text()
        .await?;
    assert!(chips.contains("User Status is any of Active"), "{chips}");
    let name = form
        .find(Locator::Css("input[name=subscription_name]"))
        .await?;
    name.clear().await?;
    name.send_keys("Active users every morning").await?;
    form.find(Locator::Css("textarea[name=recipients]"))
        .await?
        .send_keys("ops@msp.example, lead@msp.example")
        .await?;
    form.find(Locator::Css("select[name=every]"))
        .await?
        .select_by_value("week")
        .await?;
    form.find(Locator::Css("input[name=weekday][value=Thu]"))
        .await?
        .click()
        .await?;
    let upcoming: Vec<String> = serde_json::from_value(
        browser
            .eventually("three next deliveries", || async {
                let items = browser
                    .eval("return Array.from(document.querySelectorAll('.next-deliveries li')).map(li => li.textContent);")
                    .await?;
                Ok((items.as_array().map(Vec::len) == Some(3)).then_some(items))
            })
            .await?,
    )?;
    assert!(
        upcoming
            .iter()
            .all(|t| t.contains(" 07:00 UTC") && t.contains("your time")),
        "{upcoming:?}"
    );
    let hint = form
        .find(Locator::Css(".schedule-preview .hint"))
        .await?
        .text()
        .await?;
    assert_eq!(hint, "Every Monday and Thursday at 07:00 UTC");
    form.find(Locator::Css("button.save-subscription"))
        .await?
        .click()
        .await?;
    browser
        .eventually("the confirmation", || async {
            let text = browser.text_of(".subscription-drawer .notice").await?;
            Ok(text.contains("Subscribed").then_some(()))
        })
        .await?;

    // Edit it from the same panel: pause it, then resume on the Subscriptions page below.
    browser
        .eventually("the subscription in the panel", || async {
            Ok(browser
                .client
                .find(Locator::Css(".edit-subscription"))
                .await
                .ok())
        })
        .await?
        .click()
        .await?;
    let edit = browser
        .client
        .find(Locator::Css("form[aria-label='Edit subscription']"))
        .await?;
    let name_field = edit
        .find(Locator::Css("input[name=subscription_name]"))
        .await?;
    assert_eq!(
        name_field.prop("value").await?.as_deref(),
        Some("Active users every morning")
    );
    edit.find(Locator::Css("input[name=enabled]"))
        .await?
        .click()
        .await?;
    edit.find(Locator::Css("button.save-subscription"))
        .await?
        .click()
        .await?;
    browser
        .eventually("the saved notice", || async {
            let text = browser.text_of(".subscription-drawer .notice").await?;
            Ok(text.contains("Saved").then_some(()))
        })
        .await?;
    let listed = browser
        .client
        .find(Locator::Css(".my-subscriptions"))
        .await?
        .text()
        .await?;
    assert!(listed.contains("paused"), "{listed}");

    // The Subscriptions page: the schedule in words, the next delivery, Send now, the history.
    browser.client.goto(&server.url("/subscriptions")).await?;
    let card = browser
        .eventually("the subscription card", || async {
            Ok(browser
                .client
                .find(Locator::Css(
                    "[data-subscription='Active users every morning']",
                ))
                .await
                .ok())
        })
        .await?;
    let card_text = card.text().await?;
    assert!(
        card_text.contains("Every Monday and Thursday at 07:00 UTC"),
        "{card_text}"
    );
    assert!(
        card_text.contains("Not delivered yet") && card_text.contains("Paused"),
        "{card_text}"
    );
    card.find(Locator::Css(".pause")).await?.click().await?;
    // The card is rebuilt with the fresh data: read it afresh each time.
    let card_selector = "[data-subscription='Active users every morning']";
    browser
        .eventually("the resumed subscription", || async {
            let text = browser
                .eval(&format!(
                    "const c = document.querySelector(\"{card_selector}\"); return c ? c.textContent : '';"
                ))
                .await?;
            let text = text.as_str().unwrap_or_default();
            Ok((text.contains("Active") && !text.contains("Paused") && text.contains("your time"))
                .then_some(()))
        })
        .await?;
    browser.click(&format!("{card_selector} .send-now")).await?;
    browser
        .eventually("the sent notice", || async {
            let text = browser.text_of(".notice").await?;
            Ok(text.contains("was sent to").then_some(()))
        })
        .await?;
    // The card is rebuilt when fresh data arrives: read the row's text in one go.
    let history = browser
        .eventually("the delivery in the history", || async {
            let text = browser
                .eval("const r = document.querySelector('.history-table tr.delivery[data-outcome=sent]'); return r ? r.textContent : '';")
                .await?;
            Ok(text.as_str().filter(|t| !t.is_empty()).map(str::to_owned))
        })
        .await?;
    assert!(
        history.contains("Send now") && history.contains("ops@msp.example"),
        "{history}"
    );

    // The message is in the outbox, with the export attached.
    let eml = std::fs::read_dir(&server.outbox)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|e| e == "eml"))
        .context("an .eml in the outbox")?;
    let raw = std::fs::read(&eml)?;
    let message = MessageParser::default()
        .parse(&raw)
        .context("a MIME message")?;
    let subject = message.subject().unwrap_or_default();
    assert!(
        subject.starts_with("Active users every morning: "),
        "{subject}"
    );
    let attachment = message.attachment(0).context("an attachment")?;
    let file_name = attachment.attachment_name().unwrap_or_default();
    assert!(
        file_name.starts_with("user-provisioning_all-customers_") && file_name.ends_with(".csv"),
        "{file_name}"
    );
    let csv = String::from_utf8_lossy(attachment.contents());
    assert!(csv.lines().count() > 1, "the export has rows");
    assert!(message.body_text(0).is_some() && message.body_html(0).is_some());

    browser.close().await
}
