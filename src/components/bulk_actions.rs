//! Acting on many users at once from the report: rows are picked by their checkboxes (or every
//! user the filters match), an action first asks the server for a dry run, and the admin
//! confirms knowing how many users will change.

use std::collections::BTreeSet;

use leptos::prelude::*;
use provisio_api::report::{ReportQuery, ReportRow};
use provisio_api::user::{
    BulkAction, BulkOutcome, BulkRequest, BulkSelection, ManualPlacement, MAX_BULK_USERS,
};

use crate::api;
use crate::components::placement_form::{PlacementForm, PlacementStart};
use crate::format;

/// The report's selected users: the rows ticked, or everyone the query matches.
#[derive(Clone, Copy)]
pub struct RowSelection {
    ids: RwSignal<BTreeSet<i64>>,
    all_matching: RwSignal<bool>,
    loaded: Memo<Vec<i64>>,
    rows: Signal<Vec<ReportRow>>,
}

/// A selection over the report's loaded `rows`, emptied whenever the query changes.
pub fn use_row_selection(query: Signal<ReportQuery>, rows: Signal<Vec<ReportRow>>) -> RowSelection {
    let selection = RowSelection {
        ids: RwSignal::new(BTreeSet::new()),
        all_matching: RwSignal::new(false),
        loaded: Memo::new(move |_| rows.with(|rows| rows.iter().map(|r| r.id).collect())),
        rows,
    };
    Effect::new(move |previous: Option<ReportQuery>| {
        let current = query.get();
        if previous.is_some_and(|previous| previous != current) {
            selection.clear();
        }
        current
    });
    selection
}

impl RowSelection {
    pub fn is_selected(self, id: i64) -> bool {
        self.all_matching.get() || self.ids.with(|ids| ids.contains(&id))
    }

    pub fn set(self, id: i64, selected: bool) {
        if self.all_matching.get_untracked() {
            // Unticking one of "all matching" leaves the loaded rows but that one.
            self.all_matching.set(false);
            self.ids
                .set(self.loaded.get_untracked().into_iter().collect());
        }
        self.ids.update(|ids| {
            if selected {
                ids.insert(id);
            } else {
                ids.remove(&id);
            }
        });
    }

    /// Every loaded row is selected (the header's checkbox is ticked).
    pub fn all_loaded(self) -> bool {
        self.all_matching.get()
            || self.loaded.with(|loaded| {
                !loaded.is_empty()
                    && self
                        .ids
                        .with(|ids| loaded.iter().all(|id| ids.contains(id)))
            })
    }

    pub fn set_all_loaded(self, selected: bool) {
        self.all_matching.set(false);
        if selected {
            self.ids
                .set(self.loaded.get_untracked().into_iter().collect());
        } else {
            self.ids.set(BTreeSet::new());
        }
    }

    pub fn clear(self) {
        self.all_matching.set(false);
        self.ids.set(BTreeSet::new());
    }

    pub fn is_empty(self) -> bool {
        !self.all_matching.get() && self.ids.with(BTreeSet::is_empty)
    }

    /// How many users are selected, `total` being how many the query matches.
    pub fn count(self, total: Option<u64>) -> u64 {
        if self.all_matching.get() {
            total.unwrap_or(0)
        } else {
            self.ids.with(|ids| ids.len() as u64)
        }
    }

    /// The Global Customer ID every selected loaded row shares, if they share one.
    pub fn one_customer(self) -> Option<String> {
        let all = self.all_matching.get();
        self.ids.with(|ids| {
            self.rows.with(|rows| {
                let mut customers = rows
                    .iter()
                    .filter(|row| all || ids.contains(&row.id))
                    .map(|row| &row.global_customer_id);
                let first = customers.next()?;
                customers.all(|c| c == first).then(|| first.clone())
            })
        })
    }

    /// The selection as the server takes it.
    fn request(self, query: &ReportQuery) -> BulkSelection {
        if self.all_matching.get_untracked() {
            BulkSelection::Query {
                query: query.to_query_string(),
            }
        } else {
            BulkSelection::Ids {
                ids: self.ids.get_untracked().into_iter().collect(),
            }
        }
    }
}

