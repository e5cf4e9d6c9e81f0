//! The log's table: virtualized rows, as the report's (only the rows in view are in the DOM),
//! each opening its detail panel from the identity cell.

use leptos::html;
use leptos::prelude::*;
use provisio_api::provisioning::{EventRow, EventStatus};

use super::columns::LogColumn;
use crate::components::data_table::{visible_window, ROW_HEIGHT_PX};

/// Assumed viewport height until the table has been laid out.
const INITIAL_VIEWPORT_PX: f64 = 640.0;
/// Ask for the next page this many rows before the loaded ones run out.
const PREFETCH_ROWS: usize = 20;

pub fn status_tone(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Success => "ok",
        EventStatus::Skipped => "off",
        EventStatus::Warning => "warn",
        EventStatus::Failure => "bad",
    }
}

#[component]
pub fn EventTable(
    #[prop(into)] rows: Signal<Vec<EventRow>>,
    columns: RwSignal<Vec<LogColumn>>,
    selected: RwSignal<Option<i64>>,
    on_near_end: Callback<()>,
    #[prop(into)] loading_more: Signal<bool>,
) -> impl IntoView {
    let scroller = NodeRef::<html::Div>::new();
    let scroll_top = RwSignal::new(0.0_f64);
    let viewport = RwSignal::new(INITIAL_VIEWPORT_PX);
    let measure = move || {
        if let Some(element) = scroller.get_untracked() {
            scroll_top.set(f64::from(element.scroll_top()));
            let height = f64::from(element.client_height());
            if height > 0.0 {
                viewport.set(height);
            }
        }
    };
    Effect::new(move |_| {
        if scroller.get().is_some() {
            measure();
        }
    });
    let window =
        Memo::new(move |_| visible_window(scroll_top.get(), viewport.get(), rows.with(Vec::len)));
    Effect::new(move |_| {
        let (_, last) = window.get();
        let loaded = rows.with(Vec::len);
        if loaded > 0 && last + PREFETCH_ROWS >= loaded {
            on_near_end.run(());
        }
    });
    let visible_rows = move || {
        let (first, last) = window.get();
        rows.with(|rows| {
            rows[first..last]
                .iter()
                .enumerate()
                .map(|(offset, row)| (first + offset, row.clone()))
                .collect::<Vec<_>>()
        })
    };
    let top_spacer = move || format!("{}px", window.get().0 as f64 * ROW_HEIGHT_PX);
    let bottom_spacer = move || {
        let below = rows.with(Vec::len) - window.get().1;
        format!("{}px", below as f64 * ROW_HEIGHT_PX)
    };
    view! {
        <div class="table-frame">
            <div class="table-scroll" node_ref=scroller on:scroll=move |_| measure()>
                <table class="data-table events-table" aria-label="Provisioning events">
                    <colgroup>
                        {move || columns.get().into_iter().map(|column| view! { <col style:width=column.width() /> }).collect_view()}
                    </colgroup>
                    <thead>
                        <tr>
                            {move || columns.get().into_iter().map(|column| view! {
                                <th scope="col"><span class="header-label">{column.label()}</span></th>
                            }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        <tr class="spacer" aria-hidden="true" style:height=top_spacer></tr>
                        <For each=visible_rows key=|(index, row)| (*index, row.id)
                            children=move |(_, row)| view! { <EventRowView row columns selected /> } />
                        <tr class="spacer" aria-hidden="true" style:height=bottom_spacer></tr>
                        <Show when=move || loading_more.get()>
                            <tr class="loading-row"><td colspan="10">"Loading more events…"</td></tr>
                        </Show>
                    </tbody>
                </table>
            </div>
        </div>
    }
}

#[component]
fn EventRowView(
    row: EventRow,
    columns: RwSignal<Vec<LogColumn>>,
    selected: RwSignal<Option<i64>>,
) -> impl IntoView {
    let id = row.id;
    let row = StoredValue::new(row);
    view! {
        <tr class="row event-row" data-event-id=id data-status=row.with_value(|r| r.status.key())
            class:selected=move || selected.get() == Some(id)>
            {move || columns.get().into_iter().map(|column| {
                let text = row.with_value(|r| column.text(r));
                let content = match column {
                    LogColumn::Identity => view! {
                        <button type="button" class="button link event-open" aria-haspopup="dialog"
                            on:click=move |_| selected.set(Some(id))>
                            {if text.is_empty() { "(unnamed)".to_owned() } else { text.clone() }}
                        </button>
                    }.into_any(),
                    LogColumn::Status => {
                        let tone = row.with_value(|r| status_tone(r.status));
                        view! { <span class=format!("status-pill {tone}")>{text.clone()}</span> }.into_any()
                    }
                    _ => text.clone().into_any(),
                };
                view! {
                    <td class:numeric=column == LogColumn::Duration title=text>{content}</td>
                }
            }).collect_view()}
        </tr>
    }
}
