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

/// Makes the change; the view to open after it, if any, and the views as they now are (None
/// when only the re-read failed: the change itself was made).
async fn apply(
    change: ViewChange,
) -> Result<(Option<SavedView>, Option<SavedViewList>), ApiFailure> {
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
    Ok((open, api::saved_views().await.ok()))
}

#[component]
pub fn ViewBar(
    /// The views the admin may use; None while loading.
    views: RwSignal<Option<SavedViewList>>,
    #[prop(into)] current: Signal<CurrentArrangement>,
    /// Open a view (None: the standard report).
    on_open: Callback<Option<SavedView>>,
) -> impl IntoView {
    let editing = RwSignal::new(Editing::None);
    let error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let shared = RwSignal::new(false);

    let active = Memo::new(move |_| {
        let id = current.with(|c| c.view)?;
        views.with(|list| list.as_ref()?.views.iter().find(|v| v.id == id).cloned())
    });
    let modified = move || {
        active.with(|view| {
            view.as_ref().is_some_and(|view| {
                current.with(|c| c.query != view.query || c.columns != view.columns)
            })
        })
    };
    let is_default = move || {
        let id = active.with(|v| v.as_ref().map(|v| v.id));
        id.is_some() && views.with(|l| l.as_ref().and_then(|l| l.default_view)) == id
    };

    let change = Action::new_local(|change: &ViewChange| apply(change.clone()));
    let busy = move || change.pending().get();
    Effect::new(move |_| match change.value().get() {
        Some(Ok((open, list))) => {
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
    let run = move |next: ViewChange| {
        error.set(None);
        change.dispatch(next);
    };
    let request = move |name: String, shared: bool| {
        let current = current.get_untracked();
        SaveViewRequest {
            name,
            query: current.query,
            columns: current.columns,
            shared,
        }
    };

    let save_as = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        run(ViewChange::Create(request(
            name.get_untracked(),
            shared.get_untracked(),
        )));
    };
    let save_changes = move |_| {
        if let Some(view) = active.get_untracked() {
            run(ViewChange::Update(
                view.id,
                request(view.name.clone(), view.shared),
            ));
        }
    };
    let toggle_default = move |_| {
        let target = if is_default() {
            None
        } else {
            active.with_untracked(|v| v.as_ref().map(|v| v.id))
        };
        run(ViewChange::SetDefault(target));
    };
    let delete = move |id: i64| {
        run(ViewChange::Delete(id));
        on_open.run(None);
    };
    let on_select = move |event: leptos::ev::Event| {
        let value = event_target_value(&event);
        let chosen = value.parse::<i64>().ok().and_then(|id| {
            views.with_untracked(|l| l.as_ref()?.views.iter().find(|v| v.id == id).cloned())
        });
        editing.set(Editing::None);
        on_open.run(chosen);
    };
    let selected_value = move || {
        active
            .with(|v| v.as_ref().map(|v| v.id.to_string()))
            .unwrap_or_default()
    };
    let options = move || {
        views.with(|list| {
            list.as_ref()
                .map(|list| {
                    list.views
                        .iter()
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
                .unwrap_or_default()
        })
    };

    view! {
        <div class="view-bar">
            <label class="view-picker">
                <span>"View"</span>
                <select class="view-select" prop:value=selected_value on:change=on_select>
                    <option value="">"Standard report"</option>
                    {options}
                </select>
            </label>
            <Show when=modified>
                <span class="badge view-modified">"Modified"</span>
                <Show when=move || active.with(|v| v.as_ref().is_some_and(|v| v.owned))>
                    <button type="button" class="button secondary save-view-changes" disabled=busy on:click=save_changes>
                        "Save changes"
                    </button>
                </Show>
            </Show>
            <Show when=move || active.with(Option::is_some)>
                <button
                    type="button"
                    class="button link toggle-default-view"
                    aria-pressed=move || is_default().to_string()
                    disabled=busy
                    on:click=toggle_default
                >
                    {move || if is_default() { "Default view ✓" } else { "Set as default" }}
                </button>
                <Show when=move || active.with(|v| v.as_ref().is_some_and(|v| v.owned))>
                    <button
                        type="button"
                        class="button link danger delete-view"
                        on:click=move |_| {
                            if let Some(id) = active.with_untracked(|v| v.as_ref().map(|v| v.id)) {
                                editing.set(Editing::ConfirmDelete(id));
                            }
                        }
                    >
                        "Delete view"
                    </button>
                </Show>
            </Show>
            <button
                type="button"
                class="button secondary save-view"
                on:click=move |_| {
                    name.set(String::new());
                    shared.set(false);
                    error.set(None);
                    editing.set(Editing::SaveAs);
                }
            >
                "Save view…"
            </button>
            {move || match editing.get() {
                Editing::None => ().into_any(),
                Editing::SaveAs => view! {
                    <form class="save-view-form" on:submit=save_as>
                        <label>
                            <span>"View name"</span>
                            <input type="text" class="view-name" required maxlength="80" bind:value=name autofocus />
                        </label>
                        <label class="checkbox">
                            <input type="checkbox" class="view-shared" bind:checked=shared />
                            "Share with my organisation (read-only for others)"
                        </label>
                        <button type="submit" class="button primary" disabled=busy>"Save view"</button>
                        <button type="button" class="button secondary" on:click=move |_| editing.set(Editing::None)>
                            "Cancel"
                        </button>
                    </form>
                }
                .into_any(),
                Editing::ConfirmDelete(id) => view! {
                    <div class="confirm" role="alertdialog" aria-label="Delete view">
                        <span>"Delete this view for everyone it is shared with?"</span>
                        <button type="button" class="button danger confirm-delete-view" disabled=busy on:click=move |_| delete(id)>
                            "Delete"
                        </button>
                        <button type="button" class="button secondary" on:click=move |_| editing.set(Editing::None)>
                            "Cancel"
                        </button>
                    </div>
                }
                .into_any(),
            }}
            <Show when=move || error.get().is_some()>
                <p class="inline-error" role="alert">{move || error.get()}</p>
            </Show>
        </div>
    }
}
