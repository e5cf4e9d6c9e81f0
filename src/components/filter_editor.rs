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

#[component]
pub fn FilterEditor(
    /// The filter being edited, or `None` to add one.
    initial: Option<Filter>,
    #[prop(into)] facets: Signal<Option<ReportFacets>>,
    on_apply: Callback<Filter>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let editing = initial.is_some();
    let start_field = initial
        .as_ref()
        .map(Filter::field)
        .unwrap_or(ReportField::UserName);
    let start_operator = initial
        .as_ref()
        .map(Filter::operator)
        .unwrap_or(Operator::Contains);
    let start_values = initial.as_ref().map(Filter::values).unwrap_or_default();

    let field = RwSignal::new(start_field);
    let operator = RwSignal::new(start_operator);
    let first = RwSignal::new(start_values.first().cloned().unwrap_or_default());
    let second = RwSignal::new(start_values.get(1).cloned().unwrap_or_default());
    let chosen = RwSignal::new(match initial.as_ref().map(Filter::operand) {
        Some(Operand::Texts(values)) => values.clone(),
        _ => vec![],
    });
    let error = RwSignal::new(None::<String>);
    let field_select = NodeRef::<html::Select>::new();

    Effect::new(move |_| {
        if let Some(select) = field_select.get() {
            let _ = select.focus();
        }
    });

    let facet_values = move || {
        facets.with(|facets| {
            facets
                .as_ref()
                .and_then(|facets| facets.for_field(field.get()))
                .map(<[_]>::to_vec)
        })
    };
    let pick_field = move |key: String| {
        if let Some(new_field) = ReportField::from_key(&key) {
            field.set(new_field);
            operator.set(new_field.kind().operators()[0]);
            first.set(String::new());
            second.set(String::new());
            chosen.set(vec![]);
            error.set(None);
        }
    };
    let apply = move || {
        let values = match operator.get_untracked() {
            Operator::IsEmpty => vec![],
            Operator::Between => vec![first.get_untracked(), second.get_untracked()],
            Operator::AnyOf if facet_values().is_some() => chosen.get_untracked(),
            Operator::AnyOf => first
                .get_untracked()
                .split(',')
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect(),
            _ => vec![first.get_untracked()],
        };
        match Filter::new(field.get_untracked(), operator.get_untracked(), values) {
            Ok(filter) => on_apply.run(filter),
            Err(err) => error.set(Some(err.message)),
        }
    };

    let input_type = move || match (field.get().kind(), operator.get()) {
        (_, Operator::InLastDays) | (FieldKind::Number, _) => "number",
        (FieldKind::Date, _) => "date",
        _ => "text",
    };
    let value_inputs = move || {
        let op = operator.get();
        if op == Operator::IsEmpty {
            return view! { <p class="hint">"No value needed."</p> }.into_any();
        }
        if op == Operator::AnyOf {
            if let Some(options) = facet_values() {
                return view! { <ValueChecklist options chosen /> }.into_any();
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
    };

    view! {
        <form
            class="filter-editor"
            role="dialog"
            aria-label=if editing { "Edit filter" } else { "Add filter" }
            on:submit=move |event| {
                event.prevent_default();
                apply();
            }
            on:keydown=move |event| {
                if event.key() == "Escape" {
                    on_cancel.run(());
                }
            }
        >
            <label class="field">
                <span>"Field"</span>
                <select
                    class="filter-field"
                    node_ref=field_select
                    on:change=move |event| pick_field(event_target_value(&event))
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
                            error.set(None);
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
            {value_inputs}
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