/// "Preserved 12 users."
fn done_message(action: &BulkAction, changed: u64) -> String {
    let users = users(changed);
    match action {
        BulkAction::Preserve => format!("Preserved {users}."),
        BulkAction::Restore => format!("Restored {users}."),
        BulkAction::PlaceByHand { .. } => format!("Placed {users} by hand."),
        BulkAction::ClearPlacement => format!("Returned {users} to the mappings."),
        BulkAction::DeletePermanently => format!("Deleted {users} permanently."),
    }
}

fn users(n: u64) -> String {
    match n {
        1 => "1 user".to_owned(),
        n => format!("{} users", format::thousands(n as i64)),
    }
}

/// The bar above the table while users are selected: the count, "select all matching", the
/// actions, and the dry run's count awaiting confirmation.
#[component]
pub fn BulkBar(
    selection: RowSelection,
    #[prop(into)] query: Signal<ReportQuery>,
    #[prop(into)] total: Signal<Option<u64>>,
    /// The action changed users: reload the report.
    on_done: Callback<()>,
) -> impl IntoView {
    let proposed = RwSignal::new(None::<(BulkAction, BulkOutcome)>);
    let finished = RwSignal::new(None::<String>);
    let placing = RwSignal::new(false);
    // Placing by hand takes one customer's profile and region: the customer of the selection.
    // Read once users are selected, not with every report page.
    let selecting = Memo::new(move |_| !selection.is_empty());
    let customers = LocalResource::new(move || {
        let selecting = selecting.get();
        async move {
            if selecting {
                api::customers().await
            } else {
                Ok(Vec::new())
            }
        }
    });
    let customer = Memo::new(move |_| {
        let global_id = selection.one_customer()?;
        customers
            .get()?
            .ok()?
            .into_iter()
            .find(|c| c.global_id == global_id)
            .map(|c| c.id)
    });
    let run = Action::new_local(move |(action, dry_run): &(BulkAction, bool)| {
        let request = BulkRequest {
            action: action.clone(),
            users: selection.request(&query.get_untracked()),
            dry_run: *dry_run,
        };
        async move {
            let outcome = api::bulk_users(&request).await?;
            Ok::<_, api::ApiFailure>((request.action, outcome))
        }
    });
    Effect::new(move |_| {
        if let Some(Ok((action, outcome))) = run.value().get() {
            if outcome.dry_run {
                proposed.set(Some((action, outcome)));
            } else {
                proposed.set(None);
                finished.set(Some(done_message(&action, outcome.changed)));
                selection.clear();
                on_done.run(());
            }
        }
    });
    // A new selection asks afresh.
    Effect::new(move |_| {
        selection.count(None);
        selection.all_matching.track();
        proposed.set(None);
        placing.set(false);
    });
    let failure = move || run.value().get().and_then(Result::err).map(|f| f.message);
    let ask = move |action: BulkAction| {
        finished.set(None);
        run.dispatch((action, true));
    };
    let selected = move || users(selection.count(total.get()));
    let loaded = move || selection.loaded.with(Vec::len) as u64;
    let offer_all = move || {
        selection.all_loaded()
            && !selection.all_matching.get()
            && total.get().is_some_and(|t| t > loaded())
    };
    let select_all = move |_| selection.all_matching.set(true);
    let too_many = move || selection.count(total.get()) > MAX_BULK_USERS as u64;

    view! {
        <Show when=move || finished.get().is_some() && selection.is_empty()>
            <p class="banner success bulk-done" role="status">{move || finished.get()}</p>
        </Show>
        <Show when=move || !selection.is_empty()>
            <div class="bulk-bar" role="region" aria-label="Act on selected users">
                <p class="bulk-count" aria-live="polite">{selected}" selected"</p>
                <Show when=offer_all>
                    <button type="button" class="button link select-all-matching" on:click=select_all>
                        {move || format!("Select all {} matching", users(total.get().unwrap_or(0)))}
                    </button>
                </Show>
                <Show when=too_many fallback=move || view! {
                    <div class="bulk-actions">
                        <button type="button" class="button secondary small bulk-preserve"
                            disabled=move || run.pending().get()
                            on:click=move |_| ask(BulkAction::Preserve)>"Preserve"</button>
                        <button type="button" class="button secondary small bulk-restore"
                            disabled=move || run.pending().get()
                            on:click=move |_| ask(BulkAction::Restore)>"Restore"</button>
                        <button type="button" class="button secondary small bulk-clear-placement"
                            disabled=move || run.pending().get()
                            on:click=move |_| ask(BulkAction::ClearPlacement)>"Return to the mappings"</button>
                        <button type="button" class="button secondary small bulk-place"
                            disabled=move || run.pending().get() || customer.get().is_none()
                            title=move || customer.get().is_none().then_some("Select users of one customer to place them by hand")
                            on:click=move |_| { proposed.set(None); placing.set(true); }>"Place by hand…"</button>
                        <button type="button" class="button link danger small bulk-delete"
                            disabled=move || run.pending().get()
                            on:click=move |_| ask(BulkAction::DeletePermanently)>"Delete permanently…"</button>
                    </div>
                }>
                    <p class="inline-error">
                        {format!("One action changes at most {} users; narrow the filters.", format::thousands(MAX_BULK_USERS as i64))}
                    </p>
                </Show>
                <button type="button" class="button link small bulk-cancel" on:click=move |_| selection.clear()>
                    "Clear selection"
                </button>
                {move || placing.get().then(|| customer.get()).flatten().map(|customer_id| view! {
                    <PlacementForm customer_id start=PlacementStart::default()
                        hint="The selected users are placed here; the mappings pass them by until they are returned to the mappings."
                        submit_label="Continue"
                        pending=run.pending()
                        failure=Signal::stored(None::<String>)
                        on_submit=Callback::new(move |placement: ManualPlacement| {
                            placing.set(false);
                            ask(BulkAction::PlaceByHand {
                                profile_id: placement.profile_id,
                                storage_region_id: placement.storage_region_id,
                                quota_gb: placement.quota_gb,
                            });
                        })
                        on_cancel=Callback::new(move |()| placing.set(false)) />
                })}
                {move || proposed.get().map(|(action, outcome)| view! {
                    <BulkConfirm action outcome pending=run.pending()
                        on_confirm=Callback::new(move |action: BulkAction| { run.dispatch((action, false)); })
                        on_cancel=Callback::new(move |()| proposed.set(None)) />
                })}
                <p class="form-error" role="alert">{failure}</p>
            </div>
        </Show>
    }
}

