//! The Mappings page: a customer's priority-ordered mappings, each placing the users it
//! matches on a profile, storage region and quota. Every change (a save, a reorder, a
//! delete) first shows the diff it will apply and waits for confirmation.

mod change;
mod draft;
mod form;
mod job;
mod list;
mod settings;
mod test_user;

use leptos::prelude::*;
use provisio_api::auth::Role;
use provisio_api::mapping::{Mapping, MappingChange, MappingJob, MappingOptions};

use crate::api::{self, ApiFailure};
use crate::components::customer_picker::{use_customer_choice, CustomerPicker};
use crate::components::states::{ErrorState, LoadingState};
use crate::session::Session;
use change::{Change, ChangeDialog};
use form::MappingForm;
use job::JobProgress;
use list::{MappingList, RowActions};
use settings::RegionThreshold;
use test_user::TestUser;

#[component]
pub fn MappingsPage() -> impl IntoView {
    let choice = use_customer_choice();
    let can_manage = matches!(
        Session::expect().role(),
        Some(Role::MspAdmin | Role::CustomerAdmin)
    );
    let body = move || match (choice.customer.get(), choice.customers.get()) {
        (Some(customer_id), _) => {
            let customer_name = choice.name().unwrap_or_default();
            view! { <CustomerMappings customer_id customer_name can_manage /> }.into_any()
        }
        (None, Some(Err(failure))) => view! {
            <ErrorState title="Customers could not be loaded" message=failure.message
                on_retry=Callback::new(move |()| choice.customers.refetch()) />
        }
        .into_any(),
        (None, Some(Ok(_))) => view! {
            <div class="state empty-state">
                <h2>"No customers yet"</h2>
                <p>"Mappings belong to a customer; there is none to map."</p>
            </div>
        }
        .into_any(),
        (None, None) => view! { <LoadingState message="Loading customers…" /> }.into_any(),
    };
    view! {
        <section class="page mappings-page">
            <header class="page-header">
                <div>
                    <h1>"Mappings"</h1>
                    <p class="subtitle">
                        "Which backup profile, storage region and quota each user the identity provider pushes gets. The first enabled mapping that matches places the user."
                    </p>
                </div>
                <CustomerPicker choice />
            </header>
            {body}
        </section>
    }
}

/// What the form edits: a new mapping or an existing one.
#[derive(Clone)]
enum Editing {
    New,
    Existing(Box<Mapping>),
}

type Loaded = Result<(Vec<Mapping>, MappingOptions), ApiFailure>;

#[component]
fn CustomerMappings(customer_id: i64, customer_name: String, can_manage: bool) -> impl IntoView {
    let loaded: LocalResource<Loaded> = LocalResource::new(move || async move {
        Ok((
            api::mappings(customer_id).await?,
            api::mapping_options(customer_id).await?,
        ))
    });
    // A saved threshold is kept here rather than by loading the page again, which would
    // replace the settings panel and its "Saved." before anyone could read it.
    let saved_threshold = RwSignal::new(None::<u32>);
    let editing = RwSignal::new(None::<Editing>);
    let pending = RwSignal::new(None::<Change>);
    let notice = RwSignal::new(None::<String>);
    let job = RwSignal::new(None::<MappingJob>);
    let actions = RowActions {
        can_manage,
        on_reorder: Callback::new(move |(ids, moved)| {
            pending.set(Some(Change::Reorder { ids, moved }))
        }),
        on_edit: Callback::new(move |m| editing.set(Some(Editing::Existing(Box::new(m))))),
        on_delete: Callback::new(move |m: Mapping| {
            pending.set(Some(Change::Delete {
                id: m.id,
                name: m.name,
            }))
        }),
    };
    let on_applied = Callback::new(move |(change, answer): (Change, MappingChange)| {
        notice.set(Some(match &change {
            Change::Save { .. } => "Saved.".to_owned(),
            Change::Reorder { moved, .. } => format!("Moved {moved}."),
            Change::Delete { name, .. } => format!("Deleted “{name}”."),
        }));
        job.set(Some(answer.job));
        if matches!(change, Change::Save { .. }) {
            editing.set(None);
        }
        pending.set(None);
        loaded.refetch();
    });
    let customer_name = StoredValue::new(customer_name);
    let on_finished = Callback::new(move |finished: MappingJob| {
        job.set(None);
        notice.set(Some(format!(
            "Every user is placed by the new mappings: {} of {} moved.",
            crate::format::thousands(finished.changed as i64),
            crate::format::thousands(finished.total as i64),
        )));
        loaded.refetch();
    });

    view! {
        <p class="notice" role="status" aria-live="polite">{move || notice.get()}</p>
        <JobProgress customer_id job on_finished />
        <Transition fallback=|| view! { <LoadingState message="Loading mappings…" /> }>
            {move || Suspend::new(async move {
                let (mappings, options) = match loaded.await {
                    Ok(loaded) => loaded,
                    Err(failure) => return view! {
                        <ErrorState title="Mappings could not be loaded" message=failure.message
                            on_retry=Callback::new(move |()| loaded.refetch()) />
                    }.into_any(),
                };
                let threshold = options.region_move_threshold;
                let current = mappings.clone();
                let form_options = options.clone();
                let form_current = mappings.clone();
                view! {
                    <div class="section-header">
                        <h2>{format!("{} mappings", mappings.len())}</h2>
                        <Show when=move || can_manage && editing.get().is_none()>
                            <button type="button" class="button primary add-mapping"
                                on:click=move |_| editing.set(Some(Editing::New))>"+ Add mapping"</button>
                        </Show>
                    </div>
                    {move || editing.get().map(|edit| view! {
                        <MappingForm
                            customer_id
                            editing=match edit { Editing::New => None, Editing::Existing(m) => Some(*m) }
                            current=form_current.clone()
                            options=form_options.clone()
                            on_review=Callback::new(move |change| pending.set(Some(change)))
                            on_cancel=Callback::new(move |()| editing.set(None))
                        />
                    })}
                    <MappingsOrEmpty mappings actions />
                    <Show when=move || can_manage>
                        <RegionThreshold customer_id threshold
                            on_saved=Callback::new(move |saved| saved_threshold.set(Some(saved))) />
                    </Show>
                    {move || pending.get().map(|change| view! {
                        <ChangeDialog
                            customer_id
                            customer_name=customer_name.get_value()
                            region_move_threshold=saved_threshold.get().unwrap_or(threshold)
                            change
                            current=current.clone()
                            on_applied
                            on_cancel=Callback::new(move |()| pending.set(None))
                        />
                    })}
                }.into_any()
            })}
        </Transition>
        <TestUser customer_id />
    }
}

#[component]
fn MappingsOrEmpty(mappings: Vec<Mapping>, actions: RowActions) -> impl IntoView {
    if mappings.is_empty() {
        view! {
            <div class="state empty-state">
                <h2>"No mappings"</h2>
                <p>"Every user lands on the customer's default profile and storage region. Add a mapping to place users by group or attribute."</p>
            </div>
        }
        .into_any()
    } else {
        view! { <MappingList mappings actions /> }.into_any()
    }
}
