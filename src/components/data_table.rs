//! The report table: sortable, movable headers and virtualized rows.
//!
//! A header moves by drag and drop (an insertion marker shows where it lands; Escape or a drop
//! outside the header row cancels), by Alt+Shift+Arrow/Home/End on the focused header, or from
//! its menu. Each move is announced in a live region and focus stays on the moved header.
//!
//! Only the rows in view plus a small overscan are in the DOM; two spacer rows stand in for the
//! rest, so the DOM stays the same size whether 100 or 1,000,000 rows are loaded. Rows have one
//! fixed height (`ROW_HEIGHT_PX`, matched by the stylesheet), which makes the window arithmetic.

use leptos::html;
use leptos::prelude::*;
use provisio_api::report::{Direction, FieldKind, ReportField, ReportRow, Sort};

use crate::components::bulk_actions::RowSelection;
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

/// A window of rows over a scrolling element: which loaded rows to render, the spacers'
/// heights standing in for the rest, and a call for more rows near the end.
#[derive(Clone, Copy)]
pub struct VirtualRows {
    pub scroller: NodeRef<html::Div>,
    /// The loaded rows to render: `first..last`.
    pub window: Memo<(usize, usize)>,
    scroll_top: RwSignal<f64>,
    viewport: RwSignal<f64>,
    loaded: Signal<usize>,
}

impl VirtualRows {
    /// Reads the scroll position and viewport height; call on scroll.
    pub fn measure(self) {
        if let Some(element) = self.scroller.get_untracked() {
            self.scroll_top.set(f64::from(element.scroll_top()));
            let height = f64::from(element.client_height());
            if height > 0.0 {
                self.viewport.set(height);
            }
        }
    }

    /// The rows in the window, each with its index among the loaded ones.
    pub fn visible<T: Clone>(self, rows: &[T]) -> Vec<(usize, T)> {
        let (first, last) = self.window.get();
        let last = last.min(rows.len());
        rows[first.min(last)..last]
            .iter()
            .enumerate()
            .map(|(offset, row)| (first + offset, row.clone()))
            .collect()
    }

    pub fn top_spacer(self) -> String {
        format!("{}px", self.window.get().0 as f64 * ROW_HEIGHT_PX)
    }

    pub fn bottom_spacer(self) -> String {
        let below = self.loaded.get().saturating_sub(self.window.get().1);
        format!("{}px", below as f64 * ROW_HEIGHT_PX)
    }
}

