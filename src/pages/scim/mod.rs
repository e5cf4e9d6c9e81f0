//! The "SCIM provisioning" page: a customer's Tenant URL and the tokens its identity
//! provider uses to provision users (generate, shown once; list; revoke).

mod custom_attribute;

use leptos::html;
use leptos::prelude::*;
use provisio_api::auth::Role;
use provisio_api::scim::{
    CreateScimTokenRequest, CreatedScimToken, IdentityProvider, ScimToken, TokenStatus,
    MAX_ACTIVE_TOKENS, TOKEN_LIFETIMES_DAYS,
};

use crate::api::{self, ApiFailure};
use crate::components::copy_field::CopyField;
use crate::components::customer_picker::{use_customer_choice, CustomerPicker};
use crate::components::states::{ErrorState, LoadingState};
use crate::format;
use crate::pages::provisioning::StatusPanel;
use crate::session::Session;
use custom_attribute::CustomAttributePanel;

/// The expiry a new token gets unless the admin picks another.
const DEFAULT_LIFETIME_DAYS: u32 = 180;

#[component]
pub fn ScimPage() -> impl IntoView {
    let can_manage = matches!(
        Session::expect().role(),
        Some(Role::MspAdmin | Role::CustomerAdmin)
    );
    let choice = use_customer_choice();
    // Refetched after every change, so the list is what the server holds.
    let tokens: LocalResource<Result<Vec<ScimToken>, ApiFailure>> = LocalResource::new(move || {
        let customer = choice.customer.get();
        async move {
            match customer {
                Some(id) => api::scim_tokens(id).await,
                None => Ok(Vec::new()),
            }
        }
    });
    let notice = RwSignal::new(None::<String>);
    let generating = RwSignal::new(false);
    let created = RwSignal::new(None::<CreatedScimToken>);
    Effect::new(move |_| {
        choice.customer.track();
        generating.set(false);
        notice.set(None);
    });
    let at_limit = move || {
        tokens.get().and_then(Result::ok).is_some_and(|list| {
            list.iter()
                .filter(|t| matches!(t.status, TokenStatus::Active | TokenStatus::ExpiringSoon))
                .count()
                >= MAX_ACTIVE_TOKENS
        })
    };
    let on_created = Callback::new(move |answer: CreatedScimToken| {
        generating.set(false);
        created.set(Some(answer));
        tokens.refetch();
    });
    let on_revoked = Callback::new(move |token: ScimToken| {
        notice.set(Some(format!(
            "“{}” is revoked: the identity provider's next request with it gets 401.",
            token.name
        )));
        tokens.refetch();
    });
    let on_failure = Callback::new(move |failure: ApiFailure| notice.set(Some(failure.message)));
    let tenant_url = tenant_url();

    view! {
        <section class="page scim-page">
            <header class="page-header">
                <div>
                    <h1>"SCIM provisioning"</h1>
                    <p class="subtitle">
                        "Let Microsoft Entra ID, Okta or another identity provider create, update and deactivate this customer's users. Times are in UTC."
                    </p>
                </div>
                <CustomerPicker choice />
            </header>
            <div class="panel tenant">
                <h2 class="panel-title">"Tenant URL"</h2>
                <p class="hint">
                    "The same address serves every customer: the token decides whose users a request reaches."
                </p>
                <CopyField label="Tenant URL" value=tenant_url />
            </div>
            {move || choice.customer.get().map(|customer_id| view! { <StatusPanel customer_id /> })}
            <div class="section-header">
                <h2>{move || match choice.name() {
                    Some(name) => format!("Tokens of {name}"),
                    None => "Tokens".to_owned(),
                }}</h2>
                <Show when=move || can_manage && choice.customer.get().is_some()>
                    <button
                        type="button"
                        class="button primary generate-token"
                        aria-expanded=move || generating.get().to_string()
                        disabled=at_limit
                        on:click=move |_| generating.update(|open| *open = !*open)
                    >
                        "Generate token"
                    </button>
                </Show>
            </div>
            <Show when=move || can_manage && at_limit()>
                <p class="hint">
                    {format!("{MAX_ACTIVE_TOKENS} tokens are active, the most a customer may hold: revoke one to generate another.")}
                </p>
            </Show>
            <p class="notice" role="status" aria-live="polite">{move || notice.get()}</p>
            <Show when=move || generating.get()>
                {move || choice.customer.get().map(|customer_id| view! {
                    <GenerateForm customer_id on_created on_cancel=Callback::new(move |()| generating.set(false)) />
                })}
            </Show>
            <Transition fallback=|| view! { <LoadingState message="Loading tokens…" /> }>
                {move || Suspend::new(async move {
                    let has_customer = choice.customer.get_untracked().is_some();
                    match tokens.await {
                        Err(failure) => view! {
                            <ErrorState title="Tokens could not be loaded" message=failure.message
                                on_retry=Callback::new(move |()| tokens.refetch()) />
                        }.into_any(),
                        Ok(_) if !has_customer => view! {
                            <div class="state empty-state">
                                <h2>"No customers yet"</h2>
                                <p>"SCIM tokens belong to a customer; there is none to provision."</p>
                            </div>
                        }.into_any(),
                        Ok(list) => view! { <TokenTable tokens=list can_manage on_revoked on_failure /> }.into_any(),
                    }
                })}
            </Transition>
            // Below the tokens: set once, rarely changed.
            {move || choice.customer.get().map(|customer_id| view! {
                <CustomAttributePanel customer_id can_manage />
            })}
            {move || created.get().map(|answer| view! {
                <TokenDialog answer on_done=Callback::new(move |()| created.set(None)) />
            })}
        </section>
    }
}

