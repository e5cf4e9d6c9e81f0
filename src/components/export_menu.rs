//! "Download": the whole filtered result as CSV or JSON, with progress and a way to cancel.
//!
//! The file is fetched as a stream so the page can show how far it has got; the server decides
//! the rows, columns and file name, exactly as for any other client of the export endpoint.

use leptos::prelude::*;
use leptos::task::spawn_local;
use provisio_api::report::ExportFormat;
use wasm_bindgen::JsCast;

use crate::api;
use crate::format;

#[derive(Debug, Clone, PartialEq)]
enum ExportState {
    Idle,
    Running {
        format: ExportFormat,
        bytes: u64,
        lines: u64,
    },
    Done(String),
    Failed(String),
}

#[component]
pub fn ExportMenu(
    /// The export URL for a format, following the current query and columns.
    url_for: Callback<ExportFormat, String>,
    /// Rows matching the query, for the progress bar.
    #[prop(into)]
    total: Signal<Option<u64>>,
    /// What the file holds, above the formats.
    #[prop(default = "Every matching row, visible columns in order")]
    title: &'static str,
) -> impl IntoView {
    let state = RwSignal::new(ExportState::Idle);
    let controller = StoredValue::new_local(None::<web_sys::AbortController>);
    let menu = NodeRef::<leptos::html::Details>::new();

    let start = move |format: ExportFormat| {
        if let Some(details) = menu.get_untracked() {
            details.set_open(false);
        }
        let Ok(abort) = web_sys::AbortController::new() else {
            state.set(ExportState::Failed(
                "This browser cannot run exports.".to_owned(),
            ));
            return;
        };
        let signal = abort.signal();
        controller.set_value(Some(abort));
        state.set(ExportState::Running {
            format,
            bytes: 0,
            lines: 0,
        });
        let url = url_for.run(format);
        spawn_local(async move {
            let progress = move |bytes, lines| {
                state.set(ExportState::Running {
                    format,
                    bytes,
                    lines,
                })
            };
            let result = api::download(&url, &signal, progress).await;
            controller.set_value(None);
            state.set(match result {
                Ok(download) => match save(&download) {
                    Ok(()) => ExportState::Done(format!("Downloaded {}", download.file_name)),
                    Err(message) => ExportState::Failed(message),
                },
                Err(failure) => ExportState::Failed(failure.message),
            });
        });
    };
    let cancel = move |_| {
        controller.with_value(|abort| {
            if let Some(abort) = abort {
                abort.abort();
            }
        });
    };

    let running = move || matches!(state.get(), ExportState::Running { .. });
    let progress = move || match state.get() {
        ExportState::Running {
            format,
            bytes,
            lines,
        } => {
            // The header line is not a row.
            let rows = lines.saturating_sub(1);
            let (percent, of) = match total.get() {
                Some(total) if total > 0 => (
                    Some((rows.min(total) * 100 / total).to_string()),
                    format!(" of {}", format::thousands(total as i64)),
                ),
                _ => (None, String::new()),
            };
            view! {
                <div class="export-progress" role="status">
                    <span>
                        {format!(
                            "Exporting {}: {} rows{of}, {}",
                            format.label(),
                            format::thousands(rows as i64),
                            format::bytes(bytes),
                        )}
                    </span>
                    <progress max="100" value=percent.clone() aria-label="Export progress"></progress>
                    <button type="button" class="button secondary cancel-export" on:click=cancel>
                        "Cancel"
                    </button>
                </div>
            }
            .into_any()
        }
        ExportState::Done(message) => {
            view! { <p class="export-status" role="status">{message}</p> }.into_any()
        }
        ExportState::Failed(message) => {
            view! { <p class="export-status inline-error" role="alert">{message}</p> }.into_any()
        }
        ExportState::Idle => ().into_any(),
    };

    view! {
        <div class="export">
            <details class="popover export-menu" node_ref=menu>
                <summary class="button secondary" aria-disabled=move || running().to_string()>
                    "Download"
                </summary>
                <div class="popover-panel">
                    <p class="popover-title">{title}</p>
                    {ExportFormat::ALL
                        .into_iter()
                        .map(|format| {
                            view! {
                                <button
                                    type="button"
                                    class="menu-item"
                                    data-format=format.key()
                                    disabled=running
                                    on:click=move |_| start(format)
                                >
                                    {format!("{} file", format.label())}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            </details>
            {progress}
        </div>
    }
}

/// Hands the finished file to the browser's downloads.
fn save(download: &api::Download) -> Result<(), String> {
    let failed = || "The browser refused to save the file.".to_owned();
    let url = web_sys::Url::create_object_url_with_blob(&download.blob).map_err(|_| failed())?;
    let anchor: web_sys::HtmlAnchorElement = document()
        .create_element("a")
        .map_err(|_| failed())?
        .dyn_into()
        .map_err(|_| failed())?;
    anchor.set_href(&url);
    anchor.set_download(&download.file_name);
    anchor.click();
    // The browser has started reading the blob; free it once it surely has.
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(60),
    );
    Ok(())
}
