//! The customer's mappings in priority order. Reordering, by dragging a row, by
//! Alt+Shift+Arrow keys on its handle or from its Move menu, proposes a new order; the page
//! shows its diff before anything is saved. Every proposed move is announced.

use leptos::prelude::*;
use provisio_api::mapping::Mapping;

use crate::format::thousands;

/// What a row asks the page to do.
#[derive(Clone, Copy)]
pub struct RowActions {
    pub can_manage: bool,
    /// The whole new order and the move in words.
    pub on_reorder: Callback<(Vec<i64>, String)>,
    pub on_edit: Callback<Mapping>,
    pub on_delete: Callback<Mapping>,
}

#[derive(Clone, Copy)]
struct Reorder {
    ids: StoredValue<Vec<i64>>,
    names: StoredValue<Vec<String>>,
    dragging: RwSignal<Option<usize>>,
    drop_at: RwSignal<Option<usize>>,
    menu_open: RwSignal<Option<i64>>,
    announcement: RwSignal<String>,
    on_reorder: Callback<(Vec<i64>, String)>,
}

impl Reorder {
    /// Proposes moving the mapping at `from` to position `to` (clamped).
    fn move_to(self, from: usize, to: usize) {
        self.menu_open.set(None);
        let mut ids = self.ids.get_value();
        let to = to.min(ids.len().saturating_sub(1));
        let name = self
            .names
            .with_value(|n| n.get(from).cloned().unwrap_or_default());
        if from == to || from >= ids.len() {
            self.announcement
                .set(format!("{name} stays at priority {}", from + 1));
            return;
        }
        let id = ids.remove(from);
        ids.insert(to, id);
        let moved = format!("“{name}” to priority {} of {}", to + 1, ids.len());
        self.announcement
            .set(format!("{moved} proposed; review the change to apply it"));
        self.on_reorder.run((ids, moved));
    }

    fn drop(self) {
        if let (Some(from), Some(at)) =
            (self.dragging.get_untracked(), self.drop_at.get_untracked())
        {
            self.move_to(from, if at > from { at - 1 } else { at });
        }
        self.dragging.set(None);
        self.drop_at.set(None);
    }
}

#[component]
pub fn MappingList(mappings: Vec<Mapping>, actions: RowActions) -> impl IntoView {
    let reorder = Reorder {
        ids: StoredValue::new(mappings.iter().map(|m| m.id).collect()),
        names: StoredValue::new(mappings.iter().map(|m| m.name.clone()).collect()),
        dragging: RwSignal::new(None),
        drop_at: RwSignal::new(None),
        menu_open: RwSignal::new(None),
        announcement: RwSignal::new(String::new()),
        on_reorder: actions.on_reorder,
    };
    let count = mappings.len();
    let rows = mappings
        .into_iter()
        .enumerate()
        .map(|(index, mapping)| view! { <MappingRow mapping index count reorder actions /> })
        .collect_view();
    view! {
        <p class="visually-hidden mapping-announcer" aria-live="assertive" aria-atomic="true">
            {move || reorder.announcement.get()}
        </p>
        <p id="mapping-move-help" class="visually-hidden">
            "Alt+Shift+Up or Down moves this mapping; Alt+Shift+Home or End moves it first or last."
        </p>
        <div class="table-frame">
            <div class="table-scroll">
                <table class="data-table mappings-table">
                    <thead>
                        <tr>
                            <th scope="col">"Priority"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Matches"</th>
                            <th scope="col">"Profile"</th>
                            <th scope="col">"Storage region"</th>
                            <th scope="col">"Quota"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col" class="numeric">"Users"</th>
                            <th scope="col">"Actions"</th>
                        </tr>
                    </thead>
                    <tbody on:dragover=move |e: web_sys::DragEvent| {
                        if reorder.dragging.get_untracked().is_some() { e.prevent_default(); }
                    }>
                        {rows}
                    </tbody>
                </table>
            </div>
        </div>
    }
}