#[component]
fn TokenTable(
    tokens: Vec<ScimToken>,
    can_manage: bool,
    on_revoked: Callback<ScimToken>,
    on_failure: Callback<ApiFailure>,
) -> impl IntoView {
    if tokens.is_empty() {
        return view! {
            <div class="state empty-state">
                <h2>"No tokens yet"</h2>
                <p>
                    {if can_manage {
                        "Generate a token, then paste it with the Tenant URL into the identity provider's provisioning settings."
                    } else {
                        "An admin of this customer can generate one."
                    }}
                </p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="table-frame">
            <div class="table-scroll">
                <table class="data-table tokens-table">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Identity provider"</th>
                            <th scope="col">"Token"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col">"Expires"</th>
                            <th scope="col">"Last used"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {tokens
                            .into_iter()
                            .map(|token| view! { <TokenRow token can_manage on_revoked on_failure /> })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </div>
    }
    .into_any()
}

/// Where identity providers send SCIM requests: this console's origin.
fn tenant_url() -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}/scim/v2")
}

#[component]
fn GenerateForm(
    customer_id: i64,
    on_created: Callback<CreatedScimToken>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let provider = RwSignal::new(IdentityProvider::EntraId);
    let lifetime = RwSignal::new(DEFAULT_LIFETIME_DAYS);
    let generate = Action::new_local(move |request: &CreateScimTokenRequest| {
        let request = request.clone();
        async move { api::create_scim_token(customer_id, &request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(answer)) = generate.value().get() {
            on_created.run(answer);
        }
    });
    let error = Signal::derive(move || generate.value().get().and_then(Result::err));
    let busy = generate.pending();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        generate.dispatch(CreateScimTokenRequest {
            name: name.get_untracked(),
            identity_provider: provider.get_untracked(),
            lifetime_days: lifetime.get_untracked(),
        });
    };
    let field_error =
        move |field: &'static str| error.with(|e| e.as_ref().and_then(|f| f.about(field)));
    let general_error = move || {
        error.with(|e| {
            e.as_ref()
                .and_then(|f| f.beyond(&["name", "lifetime_days"]))
        })
    };
    view! {
        <form class="panel generate-form" on:submit=submit aria-label="Generate token">
            <div class="form-grid">
                <label class="field">
                    <span>"Name"</span>
                    <input type="text" name="token_name" maxlength="80" placeholder="Entra ID production" required bind:value=name />
                    <small class="field-error">{move || field_error("name")}</small>
                </label>
                <label class="field">
                    <span>"Identity provider (shown as Managed By)"</span>
                    <select name="identity_provider" on:change=move |e| {
                        if let Some(idp) = IdentityProvider::from_key(&event_target_value(&e)) {
                            provider.set(idp);
                        }
                    }>
                        {IdentityProvider::ALL
                            .into_iter()
                            .map(|idp| view! { <option value=idp.key() selected=idp == IdentityProvider::EntraId>{idp.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"Expires after"</span>
                    <select name="lifetime_days" on:change=move |e| {
                        if let Ok(days) = event_target_value(&e).parse() {
                            lifetime.set(days);
                        }
                    }>
                        {TOKEN_LIFETIMES_DAYS
                            .into_iter()
                            .map(|days| view! { <option value=days.to_string() selected=days == DEFAULT_LIFETIME_DAYS>{format!("{days} days")}</option> })
                            .collect_view()}
                    </select>
                    <small class="field-error">{move || field_error("lifetime_days")}</small>
                </label>
            </div>
            <Show when=move || general_error().is_some()>
                <p class="form-error" role="alert">{general_error}</p>
            </Show>
            <div class="actions">
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="submit" class="button primary" disabled=move || busy.get()>"Generate"</button>
            </div>
        </form>
    }
}

/// Shows a new token's secret, this once. Only the explicit confirmation closes it, so a
/// stray Escape or click cannot lose a secret nobody can show again.
#[component]
fn TokenDialog(answer: CreatedScimToken, on_done: Callback<()>) -> impl IntoView {
    let stored = RwSignal::new(false);
    let dialog = NodeRef::<html::Dialog>::new();
    // A modal <dialog> keeps keyboard focus inside and makes the page behind it inert.
    Effect::new(move |_| {
        if let Some(dialog) = dialog.get() {
            let _ = dialog.show_modal();
        }
    });
    view! {
            <dialog
                class="dialog token-dialog"
                aria-labelledby="token-dialog-title"
                aria-describedby="token-dialog-warning"
                node_ref=dialog
                on:cancel=|event: leptos::ev::Event| event.prevent_default()
            >
                <h2 id="token-dialog-title">{format!("Token “{}” generated", answer.details.name)}</h2>
                <p id="token-dialog-warning" class="warning">
                    "Copy it now: Provisio keeps only a fingerprint and can never show it again."
                </p>
                <CopyField label="Secret token" value=answer.token.clone() class="token-secret" />
                <dl class="token-facts">
                    <dt>"Tenant URL"</dt>
                    <dd>{answer.tenant_url.clone()}</dd>
                    <dt>"Identity provider"</dt>
                    <dd>{answer.details.identity_provider.label()}</dd>
                    <dt>"Expires"</dt>
                    <dd>{format::utc(answer.details.expires_at)}</dd>
                </dl>
                <label class="stored-confirm">
                    <input type="checkbox" name="stored" bind:checked=stored />
                    "I have stored the token in the identity provider or a password manager"
                </label>
                <div class="actions">
                    <button
                        type="button"
                        class="button primary token-done"
                        disabled=move || !stored.get()
                        on:click=move |_| on_done.run(())
                    >
                        "Done"
                    </button>
                </div>
            </dialog>
    }
}

#[component]
fn TokenRow(
    token: ScimToken,
    can_manage: bool,
    on_revoked: Callback<ScimToken>,
    on_failure: Callback<ApiFailure>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let revocable = can_manage
        && matches!(
            token.status,
            TokenStatus::Active | TokenStatus::ExpiringSoon
        );
    let stored = StoredValue::new(token.clone());
    let revocation = Action::new_local(move |token: &ScimToken| {
        let token = token.clone();
        async move {
            api::revoke_scim_token(token.customer_id, token.id)
                .await
                .map(|()| token)
        }
    });
    Effect::new(move |_| match revocation.value().get() {
        Some(Ok(token)) => on_revoked.run(token),
        Some(Err(failure)) => {
            confirming.set(false);
            on_failure.run(failure);
        }
        None => {}
    });
    let busy = revocation.pending();
    let revoke = move |_| {
        revocation.dispatch(stored.get_value());
    };
    let last_used = match (&token.last_used_at, &token.last_used_address) {
        (Some(at), Some(address)) => format!("{} from {address}", format::utc(*at)),
        (Some(at), None) => format::utc(*at),
        _ => "Never".to_owned(),
    };
    let status_class = match token.status {
        TokenStatus::Active => "status-pill ok",
        TokenStatus::ExpiringSoon => "status-pill warn",
        TokenStatus::Expired | TokenStatus::Revoked => "status-pill off",
    };
    view! {
        <tr class="row" data-token=token.prefix.clone()>
            <td>{token.name.clone()}</td>
            <td>{token.identity_provider.label()}</td>
            <td><code>{format!("{}…", token.prefix)}</code></td>
            <td>{format!("{} by {}", format::utc(token.created_at), token.created_by)}</td>
            <td>{format::utc(token.expires_at)}</td>
            <td>{last_used}</td>
            <td><span class=status_class>{token.status.label()}</span></td>
            <td class="actions-cell">
                <Show when=move || revocable>
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! {
                            <button type="button" class="button link danger revoke" on:click=move |_| confirming.set(true)>
                                "Revoke"
                            </button>
                        }
                    >
                        <span class="confirm" role="alertdialog" aria-label="Revoke token">
                            "Revoke? Provisioning with it stops at once."
                            <button type="button" class="button danger small confirm-yes" disabled=move || busy.get() on:click=revoke>
                                "Revoke"
                            </button>
                            <button type="button" class="button link small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        </span>
                    </Show>
                </Show>
            </td>
        </tr>
    }
}
