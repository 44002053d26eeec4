//! What desk reads of its caller: which customer view their roles allow, and who they are when a
//! request must name the person asking (CheckContact's `requested_by`).

use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1::CustomerView;
use rapport_security::policy::grants;
use rapport_security::{Caller, Permission, Role};

/// Who acts when no caller is known (the handler served without the guard): the name the guard
/// itself gives a caller when authentication is off.
const ANONYMOUS: &str = "anonymous";

/// FULL, with vulnerability only when one of the caller's roles may read it: desk never asks
/// profiles for more than the caller may see (and profiles audits that read).
pub(crate) fn customer_view(caller: Option<&Caller>) -> CustomerView {
    let may_read_vulnerability = caller.is_some_and(|caller| {
        caller
            .roles
            .iter()
            .any(|role| grants(*role, Permission::VulnerabilityRead))
    });
    if may_read_vulnerability {
        CustomerView::WithVulnerability
    } else {
        CustomerView::Full
    }
}

/// The caller as the actor of a request: an agent or supervisor by their role, anything else a
/// system, always under the token's subject (`rapport_security::actors` refuses any other id).
pub(crate) fn actor(caller: Option<&Caller>) -> common::Actor {
    let Some(caller) = caller else {
        return common::Actor {
            kind: common::ActorKind::System as i32,
            id: ANONYMOUS.to_owned(),
        };
    };
    let kind = if caller.roles.contains(&Role::Agent) {
        common::ActorKind::Agent
    } else if caller.roles.contains(&Role::Supervisor) {
        common::ActorKind::Supervisor
    } else {
        common::ActorKind::System
    };
    common::Actor {
        kind: kind as i32,
        id: caller.subject.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(roles: &[Role]) -> Caller {
        Caller {
            subject: "someone-1".into(),
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn only_roles_that_may_read_vulnerability_get_that_view() {
        assert_eq!(
            customer_view(Some(&caller(&[Role::Agent]))),
            CustomerView::Full
        );
        assert_eq!(
            customer_view(Some(&caller(&[Role::Supervisor]))),
            CustomerView::WithVulnerability
        );
        assert_eq!(
            customer_view(Some(&caller(&[Role::BillingSystem]))),
            CustomerView::Full
        );
        assert_eq!(customer_view(None), CustomerView::Full);
    }

    #[test]
    fn the_actor_is_the_caller_under_their_own_subject() {
        let agent = actor(Some(&caller(&[Role::Agent, Role::Supervisor])));
        assert_eq!(
            (agent.kind, agent.id.as_str()),
            (common::ActorKind::Agent as i32, "someone-1")
        );
        let supervisor = actor(Some(&caller(&[Role::Supervisor])));
        assert_eq!(supervisor.kind, common::ActorKind::Supervisor as i32);
        let billing = actor(Some(&caller(&[Role::BillingSystem])));
        assert_eq!(billing.kind, common::ActorKind::System as i32);
    }
}

#[cfg(test)]
mod policy_tests {
    /// Without its entry the guard would let every caller through unnamed (an RPC missing from
    /// the table reaches the handler with no caller), and desk could not ask as them.
    #[test]
    fn the_overview_needs_only_that_the_caller_may_read_customers() {
        let rpc =
            rapport_security::policy::rpc_of("/rapport.desk.v1.DeskService/GetCustomerOverview")
                .expect("in the policy table");
        assert_eq!(rpc.permission, rapport_security::Permission::CustomersRead);
    }
}
