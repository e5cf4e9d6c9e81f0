//! Components mounted in real headless Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use leptos::prelude::*;
use provisio::components::data_table::DataTable;
use provisio::components::filter_editor::FilterEditor;
use provisio_api::report::{
    ColumnLayout, Direction, Filter, Operand, ReportFacets, ReportField, ReportRow, Sort,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Event, EventInit, HtmlElement, HtmlInputElement, HtmlSelectElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a document")
}

/// A fresh container in the page that the component mounts into, under the app's stylesheet.
fn container() -> HtmlElement {
    if document().get_element_by_id("app-style").is_none() {
        let style = document().create_element("style").expect("style");
        style.set_id("app-style");
        style.set_text_content(Some(include_str!("../style/main.css")));
        document()
            .head()
            .expect("head")
            .append_child(&style)
            .expect("append");
    }
    let element: HtmlElement = document()
        .create_element("div")
        .expect("div")
        .unchecked_into();
    element
        .style()
        .set_property("height", "400px")
        .expect("style");
    element
        .style()
        .set_property("display", "flex")
        .expect("style");
    document()
        .body()
        .expect("body")
        .append_child(&element)
        .expect("append");
    element
}

fn query_all(root: &HtmlElement, selector: &str) -> Vec<HtmlElement> {
    let list = root.query_selector_all(selector).expect("selector");
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|node| node.unchecked_into())
        .collect()
}

fn query(root: &HtmlElement, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .expect("selector")
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .unchecked_into()
}

fn row(id: i64) -> ReportRow {
    ReportRow {
        id,
        global_customer_id: "6f1c2a4e-0000-4000-8000-000000000001".into(),
        customer_name: "Northwind Traders".into(),
        account_name: "Northwind Traders".into(),
        user_name: format!("User {id}"),
        user_email: format!("user{id}@northwindtraders.com"),
        profile: "Default".into(),
        user_status: "Active".into(),
        endpoints_license: "active".into(),
        endpoints_usage_mb: 1_234_567,
        created_on: Utc
            .with_ymd_and_hms(2025, 2, 3, 4, 5, 6)
            .single()
            .expect("time"),
        managed_by: "Okta".into(),
        custom_attribute_name: None,
        custom_attribute_value: None,
        storage_region: Some("EU (Frankfurt)".into()),
        quota_gb: Some(50),
        mapping: None,
    }
}

fn dispatch(element: &HtmlElement, kind: &str) {
    let init = EventInit::new();
    init.set_bubbles(true);
    let event = Event::new_with_event_init_dict(kind, &init).expect("event");
    element.dispatch_event(&event).expect("dispatch");
}

