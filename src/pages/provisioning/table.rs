//! The log's table: virtualized rows, as the report's (only the rows in view are in the DOM),
//! each opening its detail panel from the identity cell.

use leptos::prelude::*;
use provisio_api::provisioning::{EventRow, EventStatus};

use super::columns::LogColumn;
use crate::components::data_table::use_virtual_rows;

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
    let rows_window = use_virtual_rows(
        Signal::derive(move || rows.with(Vec::len)),
        Signal::derive(move || rows.with(|rows| rows.first().map(|row| row.id))),
        on_near_end,
        PREFETCH_ROWS,
    );
    let visible_rows = move || rows.with(|rows| rows_window.visible(rows));
    let top_spacer = move || rows_window.top_spacer();
    let bottom_spacer = move || rows_window.bottom_spacer();
    view! {
        <div class="table-frame">
            <div class="table-scroll" node_ref=rows_window.scroller on:scroll=move |_| rows_window.measure()>
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
