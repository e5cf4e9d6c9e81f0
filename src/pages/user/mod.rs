//! A user's page (`/users/{id}`): who they are, where they are placed, their history newest
//! first, and what an admin does to them by hand (preserve, restore), each confirmed.

mod placement;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use provisio_api::auth::Role;
use provisio_api::user::{TimelineEntry, UserDetail};

use crate::api::{self, ApiFailure};
use crate::components::states::{ErrorState, LoadingState};
use crate::format;
use crate::session::Session;
use placement::PlacementByHand;

type Loaded = Result<(UserDetail, Vec<TimelineEntry>), ApiFailure>;

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let loaded: LocalResource<Loaded> = LocalResource::new(move || {
        let id = id.get();
        async move {
            let Some(id) = id else {
                return Err(ApiFailure {
                    message: "This address names no user.".to_owned(),
                    status: Some(404),
                    parameter: None,
                });
            };
            Ok((api::user(id).await?, api::user_timeline(id).await?))
        }
    });
    let can_act = matches!(
        Session::expect().role(),
        Some(Role::MspAdmin | Role::CustomerAdmin)
    );
    view! {
        <section class="page user-page">
            <p><a href="/" class="button link">"← User Provisioning"</a></p>
            <Transition fallback=|| view! { <LoadingState message="Loading the user…" /> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Ok((user, timeline)) => view! {
                            <UserSummary user=user.clone() can_act on_changed=Callback::new(move |()| loaded.refetch()) />
                            <Timeline entries=timeline />
                        }.into_any(),
                        Err(failure) => view! {
                            <ErrorState title="The user could not be loaded" message=failure.message
                                on_retry=Callback::new(move |()| loaded.refetch()) />
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UserSummary(user: UserDetail, can_act: bool, on_changed: Callback<()>) -> impl IntoView {
    let id = user.id;
    let preserved = user.status == "Preserved";
    let email = StoredValue::new(user.email.clone());
    let whole = StoredValue::new(user.clone());
    let confirming = RwSignal::new(false);
    let act = Action::new_local(move |preserve: &bool| {
        let preserve = *preserve;
        async move {
            if preserve {
                api::preserve_user(id).await
            } else {
                api::restore_user(id).await
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = act.value().get() {
            confirming.set(false);
            on_changed.run(());
        }
    });
    let failure = move || act.value().get().and_then(Result::err).map(|f| f.message);
    let (verb, question) = if preserved {
        (
            "Restore",
            "Restore? They become Active with an active license.",
        )
    } else {
        (
            "Preserve",
            "Preserve? Their license is preserved and their data kept.",
        )
    };
    let quota = user.quota_gb.map_or_else(
        || "Unlimited".to_owned(),
        |gb| format!("{} GB", format::thousands(gb)),
    );
    let fact = |label: &'static str, value: String| view! { <dt>{label}</dt><dd>{value}</dd> };
    view! {
        <header class="page-header">
            <div>
                <h1>{user.user_name.clone()}</h1>
                <p class="subtitle">{format!("{} · {}", user.email, user.customer.name)}</p>
            </div>
            <span class="status-pill user-status" class:ok=!preserved class:off=preserved>{user.status.clone()}</span>
        </header>
        <Show when=move || can_act>
            <div class="user-actions">
                <Show when=move || confirming.get() fallback=move || view! {
                    <button type="button" class="button secondary user-action" on:click=move |_| confirming.set(true)>{verb}</button>
                }>
                    <span class="confirm" role="alertdialog" aria-label=verb>
                        {question}
                        <button type="button" class="button primary small confirm-yes"
                            disabled=move || act.pending().get()
                            on:click=move |_| { act.dispatch(!preserved); }>{verb}</button>
                        <button type="button" class="button link small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </span>
                </Show>
                <p class="form-error" role="alert">{failure}</p>
            </div>
            <PlacementByHand user=whole.get_value() on_changed />
            {preserved.then(|| view! { <DeletePermanently id email=email.get_value() /> })}
        </Show>
        <dl class="panel token-facts user-facts">
            {fact("License", user.license.clone())}
            {fact("Profile", user.profile.clone())}
            {fact("Storage region", user.storage_region.clone().unwrap_or_else(|| "—".to_owned()))}
            {fact("Quota", quota)}
            {fact("Placed by", match (user.placement_manual, &user.mapping) {
                (true, _) => "an admin, by hand (the mappings pass them by)".to_owned(),
                (false, Some(mapping)) => format!("the mapping “{mapping}”"),
                (false, None) => "the customer's defaults".to_owned(),
            })}
            {fact("Managed by", user.managed_by.clone())}
            {fact("Groups", if user.groups.is_empty() { "—".to_owned() } else { user.groups.join(", ") })}
            {fact("Usage", format!("{} MB", format::thousands(user.usage_mb)))}
            {fact("Created", format::utc(user.created_at))}
            {fact("SCIM id", user.scim_id.clone().unwrap_or_else(|| "—".to_owned()))}
            {fact("External id", user.external_id.clone().unwrap_or_else(|| "—".to_owned()))}
        </dl>
    }
}

/// Deleting a preserved user for good, after their email is typed out.
#[component]
fn DeletePermanently(id: i64, email: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let navigate = use_navigate();
    let delete = Action::new_local(move |()| api::delete_user(id));
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/", Default::default());
        }
    });
    let failure = move || {
        delete
            .value()
            .get()
            .and_then(Result::err)
            .map(|f| f.message)
    };
    let label = format!("Type “{email}” to confirm");
    let expected = StoredValue::new(email);
    let ready = move || {
        expected.with_value(|email| typed.get().trim().eq_ignore_ascii_case(email))
            && !delete.pending().get()
    };
    view! {
        <div class="danger-zone">
            <Show when=move || open.get() fallback=move || view! {
                <button type="button" class="button link danger delete-user" on:click=move |_| open.set(true)>
                    "Delete permanently…"
                </button>
            }>
                <div class="confirm" role="alertdialog" aria-label="Delete permanently">
                    <p>"Their row, groups and history are removed for good; the audit log keeps who did it."</p>
                    <label class="field">
                        <span>{label.clone()}</span>
                        <input type="text" name="confirm-email" autocomplete="off" bind:value=typed />
                    </label>
                    <button type="button" class="button danger small confirm-delete"
                        disabled=move || !ready()
                        on:click=move |_| { delete.dispatch(()); }>"Delete permanently"</button>
                    <button type="button" class="button link small" on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </Show>
            <p class="form-error" role="alert">{failure}</p>
        </div>
    }
}

#[component]
fn Timeline(entries: Vec<TimelineEntry>) -> impl IntoView {
    let empty = entries.is_empty();
    view! {
        <section class="panel timeline" aria-labelledby="timeline-title">
            <h2 id="timeline-title" class="panel-title">"History"</h2>
            <Show when=move || empty>
                <p class="hint">"Nothing has happened to this user through Provisio yet."</p>
            </Show>
            <ol class="timeline-list">
                {entries.into_iter().map(|entry| {
                    let changes = describe_changes(&entry.changes);
                    view! {
                        <li class="timeline-entry" data-action=entry.action.clone() class:failed=!entry.succeeded>
                            <span class="timeline-when">{format::utc(entry.at)}</span>
                            <strong class="timeline-action">{entry.action.clone()}</strong>
                            <span class="timeline-actor">{format!(" by {}", entry.actor)}</span>
                            <p class="timeline-changes">{changes}</p>
                            {entry.error.map(|error| view! { <p class="form-error">{error}</p> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

/// `{"status": {"before": "Active", "after": "Preserved"}}` → "status: Active → Preserved".
fn describe_changes(changes: &serde_json::Value) -> String {
    let Some(properties) = changes.as_object() else {
        return String::new();
    };
    let shown = |value: &serde_json::Value| match value {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    properties
        .iter()
        .map(
            |(property, change)| match (change.get("before"), change.get("after")) {
                (Some(before), Some(after)) => {
                    format!("{property}: {} → {}", shown(before), shown(after))
                }
                _ => format!("{property}: {}", shown(change)),
            },
        )
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::describe_changes;
    use serde_json::json;

    #[test]
    fn changes_read_as_before_and_after() {
        let changes = json!({"status": {"before": "Active", "after": "Preserved"},
                             "mapping": {"before": null, "after": "Finance"}});
        assert_eq!(
            describe_changes(&changes),
            "mapping: — → Finance; status: Active → Preserved"
        );
        assert_eq!(describe_changes(&json!([])), "");
    }
}
