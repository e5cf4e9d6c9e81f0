//! Saved views: pick one, save the current filters, sort and columns under a name, share it,
//! make it the default, update or delete it.

use leptos::prelude::*;
use provisio_api::report::{ReportField, SaveViewRequest, SavedView, SavedViewList};

use crate::api::{self, ApiFailure};

/// What the report shows now, as a view would store it.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentArrangement {
    /// The view the URL names, if any.
    pub view: Option<i64>,
    /// The query in its URL encoding.
    pub query: String,
    pub columns: Vec<ReportField>,
}

#[derive(Debug, Clone, PartialEq)]
enum Editing {
    None,
    SaveAs,
    ConfirmDelete(i64),
}

/// A change to the saved views.
#[derive(Debug, Clone)]
enum ViewChange {
    Create(SaveViewRequest),
    Update(i64, SaveViewRequest),
    SetDefault(Option<i64>),
    Delete(i64),
}

/// What a change made: the view to open after it, if any, and the views as they now are (None
/// when only the re-read failed: the change itself was made).
#[derive(Clone)]
struct Applied {
    open: Option<SavedView>,
    views: Option<SavedViewList>,
}

async fn apply(change: ViewChange) -> Result<Applied, ApiFailure> {
    let open = match change {
        ViewChange::Create(body) => Some(api::create_view(&body).await?),
        ViewChange::Update(id, body) => Some(api::update_view(id, &body).await?),
        ViewChange::SetDefault(target) => {
            api::set_default_view(target).await?;
            None
        }
        ViewChange::Delete(id) => {
            api::delete_view(id).await?;
            None
        }
    };
    Ok(Applied {
        open,
        views: api::saved_views().await.ok(),
    })
}

/// The view bar's state and what it does: a Copy handle shared by its pieces.
#[derive(Clone, Copy)]
struct ViewBarState {
    views: RwSignal<Option<SavedViewList>>,
    current: Signal<CurrentArrangement>,
    on_open: Callback<Option<SavedView>>,
    editing: RwSignal<Editing>,
    error: RwSignal<Option<String>>,
    /// The open view, when the URL names one the admin may use.
    active: Memo<Option<SavedView>>,
    change: Action<ViewChange, Result<Applied, ApiFailure>>,
}

impl ViewBarState {
    fn busy(self) -> bool {
        self.change.pending().get()
    }

    fn run(self, next: ViewChange) {
        self.error.set(None);
        self.change.dispatch(next);
    }

    fn active_id(self) -> Option<i64> {
        self.active.with(|v| v.as_ref().map(|v| v.id))
    }

    fn active_owned(self) -> bool {
        self.active.with(|v| v.as_ref().is_some_and(|v| v.owned))
    }

    fn modified(self) -> bool {
        self.active.with(|view| {
            view.as_ref().is_some_and(|view| {
                self.current
                    .with(|c| c.query != view.query || c.columns != view.columns)
            })
        })
    }

    fn is_default(self) -> bool {
        let id = self.active_id();
        id.is_some() && self.views.with(|l| l.as_ref().and_then(|l| l.default_view)) == id
    }

    /// What saving the current arrangement under `name` sends.
    fn request(self, name: String, shared: bool) -> SaveViewRequest {
        let current = self.current.get_untracked();
        SaveViewRequest {
            name,
            query: current.query,
            columns: current.columns,
            shared,
        }
    }
}

fn use_view_bar(
    views: RwSignal<Option<SavedViewList>>,
    current: Signal<CurrentArrangement>,
    on_open: Callback<Option<SavedView>>,
) -> ViewBarState {
    let editing = RwSignal::new(Editing::None);
    let error = RwSignal::new(None::<String>);
    let active = Memo::new(move |_| {
        let id = current.with(|c| c.view)?;
        views.with(|list| list.as_ref()?.views.iter().find(|v| v.id == id).cloned())
    });
    let change = Action::new_local(|change: &ViewChange| apply(change.clone()));
    Effect::new(move |_| match change.value().get() {
        Some(Ok(Applied { open, views: list })) => {
            editing.set(Editing::None);
            if let Some(list) = list {
                views.set(Some(list));
            }
            if let Some(view) = open {
                on_open.run(Some(view));
            }
        }
        Some(Err(failure)) => error.set(Some(failure.message)),
        None => {}
    });
    ViewBarState {
        views,
        current,
        on_open,
        editing,
        error,
        active,
        change,
    }
}