/// Virtualizes `loaded` rows: a new result (another `first_id`) starts at the top, and
/// `on_near_end` runs when the window comes within `prefetch` rows of the last loaded one.
pub fn use_virtual_rows(
    loaded: Signal<usize>,
    first_id: Signal<Option<i64>>,
    on_near_end: Callback<()>,
    prefetch: usize,
) -> VirtualRows {
    let scroll_top = RwSignal::new(0.0);
    let viewport = RwSignal::new(INITIAL_VIEWPORT_PX);
    let rows = VirtualRows {
        scroller: NodeRef::new(),
        window: Memo::new(move |_| visible_window(scroll_top.get(), viewport.get(), loaded.get())),
        scroll_top,
        viewport,
        loaded,
    };
    Effect::new(move |_| {
        if rows.scroller.get().is_some() {
            rows.measure();
        }
    });
    Effect::new(move |previous: Option<Option<i64>>| {
        let first = first_id.get();
        if previous.is_some_and(|previous| previous != first) {
            if let Some(element) = rows.scroller.get_untracked() {
                element.set_scroll_top(0);
            }
            scroll_top.set(0.0);
        }
        first
    });
    Effect::new(move |_| {
        let (_, last) = rows.window.get();
        let loaded = loaded.get();
        if loaded > 0 && last + prefetch >= loaded {
            on_near_end.run(());
        }
    });
    rows
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
    /// Move a column to a new position among the visible columns.
    on_move: Callback<(ReportField, usize)>,
    /// Hide a column.
    on_hide: Callback<ReportField>,
    /// The visible window reached the end of the loaded rows.
    on_near_end: Callback<()>,
    /// A further page is being fetched.
    #[prop(into)]
    loading_more: Signal<bool>,
    /// Rows can be selected for a bulk action: a checkbox leads each row.
    #[prop(default = None)]
    selection: Option<RowSelection>,
) -> impl IntoView {
    let rows_window = use_virtual_rows(
        Signal::derive(move || rows.with(Vec::len)),
        Signal::derive(move || rows.with(|rows| rows.first().map(|row| row.id))),
        on_near_end,
        OVERSCAN_ROWS,
    );
    let scroller = rows_window.scroller;

    let visible_rows = move || rows.with(|rows| rows_window.visible(rows));
    let top_spacer = move || rows_window.top_spacer();
    let bottom_spacer = move || rows_window.bottom_spacer();
    let moves = HeaderMoves {
        columns,
        dragging: RwSignal::new(None),
        drop_at: RwSignal::new(None),
        menu_open: RwSignal::new(None),
        announcement: RwSignal::new(String::new()),
        focus_after_move: StoredValue::new(None),
        on_move,
        on_hide,
    };
    // Headers are rebuilt when the order changes; focus returns to the one that moved.
    Effect::new(move |_| {
        columns.track();
        if let Some(field) = moves.focus_after_move.get_value() {
            moves.focus_after_move.set_value(None);
            focus_header(field);
        }
    });

    let row_count = move || total.get().map(|t| (t + 1).to_string());
    let column_count = move || columns.with(Vec::len) + usize::from(selection.is_some());

    view! {
        <p class="visually-hidden column-announcer" aria-live="assertive" aria-atomic="true">
            {move || moves.announcement.get()}
        </p>
        <p id="column-move-help" class="visually-hidden">
            "Alt+Shift+Left or Right moves this column; Alt+Shift+Home or End moves it first or last."
        </p>
        <div class="table-scroll" node_ref=scroller on:scroll=move |_| rows_window.measure()>
            <table class="data-table" aria-rowcount=row_count aria-label="User Provisioning report">
                <colgroup>
                    {selection.map(|_| view! { <col class="select-col" /> })}
                    {move || {
                        columns
                            .get()
                            .into_iter()
                            .map(|field| view! { <col style:width=column_width(field) /> })
                            .collect_view()
                    }}
                </colgroup>
                <thead>
                    <tr aria-rowindex="1" on:dragover=move |event| moves.drag_over_row(&event)>
                        {selection.map(|selection| view! {
                            <th class="select-cell" scope="col">
                                <input type="checkbox" class="select-all" aria-label="Select all loaded users"
                                    prop:checked=move || selection.all_loaded()
                                    on:change=move |event| selection.set_all_loaded(event_target_checked(&event)) />
                            </th>
                        })}
                        {move || {
                            columns
                                .get()
                                .into_iter()
                                .enumerate()
                                .map(|(index, field)| {
                                    view! { <HeaderCell field index sort on_sort moves /> }
                                })
                                .collect_view()
                        }}
                    </tr>
                </thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true" style:height=top_spacer></tr>
                    <For
                        each=visible_rows
                        key=|(index, row)| (*index, row.id)
                        children=move |(index, row)| view! { <TableRow index row columns selection /> }
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

/// One user's row: the selection checkbox when rows can be selected, then the visible cells.
#[component]
fn TableRow(
    index: usize,
    row: ReportRow,
    columns: Signal<Vec<ReportField>>,
    selection: Option<RowSelection>,
) -> impl IntoView {
    let row_id = row.id;
    let select_label = format!("Select {}", row.user_email);
    let cells = move || {
        columns
            .get()
            .into_iter()
            .map(|field| {
                let text = format::cell(&row, field);
                let title = text.clone();
                let numeric = field.kind() == FieldKind::Number;
                // The email opens the user's page.
                let content = if field == ReportField::UserEmail {
                    view! { <a class="user-link" href=format!("/users/{row_id}")>{text}</a> }
                        .into_any()
                } else {
                    text.into_any()
                };
                view! { <td class:numeric=numeric title=title>{content}</td> }
            })
            .collect_view()
    };
    view! {
        <tr class="row" aria-rowindex=index + 2 data-row-id=row_id
            class:selected=move || selection.is_some_and(|s| s.is_selected(row_id))>
            {selection.map(|selection| view! {
                <td class="select-cell">
                    <input type="checkbox" class="select-row" aria-label=select_label
                        prop:checked=move || selection.is_selected(row_id)
                        on:change=move |event| selection.set(row_id, event_target_checked(&event)) />
                </td>
            })}
            {cells}
        </tr>
    }
}

/// Drag, keyboard and menu state shared by the header cells.
#[derive(Clone, Copy)]
struct HeaderMoves {
    columns: Signal<Vec<ReportField>>,
    /// The header being dragged.
    dragging: RwSignal<Option<ReportField>>,
    /// Where a drop would insert it: before the column at this index, or at the end.
    drop_at: RwSignal<Option<usize>>,
    /// The header whose menu is open.
    menu_open: RwSignal<Option<ReportField>>,
    announcement: RwSignal<String>,
    focus_after_move: StoredValue<Option<ReportField>>,
    on_move: Callback<(ReportField, usize)>,
    on_hide: Callback<ReportField>,
}

impl HeaderMoves {
    fn count(self) -> usize {
        self.columns.with_untracked(Vec::len)
    }

    fn position(self, field: ReportField) -> Option<usize> {
        self.columns
            .with_untracked(|columns| columns.iter().position(|f| *f == field))
    }

    /// Moves `field` to visible position `to`, announces it and keeps focus on it.
    fn move_to(self, field: ReportField, to: usize) {
        let last = self.count().saturating_sub(1);
        let to = to.min(last);
        self.menu_open.set(None);
        if self.position(field) == Some(to) {
            self.announce_position(field, to);
            return;
        }
        self.focus_after_move.set_value(Some(field));
        self.on_move.run((field, to));
        self.announce_position(field, to);
    }

    fn announce_position(self, field: ReportField, to: usize) {
        self.announcement.set(format!(
            "{} moved to position {} of {}",
            field.label(),
            to + 1,
            self.count()
        ));
    }

    fn step(self, field: ReportField, step: Step) {
        let Some(from) = self.position(field) else {
            return;
        };
        let to = match step {
            Step::First => 0,
            Step::Left => from.saturating_sub(1),
            Step::Right => from + 1,
            Step::Last => usize::MAX,
        };
        self.move_to(field, to);
    }

    fn hide(self, field: ReportField) {
        self.menu_open.set(None);
        if self.count() <= 1 {
            self.announcement
                .set("The last visible column cannot be hidden".to_owned());
            return;
        }
        self.on_hide.run(field);
        self.announcement.set(format!("{} hidden", field.label()));
    }

    /// Dropping on the header row's empty end (past the last header) appends.
    fn drag_over_row(self, event: &web_sys::DragEvent) {
        if self.dragging.get_untracked().is_some() {
            event.prevent_default();
        }
    }

    fn drop(self) {
        if let (Some(field), Some(at)) =
            (self.dragging.get_untracked(), self.drop_at.get_untracked())
        {
            if let Some(from) = self.position(field) {
                // Removing the dragged column first shifts later insertion points left by one.
                let to = if at > from { at - 1 } else { at };
                self.move_to(field, to);
            }
        }
        self.end_drag();
    }

    fn end_drag(self) {
        self.dragging.set(None);
        self.drop_at.set(None);
    }
}

#[derive(Clone, Copy)]
enum Step {
    First,
    Left,
    Right,
    Last,
}

/// The step an Alt+Shift shortcut asks for, if the key is one.
fn step_for_key(event: &web_sys::KeyboardEvent) -> Option<Step> {
    if !(event.alt_key() && event.shift_key()) {
        return None;
    }
    match event.key().as_str() {
        "ArrowLeft" => Some(Step::Left),
        "ArrowRight" => Some(Step::Right),
        "Home" => Some(Step::First),
        "End" => Some(Step::Last),
        _ => None,
    }
}

fn focus_header(field: ReportField) {
    use wasm_bindgen::JsCast;
    let selector = format!("th[data-field='{}'] .sort-button", field.key());
    let found = document()
        .query_selector(&selector)
        .ok()
        .flatten()
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(button) = found {
        let _ = button.focus();
    }
}

#[component]
fn HeaderCell(
    field: ReportField,
    /// Position among the visible columns.
    index: usize,
    #[prop(into)] sort: Signal<Sort>,
    on_sort: Callback<ReportField>,
    moves: HeaderMoves,
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
    let is_last = move || index + 1 == moves.columns.with(Vec::len);
    let drop_before = move || moves.dragging.get().is_some() && moves.drop_at.get() == Some(index);
    let drop_after = move || {
        moves.dragging.get().is_some() && is_last() && moves.drop_at.get() == Some(index + 1)
    };
    let menu_open = move || moves.menu_open.get() == Some(field);
    let menu_id = format!("column-menu-{}", field.key());

    let on_drag_start = move |event: web_sys::DragEvent| {
        if let Some(transfer) = event.data_transfer() {
            transfer.set_effect_allowed("move");
            // Firefox starts a drag only when some data is set.
            let _ = transfer.set_data("text/plain", field.label());
        }
        moves.menu_open.set(None);
        moves.dragging.set(Some(field));
    };
    let on_drag_over = move |event: web_sys::DragEvent| {
        if moves.dragging.get_untracked().is_none() {
            return;
        }
        event.prevent_default();
        if let Some(transfer) = event.data_transfer() {
            transfer.set_drop_effect("move");
        }
        use wasm_bindgen::JsCast;
        let after = event
            .current_target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .map(|cell| {
                let rect = cell.get_bounding_client_rect();
                f64::from(event.client_x()) > rect.left() + rect.width() / 2.0
            })
            .unwrap_or(false);
        moves
            .drop_at
            .set(Some(if after { index + 1 } else { index }));
    };
    let on_drop = move |event: web_sys::DragEvent| {
        event.prevent_default();
        moves.drop();
    };
    let on_key = move |event: web_sys::KeyboardEvent| {
        if let Some(step) = step_for_key(&event) {
            event.prevent_default();
            moves.step(field, step);
        }
    };
    let on_menu_key = move |event: web_sys::KeyboardEvent| {
        if event.key() == "Escape" {
            moves.menu_open.set(None);
            focus_header(field);
        }
    };
    let menu_item = move |label: &'static str, action: Box<dyn Fn() + Send + Sync>| {
        view! {
            <li role="none">
                <button type="button" role="menuitem" class="menu-item" on:click=move |_| action()>
                    {label}
                </button>
            </li>
        }
    };

    view! {
        <th
            scope="col"
            aria-sort=aria_sort
            data-field=field.key()
            draggable="true"
            class:dragging=move || moves.dragging.get() == Some(field)
            class:drop-before=drop_before
            class:drop-after=drop_after
            on:dragstart=on_drag_start
            on:dragover=on_drag_over
            on:drop=on_drop
            on:dragend=move |_| moves.end_drag()
        >
            <div class="header-cell">
                <button
                    type="button"
                    class="sort-button"
                    title=format!("Sort by {}. Alt+Shift+Arrow keys move the column.", field.label())
                    aria-describedby="column-move-help"
                    on:click=move |_| on_sort.run(field)
                    on:keydown=on_key
                >
                    <span class="header-label">{field.label()}</span>
                    <span class="sort-indicator" aria-hidden="true">{indicator}</span>
                </button>
                <button
                    type="button"
                    class="column-menu-button"
                    aria-haspopup="menu"
                    aria-expanded=move || menu_open().to_string()
                    aria-controls=menu_id.clone()
                    aria-label=format!("{} column options", field.label())
                    on:click=move |_| {
                        moves.menu_open.update(|open| {
                            *open = if *open == Some(field) { None } else { Some(field) };
                        })
                    }
                >
                    "⋮"
                </button>
            </div>
            <Show when=menu_open>
                <ul class="column-menu" role="menu" id=menu_id.clone() on:keydown=on_menu_key>
                    {menu_item("Move first", Box::new(move || moves.step(field, Step::First)))}
                    {menu_item("Move left", Box::new(move || moves.step(field, Step::Left)))}
                    {menu_item("Move right", Box::new(move || moves.step(field, Step::Right)))}
                    {menu_item("Move last", Box::new(move || moves.step(field, Step::Last)))}
                    {menu_item("Hide column", Box::new(move || moves.hide(field)))}
                </ul>
            </Show>
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
        ReportField::StorageRegion | ReportField::Mapping => "200px",
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