#[wasm_bindgen_test]
async fn data_table_renders_headers_in_order_and_reports_header_clicks() {
    let root = container();
    let clicked = Arc::new(Mutex::new(Vec::new()));
    let sort = RwSignal::new(Sort {
        field: ReportField::UserName,
        direction: Direction::Descending,
    });
    let record = clicked.clone();
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        let record = record.clone();
        view! {
            <DataTable
                columns=Signal::derive(|| ReportField::SEED.to_vec())
                rows=Signal::derive(|| (1..=3).map(row).collect::<Vec<_>>())
                total=Signal::derive(|| Some(3))
                sort
                on_sort=Callback::new(move |field| record.lock().expect("lock").push(field))
                on_move=Callback::new(|_| {})
                on_hide=Callback::new(|_| {})
                on_near_end=Callback::new(|()| {})
                loading_more=Signal::derive(|| false)
            />
        }
    });
    leptos::task::tick().await;

    let headers: Vec<String> = query_all(&root, "thead th .header-label")
        .iter()
        .map(|h| h.text_content().unwrap_or_default())
        .collect();
    let expected: Vec<&str> = ReportField::SEED.iter().map(|f| f.label()).collect();
    assert_eq!(headers, expected);
    assert_eq!(
        query(&root, "th[data-field=user_name]")
            .get_attribute("aria-sort")
            .as_deref(),
        Some("descending")
    );
    assert_eq!(
        query(&root, "th[data-field=user_email]")
            .get_attribute("aria-sort")
            .as_deref(),
        Some("none")
    );

    let cells: Vec<String> = query_all(&root, "tbody tr[data-row-id='2'] td")
        .iter()
        .map(|c| c.text_content().unwrap_or_default())
        .collect();
    assert_eq!(cells[3], "User 2");
    assert_eq!(cells[8], "1,234,567");
    assert_eq!(cells[9], "2025-02-03 04:05");

    query(&root, "th[data-field=endpoints_usage_mb] button").click();
    assert_eq!(
        *clicked.lock().expect("lock"),
        vec![ReportField::EndpointsUsageMb]
    );

    sort.set(Sort {
        field: ReportField::EndpointsUsageMb,
        direction: Direction::Ascending,
    });
    leptos::task::tick().await;
    assert_eq!(
        query(&root, "th[data-field=endpoints_usage_mb]")
            .get_attribute("aria-sort")
            .as_deref(),
        Some("ascending")
    );
    assert_eq!(
        query(&root, "th[data-field=user_name]")
            .get_attribute("aria-sort")
            .as_deref(),
        Some("none")
    );
}

#[wasm_bindgen_test]
async fn header_menu_moves_and_hides_columns_and_announces_the_move() {
    let root = container();
    let layout = RwSignal::new(ColumnLayout::default());
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <DataTable
                columns=Signal::derive(move || layout.get().visible())
                rows=Signal::derive(|| (1..=3).map(row).collect::<Vec<_>>())
                total=Signal::derive(|| Some(3))
                sort=Signal::derive(Sort::default)
                on_sort=Callback::new(|_| {})
                on_move=Callback::new(move |(field, to)| layout.update(|l| l.move_visible(field, to)))
                on_hide=Callback::new(move |field| {
                    layout.update(|l| {
                        l.set_hidden(field, true);
                    })
                })
                on_near_end=Callback::new(|()| {})
                loading_more=Signal::derive(|| false)
            />
        }
    });
    leptos::task::tick().await;
    let header_fields = |root: &web_sys::HtmlElement| -> Vec<String> {
        query_all(root, "thead th")
            .iter()
            .filter_map(|th| th.get_attribute("data-field"))
            .collect()
    };
    let menu_item = |root: &web_sys::HtmlElement, label: &str| {
        query_all(root, ".column-menu .menu-item")
            .into_iter()
            .find(|item| item.text_content().as_deref() == Some(label))
            .expect("menu item")
    };

    query(&root, "th[data-field=user_email] .column-menu-button").click();
    leptos::task::tick().await;
    menu_item(&root, "Move first").click();
    leptos::task::tick().await;
    assert_eq!(header_fields(&root)[0], "user_email");
    let cells: Vec<String> = query_all(&root, "tbody tr[data-row-id='1'] td")
        .iter()
        .map(|c| c.text_content().unwrap_or_default())
        .collect();
    assert!(cells[0].contains('@'), "cells follow the header: {cells:?}");
    assert_eq!(
        query(&root, ".column-announcer").text_content().as_deref(),
        Some("User Email moved to position 1 of 13")
    );
    assert!(
        query_all(&root, ".column-menu").is_empty(),
        "the menu closes"
    );

    query(&root, "th[data-field=profile] .column-menu-button").click();
    leptos::task::tick().await;
    menu_item(&root, "Hide column").click();
    leptos::task::tick().await;
    assert!(!header_fields(&root).contains(&"profile".to_owned()));
    assert_eq!(query_all(&root, "tbody tr[data-row-id='1'] td").len(), 12);
}

