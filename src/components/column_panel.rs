//! The "Columns" panel: every column with a checkbox to show or hide it, buttons to move it,
//! and a way back to the report's own order.

use leptos::prelude::*;
use provisio_api::report::{ColumnLayout, ReportField};

#[component]
pub fn ColumnPanel(
    #[prop(into)] layout: Signal<ColumnLayout>,
    on_change: Callback<ColumnLayout>,
    on_reset: Callback<()>,
) -> impl IntoView {
    let summary = move || {
        layout.with(|layout| {
            format!(
                "Columns ({} of {})",
                layout.visible().len(),
                ReportField::ALL.len()
            )
        })
    };
    let edit = move |change: &dyn Fn(&mut ColumnLayout)| {
        let mut next = layout.get_untracked();
        change(&mut next);
        on_change.run(next);
    };
    let items = move || {
        let current = layout.get();
        let count = current.order.len();
        let only_one_visible = current.visible().len() == 1;
        current
            .order
            .iter()
            .copied()
            .enumerate()
            .map(|(position, field)| {
                let shown = !current.is_hidden(field);
                let label = field.label();
                view! {
                    <li class="column-option" data-field=field.key()>
                        <label>
                            <input
                                type="checkbox"
                                prop:checked=shown
                                // The last visible column stays: a table needs one.
                                disabled=shown && only_one_visible
                                on:change=move |event| {
                                    let show = event_target_checked(&event);
                                    edit(&|l| {
                                        l.set_hidden(field, !show);
                                    });
                                }
                            />
                            {label}
                        </label>
                        <span class="column-option-moves">
                            <button
                                type="button"
                                class="icon-button"
                                aria-label=format!("Move {label} up")
                                disabled=position == 0
                                on:click=move |_| edit(&|l| l.move_in_order(field, position.saturating_sub(1)))
                            >
                                "↑"
                            </button>
                            <button
                                type="button"
                                class="icon-button"
                                aria-label=format!("Move {label} down")
                                disabled=position + 1 == count
                                on:click=move |_| edit(&|l| l.move_in_order(field, position + 1))
                            >
                                "↓"
                            </button>
                        </span>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <details class="columns-panel popover">
            <summary class="button secondary">{summary}</summary>
            <div class="popover-panel">
                <p class="popover-title">"Show, hide and order columns"</p>
                <ol class="column-options">{items}</ol>
                <button type="button" class="button link reset-columns" on:click=move |_| on_reset.run(())>
                    "Reset to default"
                </button>
            </div>
        </details>
    }
}
