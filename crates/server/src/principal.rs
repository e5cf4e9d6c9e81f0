//! Who is asking, and what that lets them see. A [`Principal`] is built once: from the
//! signed-in admin for a request, or from a subscription's owner (as they are now) for a
//! delivery. Every scoped query takes one, so the access rules live here and nowhere else.

use provisio_api::auth::Role;

use crate::db::admins::AdminRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub admin_id: i64,
    pub role: Role,
    /// The customer an admin is bound to; None for MSP-wide admins.
    pub customer: Option<i64>,
}

/// Which customers' data a principal may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An MSP-wide caller: every customer.
    AllCustomers,
    /// A caller bound to one customer (by its row id).
    Customer(i64),
}

impl Scope {
    /// The one customer of a bound caller; None for an MSP-wide one.
    pub fn customer_id(self) -> Option<i64> {
        match self {
            Scope::AllCustomers => None,
            Scope::Customer(id) => Some(id),
        }
    }
}

impl Principal {
    pub fn of_admin(admin: &AdminRecord) -> Principal {
        Principal {
            admin_id: admin.id,
            role: admin.role(),
            customer: admin.customer_id,
        }
    }

    /// The customers whose report rows, tokens and users this principal sees.
    pub fn scope(&self) -> Scope {
        match self.customer {
            Some(customer) => Scope::Customer(customer),
            None => Scope::AllCustomers,
        }
    }

    /// Whose subscriptions this principal sees: None for everyone's (MSP admins), else only
    /// their own.
    pub fn subscription_owner(&self) -> Option<i64> {
        match self.role {
            Role::MspAdmin => None,
            _ => Some(self.admin_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, customer: Option<i64>) -> Principal {
        Principal {
            admin_id: 1,
            role,
            customer,
        }
    }

    #[test]
    fn customer_bound_principals_see_their_customer_and_own_subscriptions() {
        let msp = principal(Role::MspAdmin, None);
        assert_eq!(msp.scope(), Scope::AllCustomers);
        assert_eq!(msp.subscription_owner(), None);
        let customer = principal(Role::CustomerAdmin, Some(7));
        assert_eq!(customer.scope(), Scope::Customer(7));
        assert_eq!(customer.subscription_owner(), Some(1));
    }
}
