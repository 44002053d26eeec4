//! Each section's state, and what desk adds to the answers it passes on: orders the contract
//! promises and the plan summary an agent asks first.

use rapport_proto::desk::v1 as pb;
use rapport_proto::plans::v1 as plans;
use tonic::{Code, Status};

use super::fan_out::{Answer, Budget, Owner};

/// Longest owning-service message kept in a section's detail.
const MAX_DETAIL_CHARS: usize = 200;

fn state(status: pb::SectionStatus, owner: Owner, detail: String) -> pb::SectionState {
    pb::SectionState {
        status: status as i32,
        service: owner.as_str().to_owned(),
        detail,
    }
}

pub(crate) fn ok(owner: Owner) -> pb::SectionState {
    state(pb::SectionStatus::Ok, owner, String::new())
}

pub(crate) fn not_applicable(owner: Owner, why: &str) -> pb::SectionState {
    state(pb::SectionStatus::NotApplicable, owner, why.to_owned())
}

/// The owner did not answer within the budget.
pub(crate) fn late(owner: Owner, budget: Budget) -> pb::SectionState {
    state(
        pb::SectionStatus::Unavailable,
        owner,
        format!(
            "{} did not answer within {} ms",
            owner.as_str(),
            budget.millis()
        ),
    )
}

/// The owner answered with an error: PERMISSION_DENIED is the caller's roles, anything else
/// leaves the section unavailable. The detail holds the code and the owner's own message (the
/// services keep personal data out of their messages), cut short.
pub(crate) fn refused(owner: Owner, budget: Budget, status: &Status) -> pb::SectionState {
    let section_status = match status.code() {
        Code::PermissionDenied => pb::SectionStatus::NotPermitted,
        Code::DeadlineExceeded | Code::Cancelled => return late(owner, budget),
        _ => pb::SectionStatus::Unavailable,
    };
    let message: String = status.message().chars().take(MAX_DETAIL_CHARS).collect();
    state(
        section_status,
        owner,
        format!(
            "{} answered {}: {message}",
            owner.as_str(),
            code_name(status.code())
        ),
    )
}

/// The answer and its section's state; the default (empty) answer when it did not come, so an
/// unavailable section never shows stale or partial data.
pub(crate) fn split<T: Default>(owner: Owner, answer: Answer<T>) -> (Option<pb::SectionState>, T) {
    match answer {
        Ok(value) => (Some(ok(owner)), value),
        Err(state) => (Some(state), T::default()),
    }
}

/// Accounts with the most days past due first (ties: the larger arrears, then the id), so the
/// first is the one may-we-call-now asks about.
pub(crate) fn most_past_due_first(accounts: &mut [plans::Account]) {
    accounts.sort_by(|a, b| {
        b.days_past_due
            .cmp(&a.days_past_due)
            .then_with(|| {
                let arrears =
                    |x: &plans::Account| x.arrears_amount.as_ref().map_or(0, |m| m.minor_units);
                arrears(b).cmp(&arrears(a))
            })
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
}

/// Plans newest first: by acceptance, then by id (UUIDv7, so by creation).
pub(crate) fn newest_first(plans: &mut [plans::Plan]) {
    let accepted = |p: &plans::Plan| p.accepted_at.as_ref().map(|t| (t.seconds, t.nanos));
    plans.sort_by(|a, b| {
        accepted(b)
            .cmp(&accepted(a))
            .then_with(|| b.plan_id.cmp(&a.plan_id))
    });
}

/// A plan with its next installment (the earliest neither paid nor waived) and how many were
/// missed.
pub(crate) fn summarise(plan: plans::Plan) -> pb::PlanSummary {
    use plans::InstallmentStatus as S;
    let settled =
        |i: &plans::Installment| i.status == S::Paid as i32 || i.status == S::Waived as i32;
    let next_installment = plan
        .schedule
        .iter()
        .filter(|i| !settled(i))
        .min_by_key(|i| i.sequence)
        .cloned();
    let missed = plan
        .schedule
        .iter()
        .filter(|i| i.status == S::Missed as i32)
        .count();
    pb::PlanSummary {
        plan: Some(plan),
        next_installment,
        missed_installments: i32::try_from(missed).unwrap_or(i32::MAX),
    }
}

/// The canonical name of a gRPC code, as the caller's own tools print it.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn installment(sequence: i32, status: plans::InstallmentStatus) -> plans::Installment {
        plans::Installment {
            sequence,
            status: status as i32,
            ..Default::default()
        }
    }

    #[test]
    fn the_next_installment_is_the_earliest_not_paid_and_misses_are_counted() {
        use plans::InstallmentStatus as S;
        let plan = plans::Plan {
            schedule: vec![
                installment(4, S::Scheduled),
                installment(1, S::Paid),
                installment(2, S::Missed),
                installment(3, S::PartiallyPaid),
            ],
            ..Default::default()
        };
        let summary = summarise(plan);
        assert_eq!(summary.next_installment.map(|i| i.sequence), Some(2));
        assert_eq!(summary.missed_installments, 1);
    }

    #[test]
    fn a_plan_paid_in_full_has_no_next_installment() {
        use plans::InstallmentStatus as S;
        let summary = summarise(plans::Plan {
            schedule: vec![installment(1, S::Paid), installment(2, S::Waived)],
            ..Default::default()
        });
        assert_eq!(summary.next_installment, None);
        assert_eq!(summary.missed_installments, 0);
    }

    #[test]
    fn the_account_most_past_due_comes_first() {
        let account = |id: &str, days| plans::Account {
            account_id: id.into(),
            days_past_due: days,
            ..Default::default()
        };
        let mut accounts = vec![account("a", 0), account("b", 65), account("c", 35)];
        most_past_due_first(&mut accounts);
        let order: Vec<_> = accounts.iter().map(|a| a.account_id.as_str()).collect();
        assert_eq!(order, ["b", "c", "a"]);
    }

    #[test]
    fn permission_denied_is_not_permitted_and_a_deadline_is_late_in_words() {
        let budget = Budget::starting_now(Duration::from_millis(150));
        let denied = refused(
            Owner::Plans,
            budget,
            &Status::permission_denied("needs hardship.read"),
        );
        assert_eq!(denied.status, pb::SectionStatus::NotPermitted as i32);
        assert_eq!(denied.service, "plans");
        assert!(denied.detail.contains("PERMISSION_DENIED"), "{denied:?}");
        let late = refused(Owner::Loyalty, budget, &Status::deadline_exceeded("late"));
        assert_eq!(late.status, pb::SectionStatus::Unavailable as i32);
        assert_eq!(late.detail, "loyalty did not answer within 150 ms");
        let down = refused(Owner::Referrals, budget, &Status::unavailable("refused"));
        assert_eq!(down.status, pb::SectionStatus::Unavailable as i32);
        assert!(
            down.detail.starts_with("referrals answered UNAVAILABLE"),
            "{down:?}"
        );
    }
}
