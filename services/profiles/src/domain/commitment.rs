//! What we promised the customer, and whether we kept it.

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_proto::profiles::v1::CommitmentStatus;

use super::Actor;

/// How much earlier than the commitment's recording its resolution may be reported: clock skew
/// only. DESIGN.md, "Money and time": caller-supplied times are bounded by what they describe; a
/// promise cannot be kept or broken before it was made.
pub const RESOLVED_BEFORE_RECORDED_TOLERANCE: jiff::SignedDuration =
    rapport_wire::CLOCK_SKEW_TOLERANCE;

/// The stored state; "overdue" is not stored but derived from the date (see [`Commitment::status_on`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitmentState {
    Open,
    Kept,
    Broken,
}

impl CommitmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Kept => "kept",
            Self::Broken => "broken",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "open" => Self::Open,
            "kept" => Self::Kept,
            "broken" => Self::Broken,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub at: Timestamp,
    pub by: Actor,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    pub id: Id,
    pub customer_id: Id,
    pub description: String,
    pub promised_by: Actor,
    /// In the customer's calendar.
    pub due_date: Date,
    pub state: CommitmentState,
    pub interaction_id: String,
    pub created_at: Timestamp,
    pub resolution: Option<Resolution>,
}

impl Commitment {
    /// The status as the customer sees it on `today` (their local date): an open promise whose
    /// due date has passed is overdue.
    pub fn status_on(&self, today: Date) -> CommitmentStatus {
        match self.state {
            CommitmentState::Kept => CommitmentStatus::Kept,
            CommitmentState::Broken => CommitmentStatus::Broken,
            CommitmentState::Open if self.due_date < today => CommitmentStatus::Overdue,
            CommitmentState::Open => CommitmentStatus::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_proto::common::v1::ActorKind;

    #[test]
    fn an_open_commitment_is_overdue_only_after_its_due_date() {
        let commitment = Commitment {
            id: Id::new(),
            customer_id: Id::new(),
            description: "call back with the fee refund".into(),
            promised_by: Actor {
                kind: ActorKind::Agent,
                id: "agent-7".into(),
            },
            due_date: jiff::civil::date(2026, 3, 10),
            state: CommitmentState::Open,
            interaction_id: String::new(),
            created_at: Timestamp::UNIX_EPOCH,
            resolution: None,
        };
        assert_eq!(
            commitment.status_on(jiff::civil::date(2026, 3, 10)),
            CommitmentStatus::Open
        );
        assert_eq!(
            commitment.status_on(jiff::civil::date(2026, 3, 11)),
            CommitmentStatus::Overdue
        );
        let kept = Commitment {
            state: CommitmentState::Kept,
            ..commitment
        };
        assert_eq!(
            kept.status_on(jiff::civil::date(2027, 1, 1)),
            CommitmentStatus::Kept
        );
    }
}
