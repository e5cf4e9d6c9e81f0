//! The Admins page (MSP admins): list, create, change role, disable and enable admins.

use leptos::prelude::*;
use provisio_api::auth::{AdminAccount, CreateAdminRequest, CustomerRef, Role, UpdateAdminRequest};

use crate::api::{self, ApiFailure};
use crate::components::states::{ErrorState, LoadingState};

/// The page's data: admins and the customers they may belong to, loaded together.
type Directory = Result<(Vec<AdminAccount>, Vec<CustomerRef>), ApiFailure>;

#[component]
pub fn AdminsPage() -> impl IntoView {
    let notice = RwSignal::new(None::<String>);
    let creating = RwSignal::new(false);
    // Refetched after every change, so the table is always what the server holds.
    let directory: LocalResource<Directory> =
        LocalResource::new(|| async { Ok((api::admins().await?, api::customers().await?)) });
    let customers = Signal::derive(move || {
        directory
            .map(|loaded| {
                loaded
                    .as_ref()
                    .map(|(_, all)| all.clone())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    });
    let update = Action::new_local(|(id, request, done): &(i64, UpdateAdminRequest, String)| {
        let (id, request, done) = (*id, request.clone(), done.clone());
        async move { api::update_admin(id, &request).await.map(|_| done) }
    });
    Effect::new(move |_| {
        if let Some(result) = update.value().get() {
            notice.set(Some(match result {
                Ok(done) => done,
                Err(failure) => failure.message,
            }));
            directory.refetch();
        }
    });
    let on_update = Callback::new(move |change: (i64, UpdateAdminRequest, String)| {
        notice.set(None);
        update.dispatch(change);
    });
    let created = Callback::new(move |account: AdminAccount| {
        notice.set(Some(format!("{} can now sign in.", account.email)));
        creating.set(false);
        directory.refetch();
    });

    view! {
        <section class="page admins-page">
            <header class="page-header">
                <div>
                    <h1>"Admins"</h1>
                    <p class="subtitle">"Who can sign in to Provisio, and what each may see and change."</p>
                </div>
                <button
                    type="button"
                    class="button primary add-admin"
                    aria-expanded=move || creating.get().to_string()
                    on:click=move |_| creating.update(|open| *open = !*open)
                >
                    "+ Add admin"
                </button>
            </header>
            <p class="notice" role="status" aria-live="polite">{move || notice.get()}</p>
            <Show when=move || creating.get()>
                <CreateAdminForm customers on_created=created on_cancel=Callback::new(move |()| creating.set(false)) />
            </Show>
            <Transition fallback=|| view! { <LoadingState message="Loading admins…" /> }>
                {move || Suspend::new(async move {
                    match directory.await {
                        Ok((admins, _)) => view! { <AdminsTable admins on_update /> }.into_any(),
                        Err(failure) => view! {
                            <ErrorState
                                title="Admins could not be loaded"
                                message=failure.message
                                on_retry=Callback::new(move |()| directory.refetch())
                            />
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AdminsTable(
    admins: Vec<AdminAccount>,
    on_update: Callback<(i64, UpdateAdminRequest, String)>,
) -> impl IntoView {
    view! {
        <div class="table-frame">
            <div class="table-scroll">
                <table class="data-table admins-table">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Email"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Customer"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Actions"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {admins
                            .into_iter()
                            .map(|admin| view! { <AdminRow admin on_update /> })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </div>
    }
}

#[component]
fn AdminRow(
    admin: AdminAccount,
    on_update: Callback<(i64, UpdateAdminRequest, String)>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let id = admin.id;
    let email = admin.email.clone();
    let disabled = admin.disabled;
    let customer_id = admin.customer.as_ref().map(|c| c.id);
    let change_role = {
        let email = email.clone();
        move |event: leptos::ev::Event| {
            let Some(role) = Role::from_key(&event_target_value(&event)) else {
                return;
            };
            let request = UpdateAdminRequest {
                role: Some(role),
                // A customer admin keeps their customer; an MSP admin has none.
                customer_id: if role == Role::MspAdmin {
                    None
                } else {
                    customer_id
                },
                ..Default::default()
            };
            on_update.run((id, request, format!("{email} is now {}.", role.label())));
        }
    };
    let toggle = {
        let email = email.clone();
        move |_| {
            confirming.set(false);
            let request = UpdateAdminRequest {
                disabled: Some(!disabled),
                ..Default::default()
            };
            let done = if disabled {
                format!("{email} is enabled.")
            } else {
                format!("{email} is disabled and signed out.")
            };
            on_update.run((id, request, done));
        }
    };
    view! {
        <tr class="row" data-admin=email.clone()>
            <td>{admin.display_name.clone()}</td>
            <td>{email.clone()}</td>
            <td>
                <select aria-label=format!("Role of {email}") class="role-select" on:change=change_role>
                    {Role::ALL
                        .into_iter()
                        .map(|role| view! { <option value=role.key() selected=role == admin.role>{role.label()}</option> })
                        .collect_view()}
                </select>
            </td>
            <td>{admin.customer.as_ref().map(|c| c.name.clone()).unwrap_or_else(|| "All customers".to_owned())}</td>
            <td>{if disabled { "Disabled" } else { "Active" }}</td>
            <td class="actions-cell">
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" class="button link" on:click=move |_| confirming.set(true)>
                            {if disabled { "Enable" } else { "Disable" }}
                        </button>
                    }
                >
                    <span class="confirm">
                        {if disabled { "Enable?" } else { "Disable and sign out?" }}
                        <button type="button" class="button danger small confirm-yes" on:click=toggle.clone()>"Confirm"</button>
                        <button type="button" class="button link small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </span>
                </Show>
            </td>
        </tr>
    }
}

#[component]
fn CreateAdminForm(
    customers: Signal<Vec<CustomerRef>>,
    on_created: Callback<AdminAccount>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::CustomerAdmin);
    let customer = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let create = Action::new_local(|request: &CreateAdminRequest| {
        let request = request.clone();
        async move { api::create_admin(&request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(account)) = create.value().get() {
            on_created.run(account);
        }
    });
    let error = Signal::derive(move || create.value().get().and_then(Result::err));

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let request = CreateAdminRequest {
            email: email.get_untracked().trim().to_owned(),
            display_name: name.get_untracked(),
            role: role.get_untracked(),
            customer_id: customer.get_untracked().parse().ok(),
            password: password.get_untracked(),
        };
        create.dispatch(request);
    };
    let field_error =
        move |field: &'static str| error.with(|e| e.as_ref().and_then(|f| f.about(field)));
    let general_error = move || {
        error.with(|e| {
            e.as_ref()
                .and_then(|f| f.beyond(&["email", "display_name", "password", "customer_id"]))
        })
    };

    view! {
        <form class="panel create-admin" on:submit=submit aria-label="Add admin">
            <div class="form-grid">
                <label class="field">
                    <span>"Email"</span>
                    <input type="email" name="email" required bind:value=email />
                    <small class="field-error">{move || field_error("email")}</small>
                </label>
                <label class="field">
                    <span>"Name"</span>
                    <input type="text" name="display_name" required bind:value=name />
                    <small class="field-error">{move || field_error("display_name")}</small>
                </label>
                <label class="field">
                    <span>"Role"</span>
                    <select name="role" on:change=move |e| if let Some(r) = Role::from_key(&event_target_value(&e)) { role.set(r) }>
                        {Role::ALL
                            .into_iter()
                            .map(|r| view! { <option value=r.key() selected=r == Role::CustomerAdmin>{r.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <Show when=move || role.get() != Role::MspAdmin>
                    <label class="field">
                        <span>{move || if role.get() == Role::ReadOnly { "Customer (empty: all customers)" } else { "Customer" }}</span>
                        <select name="customer" on:change=move |e| customer.set(event_target_value(&e))>
                            <option value="">"—"</option>
                            {move || customers
                                .get()
                                .into_iter()
                                .map(|c| view! { <option value=c.id.to_string()>{c.name}</option> })
                                .collect_view()}
                        </select>
                        <small class="field-error">{move || field_error("customer_id")}</small>
                    </label>
                </Show>
                <label class="field">
                    <span>"Initial password (12+ characters)"</span>
                    <input type="password" name="password" autocomplete="new-password" required bind:value=password />
                    <small class="field-error">{move || field_error("password")}</small>
                </label>
            </div>
            <Show when=move || general_error().is_some()>
                <p class="form-error" role="alert">{general_error}</p>
            </Show>
            <div class="actions">
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="submit" class="button primary" disabled=move || create.pending().get()>"Create admin"</button>
            </div>
        </form>
    }
}