#[wasm_bindgen_test]
async fn data_table_keeps_only_a_window_of_many_rows_in_the_dom() {
    let root = container();
    let near_end = Arc::new(Mutex::new(0));
    let counter = near_end.clone();
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        let counter = counter.clone();
        view! {
            <DataTable
                columns=Signal::derive(|| vec![ReportField::UserName, ReportField::UserEmail])
                rows=Signal::derive(|| (1..=5_000).map(row).collect::<Vec<_>>())
                total=Signal::derive(|| Some(5_000))
                sort=Signal::derive(Sort::default)
                on_sort=Callback::new(|_| {})
                on_move=Callback::new(|_| {})
                on_hide=Callback::new(|_| {})
                on_near_end=Callback::new(move |()| *counter.lock().expect("lock") += 1)
                loading_more=Signal::derive(|| false)
            />
        }
    });
    leptos::task::tick().await;
    let rendered = query_all(&root, "tbody tr.row").len();
    assert!(
        rendered > 5 && rendered < 60,
        "rendered {rendered} of 5000 rows"
    );
    assert_eq!(
        *near_end.lock().expect("lock"),
        0,
        "the top of 5000 rows is not near the end"
    );

    let scroller = query(&root, ".table-scroll");
    scroller.set_scroll_top(36 * 4_990);
    dispatch(&scroller, "scroll");
    leptos::task::tick().await;
    let last = query_all(&root, "tbody tr.row")
        .last()
        .and_then(|r| r.get_attribute("data-row-id"))
        .unwrap_or_default();
    assert_eq!(last, "5000");
    assert!(query_all(&root, "tbody tr.row").len() < 60);
    assert!(
        *near_end.lock().expect("lock") > 0,
        "reaching the end asks for more"
    );
}

#[wasm_bindgen_test]
async fn filter_editor_explains_a_bad_value_and_applies_a_good_one() {
    let root = container();
    let applied = Arc::new(Mutex::new(None::<Filter>));
    let store = applied.clone();
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        let store = store.clone();
        view! {
            <FilterEditor
                initial=None
                facets=Signal::derive(|| None::<ReportFacets>)
                on_apply=Callback::new(move |filter| *store.lock().expect("lock") = Some(filter))
                on_cancel=Callback::new(|()| {})
            />
        }
    });
    leptos::task::tick().await;

    let field: HtmlSelectElement = query(&root, ".filter-field").unchecked_into();
    field.set_value("endpoints_usage_mb");
    dispatch(&field, "change");
    leptos::task::tick().await;
    let operator: HtmlSelectElement = query(&root, ".filter-operator").unchecked_into();
    let offered: Vec<String> = query_all(&root, ".filter-operator option")
        .iter()
        .map(|o| o.get_attribute("value").unwrap_or_default())
        .collect();
    assert_eq!(offered, ["eq", "lt", "gt", "between"]);
    operator.set_value("between");
    dispatch(&operator, "change");
    leptos::task::tick().await;

    let from: HtmlInputElement = query(&root, ".filter-value").unchecked_into();
    let to: HtmlInputElement = query(&root, ".filter-value-to").unchecked_into();
    from.set_value("900");
    dispatch(&from, "input");
    to.set_value("1234567890123456");
    dispatch(&to, "input");
    query(&root, "button[type=submit]").click();
    leptos::task::tick().await;
    let error = query(&root, ".form-error")
        .text_content()
        .unwrap_or_default();
    assert!(
        error.contains("'1234567890123456' is not a whole number of at most 15 digits"),
        "explains the refused value: {error}"
    );
    assert!(applied.lock().expect("lock").is_none(), "nothing applied");

    // Typed the other way round: the same range.
    to.set_value("100");
    dispatch(&to, "input");
    query(&root, "button[type=submit]").click();
    leptos::task::tick().await;
    let filter = applied
        .lock()
        .expect("lock")
        .clone()
        .expect("a filter was applied");
    assert_eq!(filter.field(), ReportField::EndpointsUsageMb);
    assert_eq!(filter.operand(), &Operand::NumberRange(100, 900));
}
