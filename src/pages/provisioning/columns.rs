//! The log's columns: which are shown, in which order, chosen in a small picker.

use leptos::prelude::*;
use provisio_api::provisioning::EventRow;

use crate::format;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogColumn {
    Date,
    Identity,
    Action,
    Status,
    Customer,
    SourceSystem,
    SourceId,
    TargetId,
    Duration,
    ChangeId,
}

impl LogColumn {
    pub const ALL: [LogColumn; 10] = [
        LogColumn::Date,
        LogColumn::Identity,
        LogColumn::Action,
        LogColumn::Status,
        LogColumn::Customer,
        LogColumn::SourceSystem,
        LogColumn::SourceId,
        LogColumn::TargetId,
        LogColumn::Duration,
        LogColumn::ChangeId,
    ];

    /// Shown until the admin chooses otherwise: the ids are long and mostly for support.
    pub fn default_set() -> Vec<LogColumn> {
        LogColumn::ALL
            .into_iter()
            .filter(|c| !matches!(c, LogColumn::SourceId | LogColumn::TargetId))
            .collect()
    }

    pub fn label(self) -> &'static str {
        match self {
            LogColumn::Date => "Date (UTC)",
            LogColumn::Identity => "Identity",
            LogColumn::Action => "Action",
            LogColumn::Status => "Status",
            LogColumn::Customer => "Customer",
            LogColumn::SourceSystem => "Source system",
            LogColumn::SourceId => "Source ID",
            LogColumn::TargetId => "Target ID",
            LogColumn::Duration => "Duration (ms)",
            LogColumn::ChangeId => "Change ID",
        }
    }

    /// The column's width in CSS pixels: the table lays out at a fixed width, as the report's.
    pub fn width(self) -> &'static str {
        match self {
            LogColumn::Date => "170px",
            LogColumn::Identity => "300px",
            LogColumn::Action => "90px",
            LogColumn::Status => "100px",
            LogColumn::Customer => "190px",
            LogColumn::SourceSystem => "250px",
            LogColumn::SourceId | LogColumn::TargetId => "280px",
            LogColumn::Duration => "120px",
            LogColumn::ChangeId => "300px",
        }
    }

    /// The cell's text (Identity and Status are rendered richer by the table).
    pub fn text(self, row: &EventRow) -> String {
        let or_dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "—".to_owned());
        match self {
            LogColumn::Date => row.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            LogColumn::Identity => row.identity.clone(),
            LogColumn::Action => row.kind.label().to_owned(),
            LogColumn::Status => row.status.label().to_owned(),
            LogColumn::Customer => row.customer_name.clone(),
            LogColumn::SourceSystem => row.source_system.clone(),
            LogColumn::SourceId => or_dash(&row.source_id),
            LogColumn::TargetId => or_dash(&row.target_id),
            LogColumn::Duration => row
                .duration_ms
                .map_or_else(|| "—".to_owned(), format::thousands),
            LogColumn::ChangeId => or_dash(&row.request_id),
        }
    }
}

/// Moves `column` one place earlier (`-1`) or later (`1`) among `columns`.
pub fn moved(mut columns: Vec<LogColumn>, column: LogColumn, by: isize) -> Vec<LogColumn> {
    if let Some(at) = columns.iter().position(|c| *c == column) {
        let to = at
            .saturating_add_signed(by)
            .min(columns.len().saturating_sub(1));
        let taken = columns.remove(at);
        columns.insert(to, taken);
    }
    columns
}

/// Show, hide and reorder the log's columns.
#[component]
pub fn ColumnPicker(columns: RwSignal<Vec<LogColumn>>) -> impl IntoView {
    let toggle = move |column: LogColumn, shown: bool| {
        columns.update(|list| {
            list.retain(|c| *c != column);
            if shown {
                // Back where it belongs among the shown ones.
                let at = LogColumn::ALL
                    .iter()
                    .position(|c| *c == column)
                    .unwrap_or(0);
                let before = list
                    .iter()
                    .position(|c| LogColumn::ALL.iter().position(|a| a == c).unwrap_or(0) > at)
                    .unwrap_or(list.len());
                list.insert(before, column);
            }
        });
    };
    view! {
        <details class="popover column-picker">
            <summary class="button secondary">"Columns"</summary>
            <div class="popover-panel">
                <p class="popover-title">"Shown columns, in order"</p>
                <ul class="column-options">
                    {LogColumn::ALL.into_iter().map(|column| {
                        let shown = move || columns.with(|list| list.contains(&column));
                        view! {
                            <li class="column-option">
                                <label class="check">
                                    <input type="checkbox" prop:checked=shown
                                        on:change=move |event| toggle(column, event_target_checked(&event)) />
                                    <span>{column.label()}</span>
                                </label>
                                <button type="button" class="icon-button" disabled=move || !shown()
                                    aria-label=format!("Move {} earlier", column.label())
                                    on:click=move |_| columns.update(|list| *list = moved(list.clone(), column, -1))>"↑"</button>
                                <button type="button" class="icon-button" disabled=move || !shown()
                                    aria-label=format!("Move {} later", column.label())
                                    on:click=move |_| columns.update(|list| *list = moved(list.clone(), column, 1))>"↓"</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <button type="button" class="button link small" on:click=move |_| columns.set(LogColumn::default_set())>
                    "Reset columns"
                </button>
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_move_within_bounds() {
        let start = vec![LogColumn::Date, LogColumn::Identity, LogColumn::Status];
        assert_eq!(
            moved(start.clone(), LogColumn::Status, -1),
            vec![LogColumn::Date, LogColumn::Status, LogColumn::Identity]
        );
        assert_eq!(moved(start.clone(), LogColumn::Date, -1), start);
        assert_eq!(moved(start.clone(), LogColumn::Status, 1), start);
    }
}
