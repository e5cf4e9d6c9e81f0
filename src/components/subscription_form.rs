//! Create or edit a subscription: what it delivers, in which format, when, and to whom, with
//! the next three deliveries previewed in UTC and in the browser's time.

use leptos::prelude::*;
use provisio_api::report::{ExportFormat, ReportField, ReportQuery, SavedView};
use provisio_api::subscription::{
    plausible_email, SaveSubscriptionRequest, SubscribedView, Subscription, MAX_RECIPIENTS,
};

use crate::api::{self, ApiFailure};
use crate::components::schedule_fields::{ScheduleDraft, ScheduleFields};

/// The report as it is on screen, offered as a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentView {
    pub query: String,
    pub columns: Vec<ReportField>,
    /// Chip texts: filters, service plans, sort and column count.
    pub chips: Vec<String>,
}

impl CurrentView {
    pub fn chips_of(query: &ReportQuery, column_count: usize) -> Vec<String> {
        let mut chips: Vec<String> = query.filters.iter().map(|f| f.describe()).collect();
        if !query.service_plans.is_empty() {
            chips.push(format!("Service plan: {}", query.service_plans.join(", ")));
        }
        chips.push(format!("Sorted by {}", query.sort.field.label()));
        chips.push(format!("{column_count} columns"));
        chips
    }

    /// A stored snapshot (query string and columns; no columns means the report's own).
    pub fn from_snapshot(query: &str, columns: &[ReportField]) -> CurrentView {
        let column_count = if columns.is_empty() {
            ReportField::SEED.len()
        } else {
            columns.len()
        };
        let parsed = ReportQuery::from_query_string(query).ok();
        CurrentView {
            query: query.to_owned(),
            columns: columns.to_vec(),
            chips: parsed
                .map(|q| CurrentView::chips_of(&q, column_count))
                .unwrap_or_default(),
        }
    }
}

/// What the form holds, field by field: a Copy handle its pieces share.
#[derive(Clone, Copy)]
struct SubscriptionDraft {
    name: RwSignal<String>,
    /// The view as it is now (new from the report) or as it was snapshotted; None elsewhere.
    snapshot: StoredValue<Option<CurrentView>>,
    use_saved: RwSignal<bool>,
    follows_view: RwSignal<Option<i64>>,
    format: RwSignal<ExportFormat>,
    schedule: ScheduleDraft,
    recipients: RwSignal<String>,
    skip_empty: RwSignal<bool>,
    enabled: RwSignal<bool>,
}

impl SubscriptionDraft {
    fn new(existing: Option<&Subscription>, current: Option<CurrentView>) -> SubscriptionDraft {
        let existing_snapshot = existing.and_then(|s| match &s.view {
            SubscribedView::Snapshot { query, columns } => {
                Some(CurrentView::from_snapshot(query, columns))
            }
            SubscribedView::SavedView { .. } => None,
        });
        let snapshot = StoredValue::new(current.or(existing_snapshot));
        let follows_view = existing.and_then(|s| match s.view {
            SubscribedView::SavedView { view_id } => Some(view_id),
            SubscribedView::Snapshot { .. } => None,
        });
        SubscriptionDraft {
            name: RwSignal::new(
                existing.map_or_else(|| "Daily user provisioning".to_owned(), |s| s.name.clone()),
            ),
            snapshot,
            use_saved: RwSignal::new(
                follows_view.is_some() || snapshot.with_value(Option::is_none),
            ),
            follows_view: RwSignal::new(follows_view),
            format: RwSignal::new(existing.map_or(ExportFormat::Csv, |s| s.format)),
            schedule: ScheduleDraft::new(existing.map(|s| &s.schedule)),
            recipients: RwSignal::new(
                existing
                    .map(|s| s.recipients.join(", "))
                    .unwrap_or_default(),
            ),
            skip_empty: RwSignal::new(existing.is_some_and(|s| s.skip_empty)),
            enabled: RwSignal::new(existing.is_none_or(|s| s.enabled)),
        }
    }

