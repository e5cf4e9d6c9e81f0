//! The customer a per-customer page is about: MSP-wide admins pick one, a customer's own
//! admins have theirs.

use leptos::prelude::*;
use provisio_api::auth::CustomerRef;

use crate::api::{self, ApiFailure};
use crate::session::Session;

/// The customers to choose from and the one chosen.
#[derive(Clone, Copy)]
pub struct CustomerChoice {
    pub customers: LocalResource<Result<Vec<CustomerRef>, ApiFailure>>,
    pub customer: RwSignal<Option<i64>>,
    /// Whether the admin chooses (MSP-wide admins) or has one customer.
    pub picks: bool,
}

impl CustomerChoice {
    /// The chosen customer's name.
    pub fn name(self) -> Option<String> {
        let id = self.customer.get()?;
        self.customers
            .get()?
            .ok()?
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.name)
    }
}

/// Loads the customers in scope and chooses the first until the admin picks another.
pub fn use_customer_choice() -> CustomerChoice {
    let own = Session::expect().me().and_then(|me| me.customer);
    let picks = own.is_none();
    let customer = RwSignal::new(own.as_ref().map(|c| c.id));
    let customers = LocalResource::new(move || {
        let own = own.clone();
        async move {
            match own {
                Some(own) => Ok(vec![own]),
                None => api::customers().await,
            }
        }
    });
    Effect::new(move |_| {
        if customer.get_untracked().is_none() {
            if let Some(Ok(all)) = customers.get() {
                customer.set(all.first().map(|c| c.id));
            }
        }
    });
    CustomerChoice {
        customers,
        customer,
        picks,
    }
}

/// The customer select, shown only to admins who choose.
#[component]
pub fn CustomerPicker(choice: CustomerChoice) -> impl IntoView {
    let options = move || {
        choice
            .customers
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                let selected = choice.customer.get_untracked() == Some(c.id);
                view! { <option value=c.id.to_string() selected=selected>{c.name}</option> }
            })
            .collect_view()
    };
    view! {
        <Show when=move || choice.picks>
            <label class="customer-picker">
                <span>"Customer"</span>
                <select
                    class="view-select"
                    name="customer"
                    on:change=move |e| choice.customer.set(event_target_value(&e).parse().ok())
                >
                    {options}
                </select>
            </label>
        </Show>
    }
}