#[component]
fn MappingRow(
    mapping: Mapping,
    index: usize,
    count: usize,
    reorder: Reorder,
    actions: RowActions,
) -> impl IntoView {
    let id = mapping.id;
    let stored = StoredValue::new(mapping.clone());
    let on_drag_over = move |event: web_sys::DragEvent| {
        if reorder.dragging.get_untracked().is_none() {
            return;
        }
        event.prevent_default();
        use wasm_bindgen::JsCast;
        let below = event
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|row| {
                let rect = row.get_bounding_client_rect();
                f64::from(event.client_y()) > rect.top() + rect.height() / 2.0
            })
            .unwrap_or(false);
        reorder
            .drop_at
            .set(Some(if below { index + 1 } else { index }));
    };
    let on_key = move |event: web_sys::KeyboardEvent| {
        if !(event.alt_key() && event.shift_key()) {
            return;
        }
        let to = match event.key().as_str() {
            "ArrowUp" => index.saturating_sub(1),
            "ArrowDown" => index + 1,
            "Home" => 0,
            "End" => usize::MAX,
            _ => return,
        };
        event.prevent_default();
        reorder.move_to(index, to);
    };
    let menu_open = move || reorder.menu_open.get() == Some(id);
    let handle_label = format!("Priority {} of {count}: {}. Move", index + 1, mapping.name);
    let quota = mapping
        .quota_gb
        .map(|gb| format!("{} GB", thousands(gb)))
        .unwrap_or_else(|| "Unlimited".to_owned());
    let move_item = move |label: &'static str, to: usize, disabled: bool| {
        view! {
            <li role="none">
                <button type="button" role="menuitem" class="menu-item" disabled=disabled
                    on:click=move |_| reorder.move_to(index, to)>{label}</button>
            </li>
        }
    };
    view! {
        <tr
            class="row mapping-row"
            data-mapping=mapping.name.clone()
            draggable=actions.can_manage.to_string()
            class:dragging=move || reorder.dragging.get() == Some(index)
            class:drop-before=move || reorder.dragging.get().is_some() && reorder.drop_at.get() == Some(index)
            class:drop-after=move || reorder.dragging.get().is_some() && index + 1 == count && reorder.drop_at.get() == Some(count)
            on:dragstart=move |event: web_sys::DragEvent| {
                if let Some(transfer) = event.data_transfer() {
                    transfer.set_effect_allowed("move");
                    let _ = transfer.set_data("text/plain", &stored.with_value(|m| m.name.clone()));
                }
                reorder.dragging.set(Some(index));
            }
            on:dragover=on_drag_over
            on:drop=move |event: web_sys::DragEvent| { event.prevent_default(); reorder.drop(); }
            on:dragend=move |_| { reorder.dragging.set(None); reorder.drop_at.set(None); }
        >
            <td class="priority">
                <Show when=move || actions.can_manage fallback=move || index + 1>
                    <button type="button" class="icon-button move-handle"
                        aria-label=handle_label.clone()
                        aria-describedby="mapping-move-help"
                        aria-haspopup="menu"
                        aria-expanded=move || menu_open().to_string()
                        on:keydown=on_key
                        on:click=move |_| reorder.menu_open.update(|open| *open = if *open == Some(id) { None } else { Some(id) })
                    >
                        <span aria-hidden="true">"⠿ "</span>{index + 1}
                    </button>
                    <Show when=menu_open>
                        <ul class="column-menu" role="menu"
                            on:keydown=move |e: web_sys::KeyboardEvent| if e.key() == "Escape" { reorder.menu_open.set(None) }>
                            {move_item("Move first", 0, index == 0)}
                            {move_item("Move up", index.saturating_sub(1), index == 0)}
                            {move_item("Move down", index + 1, index + 1 == count)}
                            {move_item("Move last", usize::MAX, index + 1 == count)}
                        </ul>
                    </Show>
                </Show>
            </td>
            <td class="mapping-name">{mapping.name.clone()}</td>
            <td class="mapping-matches">{mapping.matches_text.clone()}</td>
            <td>{mapping.profile_name.clone()}</td>
            <td>{mapping.storage_region_name.clone()}</td>
            <td>{quota}</td>
            <td>
                <span class=if mapping.enabled { "status-pill ok" } else { "status-pill off" }>
                    {if mapping.enabled { "Enabled" } else { "Paused" }}
                </span>
            </td>
            <td class="numeric mapping-users">{thousands(mapping.users as i64)}</td>
            <td class="row-actions">
                <Show when=move || actions.can_manage>
                    <button type="button" class="button link edit-mapping"
                        on:click=move |_| actions.on_edit.run(stored.get_value())>"Edit"</button>
                    <button type="button" class="button link danger delete-mapping"
                        on:click=move |_| actions.on_delete.run(stored.get_value())>"Delete"</button>
                </Show>
            </td>
        </tr>
    }
}
