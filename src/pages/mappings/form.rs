//! Creating or editing a mapping, with a live preview computed by the server as the admin
//! types: how many users it matches, how many a higher mapping takes, and what would change.

use std::time::Duration;

use leptos::prelude::*;
use provisio_api::mapping::{
    AttributeOperator, Mapping, MappingOptions, MappingPreviewRequest, SaveMappingRequest,
    CUSTOM_ATTRIBUTE,
};

use super::change::Change;
use super::draft::{Draft, Invalid, MatchKind};
use crate::api;
use crate::format::thousands;

/// How long typing must pause before the preview is asked for.
const PREVIEW_PAUSE: Duration = Duration::from_millis(300);

#[component]
pub fn MappingForm(
    customer_id: i64,
    /// The mapping being edited; None for a new one.
    editing: Option<Mapping>,
    current: Vec<Mapping>,
    options: MappingOptions,
    on_review: Callback<Change>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let draft = Draft::new(
        editing.as_ref(),
        options.profiles.first().map(|p| p.id),
        options.storage_regions.first().map(|r| r.id),
    );
    let id = editing.as_ref().map(|m| m.id);
    let request: Memo<Result<SaveMappingRequest, Invalid>> = Memo::new(move |_| draft.request());
    let shown_error = RwSignal::new(false);
    let settled = RwSignal::new(request.get_untracked());
    Effect::new(move |_| {
        let now = request.get();
        set_timeout(
            move || {
                if request.get_untracked() == now {
                    settled.set(now);
                }
            },
            PREVIEW_PAUSE,
        );
    });
    let current = StoredValue::new(current);
    let preview = LocalResource::new(move || {
        let proposed = settled.get().ok().map(|request| {
            let change = Change::Save { id, request };
            let mappings = current.with_value(|list| change.proposed(list));
            // Where this mapping sits in the list: its place, or last when new.
            let at = id
                .and_then(|id| current.with_value(|l| l.iter().position(|m| m.id == id)))
                .unwrap_or(mappings.len().saturating_sub(1));
            (MappingPreviewRequest { mappings }, at)
        });
        async move {
            match proposed {
                Some((request, at)) => {
                    Some((api::preview_mappings(customer_id, &request).await, at))
                }
                None => None,
            }
        }
    });
    let error_for = move |field: &'static str| {
        move || match request.get() {
            Err((f, message)) if f == field && shown_error.get() => Some(message),
            _ => None,
        }
    };
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        shown_error.set(true);
        if let Ok(request) = request.get_untracked() {
            on_review.run(Change::Save { id, request });
        }
    };
    let title = if id.is_some() {
        "Edit mapping"
    } else {
        "New mapping"
    };

    view! {
        <form class="panel mapping-form" on:submit=submit novalidate=true aria-labelledby="mapping-form-title">
            <h2 id="mapping-form-title" class="panel-title">{title}</h2>
            <label class="field">
                <span>"Name"</span>
                <input type="text" name="name" maxlength="80" bind:value=draft.name required=true />
                <span class="field-error">{error_for("name")}</span>
            </label>
            <MatcherFields draft options=options.clone() />
            <span class="field-error">{error_for("matcher")}</span>
            <PlacementFields draft options />
            <span class="field-error">{error_for("profile_id")}{error_for("storage_region_id")}{error_for("quota_gb")}</span>
            <label class="check">
                <input type="checkbox" name="enabled" bind:checked=draft.enabled />
                "Enabled (a paused mapping places nobody)"
            </label>
            <section class="live-preview" aria-live="polite" aria-label="Preview">
                <Transition fallback=|| view! { <p class="hint">"Previewing…"</p> }>
                    {move || Suspend::new(async move {
                        match preview.await {
                            None => view! { <p class="hint">"Complete the form to see whom it places."</p> }.into_any(),
                            Some((Err(failure), _)) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                            Some((Ok(diff), at)) => {
                                let matched = diff.matched.get(at).copied().unwrap_or(0);
                                let placed = diff.placed.get(at).copied().unwrap_or(0);
                                view! {
                                    <p class="preview-matched">{format!("Matches {} users; places {}", thousands(matched as i64), thousands(placed as i64))}</p>
                                    <p class="preview-taken">{format!("{} of them are taken by a higher mapping or it is paused", thousands(matched.saturating_sub(placed) as i64))}</p>
                                    <p class="preview-changes">{format!(
                                        "Saving changes {} users: profile {}, storage region {}, quota {}",
                                        thousands(diff.changed as i64), thousands(diff.profile_changes as i64),
                                        thousands(diff.region_changes as i64), thousands(diff.quota_changes as i64),
                                    )}</p>
                                    <ul class="diff-sample">
                                        {diff.changes.iter().take(5).map(|c| view! { <li>{c.email.clone()}</li> }).collect_view()}
                                    </ul>
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
            <div class="actions">
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="submit" class="button primary review-mapping">"Review and save"</button>
            </div>
        </form>
    }
}

/// Who the mapping matches: groups picked by name with search, an attribute and its values,
/// or everyone.
#[component]
fn MatcherFields(draft: Draft, options: MappingOptions) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let groups = StoredValue::new(options.groups);
    let group_list = move || {
        let needle = search.get().to_lowercase();
        groups.with_value(|all| {
            all.iter()
                .filter(|g| g.name.to_lowercase().contains(&needle))
                .map(|g| {
                    let id = g.id.clone();
                    let checked_id = id.clone();
                    view! {
                        <label class="check">
                            <input type="checkbox" name="group" value=id.clone()
                                prop:checked=move || draft.groups.with(|chosen| chosen.contains(&checked_id))
                                on:change=move |e| {
                                    let on = event_target_checked(&e);
                                    draft.groups.update(|chosen| {
                                        chosen.retain(|c| *c != id);
                                        if on { chosen.push(id.clone()); }
                                    });
                                } />
                            {g.name.clone()}
                            <span class="count">{format!("{} members", thousands(g.members as i64))}</span>
                        </label>
                    }
                })
                .collect_view()
        })
    };
    let custom_name = options.custom_attribute_name.clone();
    // The customer's custom attribute is offered under its own name, when it has one.
    let attributes: Vec<(String, String)> = options
        .attributes
        .into_iter()
        .filter_map(|a| match (a.as_str(), &custom_name) {
            (CUSTOM_ATTRIBUTE, Some(name)) => Some((a, format!("custom attribute: {name}"))),
            (CUSTOM_ATTRIBUTE, None) => None,
            _ => Some((a.clone(), a)),
        })
        .collect();
    view! {
        <fieldset class="field-set">
            <legend>"Matches"</legend>
            {MatchKind::ALL.into_iter().map(|kind| view! {
                <label class="choice">
                    <input type="radio" name="match-kind" value=kind.key()
                        prop:checked=move || draft.kind.get() == kind
                        on:change=move |_| draft.kind.set(kind) />
                    {kind.label()}
                </label>
            }).collect_view()}
            <Show when=move || draft.kind.get() == MatchKind::Groups>
                <label class="field">
                    <span>"Search groups"</span>
                    <input type="search" name="group-search" bind:value=search />
                </label>
                <div class="checklist group-choices" role="group" aria-label="Groups">
                    {group_list}
                </div>
                <p class="hint">"Guests (userType Guest) are never placed by a group."</p>
            </Show>
            <Show when=move || draft.kind.get() == MatchKind::Attribute>
                <div class="inline-field">
                    <select name="attribute" aria-label="Attribute"
                        on:change=move |e| draft.attribute.set(event_target_value(&e))>
                        {attributes.iter().map(|(key, label)| view! {
                            <option value=key.clone() selected=draft.attribute.get_untracked() == *key>{label.clone()}</option>
                        }).collect_view()}
                    </select>
                    <select name="operator" aria-label="Operator"
                        on:change=move |e| draft.operator.set(if event_target_value(&e) == "starts_with" {
                            AttributeOperator::StartsWith } else { AttributeOperator::AnyOf })>
                        <option value="any_of" selected=draft.operator.get_untracked() == AttributeOperator::AnyOf>"is any of"</option>
                        <option value="starts_with" selected=draft.operator.get_untracked() == AttributeOperator::StartsWith>"starts with"</option>
                    </select>
                    <input type="text" name="values" aria-label="Values, separated by commas"
                        placeholder="Sales, Marketing" bind:value=draft.values />
                </div>
                <p class="hint">"Compared without regard to case; separate values with commas."</p>
            </Show>
        </fieldset>
    }
}

/// Where the mapping places its users.
#[component]
fn PlacementFields(draft: Draft, options: MappingOptions) -> impl IntoView {
    let choose = |signal: RwSignal<Option<i64>>| {
        move |e: leptos::ev::Event| signal.set(event_target_value(&e).parse().ok())
    };
    view! {
        <div class="form-grid">
            <label class="field">
                <span>"Profile"</span>
                <select name="profile" on:change=choose(draft.profile_id)>
                    {options.profiles.into_iter().map(|p| view! {
                        <option value=p.id.to_string() selected=draft.profile_id.get_untracked() == Some(p.id)>{p.name}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span>"Storage region"</span>
                <select name="storage-region" on:change=choose(draft.storage_region_id)>
                    {options.storage_regions.into_iter().map(|r| view! {
                        <option value=r.id.to_string() selected=draft.storage_region_id.get_untracked() == Some(r.id)>{r.name}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span>"Quota (GB)"</span>
                <input type="number" name="quota" min="1" max="1000000" bind:value=draft.quota
                    prop:disabled=move || draft.unlimited.get() />
            </label>
            <label class="check">
                <input type="checkbox" name="unlimited" bind:checked=draft.unlimited />
                "Unlimited"
            </label>
        </div>
    }
}
