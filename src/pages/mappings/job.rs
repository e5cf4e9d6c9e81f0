//! The progress of the re-evaluation a mapping change started, polled until it ends.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use provisio_api::mapping::{JobState, MappingJob};

use crate::api;
use crate::format::thousands;

/// How often a running job is asked about.
const POLL_EVERY: Duration = Duration::from_millis(400);

/// Shows `job` while it runs, asks the server for its progress, and reports the job once it
/// has ended.
#[component]
pub fn JobProgress(
    customer_id: i64,
    job: RwSignal<Option<MappingJob>>,
    on_finished: Callback<MappingJob>,
) -> impl IntoView {
    Effect::new(move |_| {
        let Some(current) = job.get() else {
            return;
        };
        if current.state != JobState::Running {
            on_finished.run(current);
            return;
        }
        set_timeout(
            move || {
                spawn_local(async move {
                    // A failed poll asks again: the job itself goes on either way.
                    let next = api::mapping_job(customer_id, current.id)
                        .await
                        .unwrap_or(current);
                    job.try_set(Some(next));
                });
            },
            POLL_EVERY,
        );
    });
    let running = move || job.get().filter(|j| j.state == JobState::Running);
    view! {
        {move || running().map(|j| view! {
            <div class="job-progress" role="status">
                <progress max=j.total.max(1).to_string() value=j.done.to_string()></progress>
                <span>{format!(
                    "Placing users by the new mappings: {} of {} ({} moved)",
                    thousands(j.done as i64), thousands(j.total as i64), thousands(j.changed as i64),
                )}</span>
            </div>
        })}
    }
}