    /// What the recipients' text gets wrong, before asking the server.
    fn recipient_problem(self) -> Option<String> {
        self.recipients.with(|text| {
            let list: Vec<&str> = split_recipients(text);
            if let Some(bad) = list.iter().find(|r| !plausible_email(r)) {
                Some(format!("'{bad}' is not an email address."))
            } else if list.len() > MAX_RECIPIENTS {
                Some(format!("At most {MAX_RECIPIENTS} recipients."))
            } else {
                None
            }
        })
    }

    /// The request to send, or why the form refuses it.
    fn request(self) -> Result<SaveSubscriptionRequest, ApiFailure> {
        let view = if self.use_saved.get_untracked() {
            let view_id = self.follows_view.get_untracked().ok_or(ApiFailure {
                message: "Choose the saved view to follow.".into(),
                status: None,
                parameter: Some("view".into()),
            })?;
            SubscribedView::SavedView { view_id }
        } else {
            let current = self.snapshot.get_value().ok_or(ApiFailure {
                message: "There is no view to snapshot here: choose a saved view.".into(),
                status: None,
                parameter: Some("view".into()),
            })?;
            SubscribedView::Snapshot {
                query: current.query,
                columns: current.columns,
            }
        };
        Ok(SaveSubscriptionRequest {
            name: self.name.get_untracked(),
            view,
            format: self.format.get_untracked(),
            schedule: self.schedule.schedule.get_untracked(),
            recipients: self
                .recipients
                .with_untracked(|t| split_recipients(t).into_iter().map(str::to_owned).collect()),
            skip_empty: self.skip_empty.get_untracked(),
            enabled: self.enabled.get_untracked(),
        })
    }
}

