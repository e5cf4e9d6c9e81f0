//! A change to a customer's mappings waiting for confirmation, and the dialog that shows the
//! diff it will apply before it does.

use leptos::html;
use leptos::prelude::*;
use provisio_api::mapping::{
    Mapping, MappingChange, MappingPreview, MappingPreviewRequest, ProposedMapping,
    SaveMappingRequest,
};

use crate::api::{self, ApiFailure};
use crate::format::thousands;

/// What the admin asked for; nothing is written until they confirm its diff.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Create (no id) or replace a mapping.
    Save {
        id: Option<i64>,
        request: SaveMappingRequest,
    },
    /// The whole order, highest priority first, and what moved, in words.
    Reorder {
        ids: Vec<i64>,
        moved: String,
    },
    Delete {
        id: i64,
        name: String,
    },
}

impl Change {
    /// The list of mappings this change leads to, for the server to preview.
    pub fn proposed(&self, current: &[Mapping]) -> Vec<ProposedMapping> {
        match self {
            Change::Save { id: None, request } => current
                .iter()
                .map(Mapping::proposed)
                .chain([ProposedMapping {
                    id: None,
                    mapping: request.clone(),
                }])
                .collect(),
            Change::Save {
                id: Some(id),
                request,
            } => current
                .iter()
                .map(|m| match m.id == *id {
                    true => ProposedMapping {
                        id: Some(*id),
                        mapping: request.clone(),
                    },
                    false => m.proposed(),
                })
                .collect(),
            Change::Reorder { ids, .. } => ids
                .iter()
                .filter_map(|id| current.iter().find(|m| m.id == *id))
                .map(Mapping::proposed)
                .collect(),
            Change::Delete { id, .. } => current
                .iter()
                .filter(|m| m.id != *id)
                .map(Mapping::proposed)
                .collect(),
        }
    }

    pub fn title(&self) -> String {
        match self {
            Change::Save { id: None, request } => format!("Add “{}”", request.name),
            Change::Save { request, .. } => format!("Save “{}”", request.name),
            Change::Reorder { moved, .. } => format!("Apply the new order: {moved}"),
            Change::Delete { name, .. } => format!("Delete “{name}”"),
        }
    }

    /// Writes the change; the customer's mappings as they now are and the job placing users.
    pub async fn apply(self, customer_id: i64) -> Result<MappingChange, ApiFailure> {
        match self {
            Change::Save { id: None, request } => api::create_mapping(customer_id, &request).await,
            Change::Save {
                id: Some(id),
                request,
            } => api::update_mapping(customer_id, id, &request).await,
            Change::Reorder { ids, .. } => api::order_mappings(customer_id, ids).await,
            Change::Delete { id, .. } => api::delete_mapping(customer_id, id).await,
        }
    }
}

/// The diff of a change and the confirmation it needs: a plain confirm, or, when it moves
/// more users to another storage region than the customer's threshold, the customer's name
/// typed out.
#[component]
pub fn ChangeDialog(
    customer_id: i64,
    customer_name: String,
    region_move_threshold: u32,
    change: Change,
    current: Vec<Mapping>,
    on_applied: Callback<(Change, MappingChange)>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let request = MappingPreviewRequest {
        mappings: change.proposed(&current),
    };
    let preview = LocalResource::new(move || {
        let request = request.clone();
        async move { api::preview_mappings(customer_id, &request).await }
    });
    let stored_change = StoredValue::new(change.clone());
    let apply = Action::new_local(move |change: &Change| change.clone().apply(customer_id));
    Effect::new(move |_| {
        if let Some(Ok(answer)) = apply.value().get() {
            on_applied.run((stored_change.get_value(), answer));
        }
    });
    let typed = RwSignal::new(String::new());
    let needs_name = move || {
        preview
            .get()
            .and_then(Result::ok)
            .is_some_and(|p| p.region_changes > u64::from(region_move_threshold))
    };
    let name_for_check = customer_name.clone();
    let can_confirm = move || {
        matches!(preview.get(), Some(Ok(_)))
            && !apply.pending().get()
            && (!needs_name() || typed.get().trim() == name_for_check)
    };
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        if let Some(dialog) = dialog.get() {
            let _ = dialog.show_modal();
        }
    });
    let failure = move || apply.value().get().and_then(Result::err).map(|f| f.message);

    view! {
        <dialog
            class="dialog change-dialog"
            aria-labelledby="change-dialog-title"
            node_ref=dialog
            on:cancel=move |event: leptos::ev::Event| {
                event.prevent_default();
                on_cancel.run(());
            }
        >
            <h2 id="change-dialog-title">{change.title()}</h2>
            <Transition fallback=|| view! { <p class="hint" aria-busy="true">"Working out what changes…"</p> }>
                {move || Suspend::new(async move {
                    match preview.await {
                        Ok(diff) => view! { <DiffSummary diff /> }.into_any(),
                        Err(failure) => view! { <p class="form-error" role="alert">{failure.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=needs_name>
                <p class="warning">
                    {format!(
                        "This moves more than {} users to another storage region, which copies their backups. Type the customer's name to confirm.",
                        thousands(region_move_threshold),
                    )}
                </p>
                <label class="field">
                    <span>{format!("Type “{customer_name}”")}</span>
                    <input type="text" name="confirm-customer" autocomplete="off" bind:value=typed />
                </label>
            </Show>
            <p class="form-error" role="alert">{failure}</p>
            <div class="actions">
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button
                    type="button"
                    class="button primary confirm-change"
                    disabled=move || !can_confirm()
                    on:click=move |_| { apply.dispatch(stored_change.get_value()); }
                >
                    {move || if apply.pending().get() { "Applying…" } else { "Confirm" }}
                </button>
            </div>
        </dialog>
    }
}

/// Counts per kind of change and a sample of the users who change.
#[component]
fn DiffSummary(diff: MappingPreview) -> impl IntoView {
    let nothing = diff.changed == 0;
    let sample = diff
        .changes
        .iter()
        .take(10)
        .map(|c| {
            let from = c
                .mapping_before
                .clone()
                .unwrap_or_else(|| "no mapping".to_owned());
            let to = c
                .mapping_after
                .clone()
                .unwrap_or_else(|| "pending".to_owned());
            let region = if c.region_changes {
                " · region changes"
            } else {
                ""
            };
            view! { <li>{format!("{}: {from} → {to}{region}", c.email)}</li> }
        })
        .collect_view();
    view! {
        <div class="diff-summary" role="status">
            <p class="diff-total">
                {if nothing {
                    format!("No user of the {} changes placement.", thousands(diff.users as i64))
                } else {
                    format!("{} of {} users change placement.", thousands(diff.changed as i64), thousands(diff.users as i64))
                }}
            </p>
            <ul class="diff-counts">
                <li>{format!("Profile: {}", thousands(diff.profile_changes as i64))}</li>
                <li>{format!("Storage region: {}", thousands(diff.region_changes as i64))}</li>
                <li>{format!("Quota: {}", thousands(diff.quota_changes as i64))}</li>
                <li>{format!("Pending (no mapping matches): {}", thousands(diff.pending as i64))}</li>
            </ul>
            <Show when=move || !nothing>
                <p class="hint">"For example:"</p>
            </Show>
            <ul class="diff-sample">{sample}</ul>
        </div>
    }
}
