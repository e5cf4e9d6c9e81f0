//! The "Add filter" panel: a field, then an operator that fits its type, then the value(s).
//!
//! It checks the filter with the same `Filter::new` the server uses, so a filter the panel
//! accepts is one the API accepts, and a mistake is explained before anything is sent.

use leptos::html;
use leptos::prelude::*;
use provisio_api::report::{
    FacetValue, FieldKind, Filter, Operand, Operator, ReportFacets, ReportField,
};

use crate::components::facet_checklist::FacetChecklist;

/// The filter as the panel holds it: a Copy handle its pieces share.
#[derive(Clone, Copy)]
struct FilterDraft {
    field: RwSignal<ReportField>,
    operator: RwSignal<Operator>,
    /// The value, or the first of two (Between), or comma-separated values without facets.
    first: RwSignal<String>,
    second: RwSignal<String>,
    /// Values ticked in the facet list (any of).
    chosen: RwSignal<Vec<String>>,
    error: RwSignal<Option<String>>,
    facets: Signal<Option<ReportFacets>>,
}

impl FilterDraft {
    fn new(initial: Option<&Filter>, facets: Signal<Option<ReportFacets>>) -> FilterDraft {
        let values = initial.map(Filter::values).unwrap_or_default();
        FilterDraft {
            field: RwSignal::new(initial.map_or(ReportField::UserName, Filter::field)),
            operator: RwSignal::new(initial.map_or(Operator::Contains, Filter::operator)),
            first: RwSignal::new(values.first().cloned().unwrap_or_default()),
            second: RwSignal::new(values.get(1).cloned().unwrap_or_default()),
            chosen: RwSignal::new(match initial.map(Filter::operand) {
                Some(Operand::Texts(values)) => values.clone(),
                _ => vec![],
            }),
            error: RwSignal::new(None),
            facets,
        }
    }

    /// The field's values with counts, when the facets list them.
    fn facet_values(self) -> Option<Vec<FacetValue>> {
        self.facets.with(|facets| {
            facets
                .as_ref()
                .and_then(|facets| facets.for_field(self.field.get()))
                .map(<[_]>::to_vec)
        })
    }

    /// Another field: its first operator, no values.
    fn pick_field(self, key: &str) {
        if let Some(new_field) = ReportField::from_key(key) {
            self.field.set(new_field);
            self.operator.set(new_field.kind().operators()[0]);
            self.first.set(String::new());
            self.second.set(String::new());
            self.chosen.set(vec![]);
            self.error.set(None);
        }
    }

    /// The filter, checked as the server checks it, or the reason it is refused.
    fn filter(self) -> Result<Filter, String> {
        let values = match self.operator.get_untracked() {
            Operator::IsEmpty => vec![],
            Operator::Between => vec![self.first.get_untracked(), self.second.get_untracked()],
            Operator::AnyOf if self.facet_values().is_some() => self.chosen.get_untracked(),
            Operator::AnyOf => self
                .first
                .get_untracked()
                .split(',')
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect(),
            _ => vec![self.first.get_untracked()],
        };
        Filter::new(
            self.field.get_untracked(),
            self.operator.get_untracked(),
            values,
        )
        .map_err(|err| err.message)
    }
}

#[component]
pub fn FilterEditor(
    /// The filter being edited, or `None` to add one.
    initial: Option<Filter>,
    #[prop(into)] facets: Signal<Option<ReportFacets>>,
    on_apply: Callback<Filter>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let editing = initial.is_some();
    let draft = FilterDraft::new(initial.as_ref(), facets);
    let error = draft.error;
    view! {
        <form
            class="filter-editor"
            role="dialog"
            aria-label=if editing { "Edit filter" } else { "Add filter" }
            on:submit=move |event| {
                event.prevent_default();
                match draft.filter() {
                    Ok(filter) => on_apply.run(filter),
                    Err(message) => error.set(Some(message)),
                }
            }
            on:keydown=move |event| {
                if event.key() == "Escape" {
                    on_cancel.run(());
                }
            }
        >
            <FieldAndCondition draft />
            <ValueInputs draft />
            <Show when=move || error.get().is_some()>
                <p class="form-error" role="alert">{move || error.get()}</p>
            </Show>
            <div class="actions">
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
                <button type="submit" class="button primary">
                    {if editing { "Update filter" } else { "Apply filter" }}
                </button>
            </div>
        </form>
    }
}

/// The field (focused when the panel opens) and the operators its type offers.
#[component]
fn FieldAndCondition(draft: FilterDraft) -> impl IntoView {
    let (field, operator) = (draft.field, draft.operator);
    let field_select = NodeRef::<html::Select>::new();
    Effect::new(move |_| {
        if let Some(select) = field_select.get() {
            let _ = select.focus();
        }
    });
    view! {
        <label class="field">
            <span>"Field"</span>
            <select
                class="filter-field"
                node_ref=field_select
                on:change=move |event| draft.pick_field(&event_target_value(&event))
                prop:value=move || field.get().key()
            >
                {ReportField::ALL
                    .into_iter()
                    .map(|f| view! { <option value=f.key()>{f.label()}</option> })
                    .collect_view()}
            </select>
        </label>
        <label class="field">
            <span>"Condition"</span>
            <select
                class="filter-operator"
                on:change=move |event| {
                    if let Some(op) = Operator::from_key(&event_target_value(&event)) {
                        operator.set(op);
                        draft.error.set(None);
                    }
                }
                prop:value=move || operator.get().key()
            >
                {move || {
                    field
                        .get()
                        .kind()
                        .operators()
                        .iter()
                        .map(|op| view! { <option value=op.key()>{op.label()}</option> })
                        .collect_view()
                }}
            </select>
        </label>
    }
}

/// The inputs the operator needs: none, one, two, or values to tick.
#[component]
fn ValueInputs(draft: FilterDraft) -> impl IntoView {
    let (operator, first, second) = (draft.operator, draft.first, draft.second);
    let input_type = move || match (draft.field.get().kind(), operator.get()) {
        (_, Operator::InLastDays) | (FieldKind::Number, _) => "number",
        (FieldKind::Date, _) => "date",
        _ => "text",
    };
    move || {
        let op = operator.get();
        if op == Operator::IsEmpty {
            return view! { <p class="hint">"No value needed."</p> }.into_any();
        }
        if op == Operator::AnyOf {
            if let Some(options) = draft.facet_values() {
                return view! { <ValueChecklist options chosen=draft.chosen /> }.into_any();
            }
            return view! {
                <label class="field">
                    <span>"Values (separate with commas)"</span>
                    <input type="text" class="filter-value" bind:value=first />
                </label>
            }
            .into_any();
        }
        let first_label = match op {
            Operator::Between => "From",
            Operator::InLastDays => "Days",
            _ => "Value",
        };
        view! {
            <label class="field">
                <span>{first_label}</span>
                <input type=input_type class="filter-value" min="0" bind:value=first />
            </label>
            <Show when=move || operator.get() == Operator::Between>
                <label class="field">
                    <span>"To (inclusive)"</span>
                    <input type=input_type class="filter-value-to" min="0" bind:value=second />
                </label>
            </Show>
        }
        .into_any()
    }
}

#[component]
fn ValueChecklist(options: Vec<FacetValue>, chosen: RwSignal<Vec<String>>) -> impl IntoView {
    view! {
        <fieldset class="checklist">
            <legend>"Values"</legend>
            <FacetChecklist
                options=Signal::stored(options)
                selected=chosen
                on_change=Callback::new(move |values| chosen.set(values))
            />
        </fieldset>
    }
}