#[component]
pub fn SubscriptionForm(
    /// The subscription being edited, or None for a new one.
    #[prop(optional)]
    existing: Option<Subscription>,
    /// The report's current view, offered as a snapshot (absent outside the report).
    #[prop(optional)]
    current: Option<CurrentView>,
    saved_views: Signal<Vec<SavedView>>,
    on_saved: Callback<Subscription>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let editing = existing.as_ref().map(|s| s.id);
    let draft = SubscriptionDraft::new(existing.as_ref(), current);
    // A choice the form itself refuses before asking the server.
    let refused = RwSignal::new(None::<ApiFailure>);
    let save = Action::new_local(move |request: &SaveSubscriptionRequest| {
        let request = request.clone();
        async move {
            match editing {
                Some(id) => api::update_subscription(id, &request).await,
                None => api::create_subscription(&request).await,
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(subscription)) = save.value().get() {
            on_saved.run(subscription);
        }
    });
    let error = Signal::derive(move || {
        refused
            .get()
            .or_else(|| save.value().get().and_then(Result::err))
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        match draft.request() {
            Ok(request) => {
                refused.set(None);
                save.dispatch(request);
            }
            Err(refusal) => refused.set(Some(refusal)),
        }
    };
    let field_error = Callback::new(move |field: &'static str| {
        error.with(|e| e.as_ref().and_then(|f| f.about(field)))
    });
    let general_error = move || {
        error.with(|e| {
            e.as_ref()
                .and_then(|f| f.beyond(&["name", "recipients", "schedule", "view"]))
        })
    };
    let name = draft.name;

    view! {
        <form class="panel subscription-form" on:submit=submit aria-label=if editing.is_some() { "Edit subscription" } else { "New subscription" }>
            <div class="form-grid">
                <label class="field">
                    <span>"Name"</span>
                    <input type="text" name="subscription_name" maxlength="80" required bind:value=name />
                    <small class="field-error">{move || field_error.run("name")}</small>
                </label>
                <FormatField format=draft.format />
            </div>
            <DeliversFields draft saved_views field_error />
            <ScheduleFields draft=draft.schedule error=Signal::derive(move || field_error.run("schedule")) />
            <DeliveryFields draft field_error />
            <Show when=move || general_error().is_some()>
                <p class="form-error" role="alert">{general_error}</p>
            </Show>
            <div class="actions">
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="submit" class="button primary save-subscription" disabled=move || save.pending().get() || draft.recipient_problem().is_some()>
                    {if editing.is_some() { "Save changes" } else { "Subscribe" }}
                </button>
            </div>
        </form>
    }
}

#[component]
fn FormatField(format: RwSignal<ExportFormat>) -> impl IntoView {
    view! {
        <label class="field">
            <span>"Format"</span>
            <select name="format" on:change=move |e| {
                if let Some(f) = ExportFormat::from_key(&event_target_value(&e)) {
                    format.set(f);
                }
            }>
                {[ExportFormat::Csv, ExportFormat::Json]
                    .into_iter()
                    .map(|f| view! { <option value=f.key() selected=move || format.get() == f>{f.label()}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

/// What the subscription delivers: the snapshot offered, or a saved view it follows.
#[component]
fn DeliversFields(
    draft: SubscriptionDraft,
    saved_views: Signal<Vec<SavedView>>,
    field_error: Callback<&'static str, Option<String>>,
) -> impl IntoView {
    let (use_saved, follows_view) = (draft.use_saved, draft.follows_view);
    let chips = draft
        .snapshot
        .get_value()
        .map(|c| c.chips)
        .unwrap_or_default();
    view! {
        <fieldset class="field-set">
            <legend>"Delivers"</legend>
            <Show when=move || draft.snapshot.with_value(Option::is_some)>
                <label class="choice">
                    <input type="radio" name="view_kind" value="snapshot" prop:checked=move || !use_saved.get() on:change=move |_| use_saved.set(false) />
                    "This view as it is now (a snapshot: later changes on screen do not change it)"
                </label>
                <ul class="chips snapshot-chips" aria-label="Snapshot of the view">
                    {chips.clone().into_iter().map(|chip| view! { <li class="chip"><span class="chip-label">{chip}</span></li> }).collect_view()}
                </ul>
            </Show>
            <label class="choice">
                <input type="radio" name="view_kind" value="saved_view" prop:checked=move || use_saved.get() on:change=move |_| use_saved.set(true) />
                "A saved view, followed as it changes"
            </label>
            <select
                name="saved_view"
                aria-label="Saved view to follow"
                disabled=move || !use_saved.get()
                on:change=move |e| follows_view.set(event_target_value(&e).parse().ok())
            >
                <option value="">"Choose a saved view…"</option>
                {move || saved_views.get().into_iter().map(|v| {
                    let id = v.id;
                    view! { <option value=id.to_string() selected=move || follows_view.get() == Some(id)>{v.name}</option> }
                }).collect_view()}
            </select>
            <small class="field-error">{move || field_error.run("view")}</small>
        </fieldset>
    }
}

/// To whom, and when a delivery is skipped or paused.
#[component]
fn DeliveryFields(
    draft: SubscriptionDraft,
    field_error: Callback<&'static str, Option<String>>,
) -> impl IntoView {
    let (recipients, skip_empty, enabled) = (draft.recipients, draft.skip_empty, draft.enabled);
    view! {
        <label class="field">
            <span>{format!("Recipients (comma or line separated, up to {MAX_RECIPIENTS})")}</span>
            <textarea name="recipients" rows="2" required prop:value=recipients on:input=move |e| recipients.set(event_target_value(&e))></textarea>
            <small class="field-error">{move || field_error.run("recipients").or_else(|| draft.recipient_problem())}</small>
        </label>
        <label class="choice">
            <input type="checkbox" name="skip_empty" bind:checked=skip_empty />
            "Skip the delivery when the report is empty"
        </label>
        <label class="choice">
            <input type="checkbox" name="enabled" bind:checked=enabled />
            "Enabled (uncheck to pause)"
        </label>
    }
}

fn split_recipients(text: &str) -> Vec<&str> {
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect()
}
