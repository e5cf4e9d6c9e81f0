//! The report table: sortable headers and virtualized rows.
//!
//! Only the rows in view plus a small overscan are in the DOM; two spacer rows stand in for the
//! rest, so the DOM stays the same size whether 100 or 1,000,000 rows are loaded. Rows have one
//! fixed height (`ROW_HEIGHT_PX`, matched by the stylesheet), which makes the window arithmetic.

use leptos::html;
use leptos::prelude::*;
use provisio_api::report::{Direction, ReportField, ReportRow, Sort};

use crate::format;

/// Height of one body row in CSS pixels; `style/main.css` sets the same.
pub const ROW_HEIGHT_PX: f64 = 36.0;
/// Rows rendered above and below the visible ones, so fast scrolling shows no gaps.
const OVERSCAN_ROWS: usize = 8;
/// Assumed viewport height until the table has been laid out.
const INITIAL_VIEWPORT_PX: f64 = 720.0;

/// Which rows of `loaded` to render for a scroll offset and viewport height: `first..last`.
pub fn visible_window(scroll_top: f64, viewport: f64, loaded: usize) -> (usize, usize) {
    let first_visible = (scroll_top.max(0.0) / ROW_HEIGHT_PX) as usize;
    let first = first_visible.saturating_sub(OVERSCAN_ROWS).min(loaded);
    let in_view = (viewport.max(0.0) / ROW_HEIGHT_PX).ceil() as usize;
    let last = (first_visible + in_view + OVERSCAN_ROWS).min(loaded);
    (first, last.max(first))
}

#[component]
pub fn DataTable(
    /// Visible columns, in display order.
    #[prop(into)]
    columns: Signal<Vec<ReportField>>,
    /// The rows loaded so far.
    #[prop(into)]
    rows: Signal<Vec<ReportRow>>,
    /// Rows matching the query, when known.
    #[prop(into)]
    total: Signal<Option<u64>>,
    #[prop(into)] sort: Signal<Sort>,
    /// A header was activated: sort by this field.
    on_sort: Callback<ReportField>,
    /// The visible window reached the end of the loaded rows.
    on_near_end: Callback<()>,
    /// A further page is being fetched.
    #[prop(into)]
    loading_more: Signal<bool>,
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

    // A new result starts at the top.
    Effect::new(move |previous: Option<Option<i64>>| {
        let first_id = rows.with(|rows| rows.first().map(|row| row.id));
        if previous.is_some_and(|previous| previous != first_id) {
            if let Some(element) = scroller.get_untracked() {
                element.set_scroll_top(0);
            }
            scroll_top.set(0.0);
        }
        first_id
    });

    let window =
        Memo::new(move |_| visible_window(scroll_top.get(), viewport.get(), rows.with(Vec::len)));

    Effect::new(move |_| {
        let (_, last) = window.get();
        let loaded = rows.with(Vec::len);
        if loaded > 0 && last + OVERSCAN_ROWS >= loaded {
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
    let row_count = move || total.get().map(|t| (t + 1).to_string());
    let column_count = move || columns.with(Vec::len);

    view! {
        <div class="table-scroll" node_ref=scroller on:scroll=move |_| measure()>
            <table class="data-table" aria-rowcount=row_count aria-label="User Provisioning report">
                <colgroup>
                    {move || {
                        columns
                            .get()
                            .into_iter()
                            .map(|field| view! { <col style:width=column_width(field) /> })
                            .collect_view()
                    }}
                </colgroup>
                <thead>
                    <tr aria-rowindex="1">
                        {move || {
                            columns
                                .get()
                                .into_iter()
                                .map(|field| view! { <HeaderCell field sort on_sort /> })
                                .collect_view()
                        }}
                    </tr>
                </thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true" style:height=top_spacer></tr>
                    <For
                        each=visible_rows
                        key=|(index, row)| (*index, row.id)
                        children=move |(index, row)| {
                            let row_id = row.id;
                            view! {
                                <tr class="row" aria-rowindex=index + 2 data-row-id=row_id>
                                    {move || {
                                        columns
                                            .get()
                                            .into_iter()
                                            .map(|field| {
                                                let text = format::cell(&row, field);
                                                let title = text.clone();
                                                let numeric = field == ReportField::EndpointsUsageMb;
                                                view! {
                                                    <td class:numeric=numeric title=title>
                                                        {text}
                                                    </td>
                                                }
                                            })
                                            .collect_view()
                                    }}
                                </tr>
                            }
                        }
                    />
                    <tr class="spacer" aria-hidden="true" style:height=bottom_spacer></tr>
                    <Show when=move || loading_more.get()>
                        <tr class="row loading-row">
                            <td colspan=column_count>"Loading more users…"</td>
                        </tr>
                    </Show>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn HeaderCell(
    field: ReportField,
    #[prop(into)] sort: Signal<Sort>,
    on_sort: Callback<ReportField>,
) -> impl IntoView {
    let aria_sort = move || {
        let sort = sort.get();
        match (sort.field == field, sort.direction) {
            (false, _) => "none",
            (true, Direction::Ascending) => "ascending",
            (true, Direction::Descending) => "descending",
        }
    };
    let indicator = move || match aria_sort() {
        "ascending" => "▲",
        "descending" => "▼",
        _ => "",
    };
    view! {
        <th scope="col" aria-sort=aria_sort data-field=field.key()>
            <button
                type="button"
                class="sort-button"
                title=format!("Sort by {}", field.label())
                on:click=move |_| on_sort.run(field)
            >
                <span class="header-label">{field.label()}</span>
                <span class="sort-indicator" aria-hidden="true">{indicator}</span>
            </button>
        </th>
    }
}

fn column_width(field: ReportField) -> &'static str {
    match field {
        ReportField::GlobalCustomerId => "300px",
        ReportField::UserEmail => "280px",
        ReportField::CustomerName | ReportField::AccountName | ReportField::UserName => "200px",
        ReportField::CreatedOn => "170px",
        ReportField::EndpointsUsageMb => "170px",
        ReportField::ManagedBy => "170px",
        ReportField::CustomAttributeName | ReportField::CustomAttributeValue => "200px",
        _ => "150px",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_covers_the_viewport_plus_overscan_and_stays_in_bounds() {
        assert_eq!(visible_window(0.0, 360.0, 0), (0, 0));
        assert_eq!(visible_window(0.0, 360.0, 1000), (0, 10 + OVERSCAN_ROWS));
        let (first, last) = visible_window(36.0 * 500.0, 360.0, 1000);
        assert_eq!(first, 500 - OVERSCAN_ROWS);
        assert_eq!(last, 500 + 10 + OVERSCAN_ROWS);
        assert_eq!(visible_window(36.0 * 995.0, 360.0, 1000).1, 1000);
        assert_eq!(visible_window(1e12, 360.0, 1000), (1000, 1000));
    }
}