#[component]
pub fn ViewBar(
    /// The views the admin may use; None while loading.
    views: RwSignal<Option<SavedViewList>>,
    #[prop(into)] current: Signal<CurrentArrangement>,
    /// Open a view (None: the standard report).
    on_open: Callback<Option<SavedView>>,
) -> impl IntoView {
    let bar = use_view_bar(views, current, on_open);
    let error = bar.error;
    view! {
        <div class="view-bar">
            <ViewPicker bar />
            <Show when=move || bar.modified()>
                <span class="badge view-modified">"Modified"</span>
                <Show when=move || bar.active_owned()>
                    <button
                        type="button"
                        class="button secondary save-view-changes"
                        disabled=move || bar.busy()
                        on:click=move |_| {
                            if let Some(view) = bar.active.get_untracked() {
                                bar.run(ViewChange::Update(view.id, bar.request(view.name.clone(), view.shared)));
                            }
                        }
                    >
                        "Save changes"
                    </button>
                </Show>
            </Show>
            <Show when=move || bar.active_id().is_some()>
                <ActiveViewActions bar />
            </Show>
            <button
                type="button"
                class="button secondary save-view"
                on:click=move |_| {
                    error.set(None);
                    bar.editing.set(Editing::SaveAs);
                }
            >
                "Save view…"
            </button>
            {move || match bar.editing.get() {
                Editing::None => ().into_any(),
                Editing::SaveAs => view! { <SaveViewForm bar /> }.into_any(),
                Editing::ConfirmDelete(id) => view! { <ConfirmDeleteView bar id /> }.into_any(),
            }}
            <Show when=move || error.get().is_some()>
                <p class="inline-error" role="alert">{move || error.get()}</p>
            </Show>
        </div>
    }
}

/// The views to open, the standard report first.
#[component]
fn ViewPicker(bar: ViewBarState) -> impl IntoView {
    let on_select = move |event: leptos::ev::Event| {
        let value = event_target_value(&event);
        let chosen = value.parse::<i64>().ok().and_then(|id| {
            bar.views
                .with_untracked(|l| l.as_ref()?.views.iter().find(|v| v.id == id).cloned())
        });
        bar.editing.set(Editing::None);
        bar.on_open.run(chosen);
    };
    let selected_value = move || bar.active_id().map(|id| id.to_string()).unwrap_or_default();
    let options = move || {
        bar.views.with(|list| {
            list.iter()
                .flat_map(|list| &list.views)
                .map(|view| {
                    let label = if view.owned {
                        view.name.clone()
                    } else {
                        format!("{} (shared by {})", view.name, view.owner_name)
                    };
                    view! { <option value=view.id.to_string()>{label}</option> }
                })
                .collect_view()
        })
    };
    view! {
        <label class="view-picker">
            <span>"View"</span>
            <select class="view-select" prop:value=selected_value on:change=on_select>
                <option value="">"Standard report"</option>
                {options}
            </select>
        </label>
    }
}

/// Default and delete, for the open view.
#[component]
fn ActiveViewActions(bar: ViewBarState) -> impl IntoView {
    let toggle_default = move |_| {
        let target = if bar.is_default() {
            None
        } else {
            bar.active_id()
        };
        bar.run(ViewChange::SetDefault(target));
    };
    view! {
        <button
            type="button"
            class="button link toggle-default-view"
            aria-pressed=move || bar.is_default().to_string()
            disabled=move || bar.busy()
            on:click=toggle_default
        >
            {move || if bar.is_default() { "Default view ✓" } else { "Set as default" }}
        </button>
        <Show when=move || bar.active_owned()>
            <button
                type="button"
                class="button link danger delete-view"
                on:click=move |_| {
                    if let Some(id) = bar.active_id() {
                        bar.editing.set(Editing::ConfirmDelete(id));
                    }
                }
            >
                "Delete view"
            </button>
        </Show>
    }
}

/// Saves the current arrangement as a new view.
#[component]
fn SaveViewForm(bar: ViewBarState) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let shared = RwSignal::new(false);
    let save_as = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        bar.run(ViewChange::Create(
            bar.request(name.get_untracked(), shared.get_untracked()),
        ));
    };
    view! {
        <form class="save-view-form" on:submit=save_as>
            <label>
                <span>"View name"</span>
                <input type="text" class="view-name" required maxlength="80" bind:value=name autofocus />
            </label>
            <label class="checkbox">
                <input type="checkbox" class="view-shared" bind:checked=shared />
                "Share with my organisation (read-only for others)"
            </label>
            <button type="submit" class="button primary" disabled=move || bar.busy()>"Save view"</button>
            <button type="button" class="button secondary" on:click=move |_| bar.editing.set(Editing::None)>
                "Cancel"
            </button>
        </form>
    }
}

#[component]
fn ConfirmDeleteView(bar: ViewBarState, id: i64) -> impl IntoView {
    let delete = move |_| {
        bar.run(ViewChange::Delete(id));
        bar.on_open.run(None);
    };
    view! {
        <div class="confirm" role="alertdialog" aria-label="Delete view">
            <span>"Delete this view for everyone it is shared with?"</span>
            <button type="button" class="button danger confirm-delete-view" disabled=move || bar.busy() on:click=delete>
                "Delete"
            </button>
            <button type="button" class="button secondary" on:click=move |_| bar.editing.set(Editing::None)>
                "Cancel"
            </button>
        </div>
    }
}
