//! A read-only value with a Copy button. The Clipboard API needs a secure context and the
//! person's permission; when it is missing or refused, the value is selected and the field
//! says how to copy it by hand, so the value is never out of reach.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyState {
    Idle,
    Copied,
    ByHand,
}

#[component]
pub fn CopyField(
    /// The accessible name of the field, e.g. "Tenant URL".
    label: &'static str,
    value: String,
    /// Extra class for the input (a token reads better in a monospace font).
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView {
    let input = NodeRef::<html::Input>::new();
    let state = RwSignal::new(CopyState::Idle);
    let text = StoredValue::new(value.clone());
    let select_all = move || {
        if let Some(input) = input.get_untracked() {
            input.select();
        }
    };
    let copy = move |_| {
        let value = text.get_value();
        spawn_local(async move {
            let copied = match clipboard() {
                Some(clipboard) => JsFuture::from(clipboard.write_text(&value)).await.is_ok(),
                None => false,
            };
            if copied {
                state.set(CopyState::Copied);
            } else {
                select_all();
                state.set(CopyState::ByHand);
            }
        });
    };
    view! {
        <div class="copy-field">
            <input
                type="text"
                readonly
                class=format!("copy-value {class}")
                aria-label=label
                prop:value=value
                node_ref=input
                on:focus=move |_| select_all()
            />
            <button type="button" class="button secondary copy-button" on:click=copy>
                {move || if state.get() == CopyState::Copied { "Copied ✓" } else { "Copy" }}
            </button>
            <p class="copy-status" role="status" aria-live="polite">
                {move || match state.get() {
                    CopyState::Idle => "",
                    CopyState::Copied => "Copied to the clipboard.",
                    CopyState::ByHand => {
                        "The browser did not allow copying: the text is selected, press Ctrl+C (⌘C on a Mac)."
                    }
                }}
            </p>
        </div>
    }
}

/// The Clipboard API, if this page may use it (it is absent outside secure contexts).
fn clipboard() -> Option<web_sys::Clipboard> {
    let navigator = web_sys::window()?.navigator();
    let clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard")).ok()?;
    if clipboard.is_undefined() || clipboard.is_null() {
        return None;
    }
    Some(navigator.clipboard())
}