/// What the dry run found, and the button that does it.
#[component]
fn BulkConfirm(
    action: BulkAction,
    outcome: BulkOutcome,
    pending: Memo<bool>,
    on_confirm: Callback<BulkAction>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let verb = action.verb();
    let question = if outcome.changed == 0 {
        format!(
            "{verb}: none of the {} selected would change.",
            users(outcome.selected)
        )
    } else {
        let deleting = matches!(action, BulkAction::DeletePermanently);
        let already = match (outcome.unchanged, deleting) {
            (0, _) => String::new(),
            (1, false) => " 1 other is already so.".to_owned(),
            (1, true) => " 1 other is not preserved and stays.".to_owned(),
            (n, false) => format!(" {} others are already so.", format::thousands(n as i64)),
            (n, true) => format!(
                " {} others are not preserved and stay.",
                format::thousands(n as i64)
            ),
        };
        format!("{verb} {}?{already}", users(outcome.changed))
    };
    let button = format!("{verb} {}", users(outcome.changed));
    // Deleting for good cannot be undone: the word is typed out first.
    let destructive = matches!(action, BulkAction::DeletePermanently);
    let stored = StoredValue::new(action);
    let typed = RwSignal::new(String::new());
    let ready = move || {
        !pending.get() && (!destructive || typed.get().trim().eq_ignore_ascii_case("delete"))
    };
    view! {
        <div class="confirm bulk-confirm" role="alertdialog" aria-label=verb>
            <span class="bulk-question">{question}</span>
            {(destructive && outcome.changed > 0).then(|| view! {
                <label class="field inline">
                    <span>"Their rows, groups and history are removed for good. Type “delete” to confirm"</span>
                    <input type="text" name="confirm-bulk-delete" autocomplete="off" bind:value=typed />
                </label>
            })}
            {(outcome.changed > 0).then(|| view! {
                <button type="button" class="button primary small bulk-confirm-yes"
                    class:danger=destructive
                    disabled=move || !ready()
                    on:click=move |_| on_confirm.run(stored.get_value())>{button}</button>
            })}
            <button type="button" class="button link small" on:click=move |_| on_cancel.run(())>"Cancel"</button>
        </div>
    }
}
