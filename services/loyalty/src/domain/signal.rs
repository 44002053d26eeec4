//! The facts the loyalty score reads. Each is stored as one row (`signals`: kind, value,
//! reference, when), so the score of a customer is a function of the set of their signals and
//! the time: the order they arrived in does not matter.

use jiff::Timestamp;

/// One fact about a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    pub kind: Kind,
    pub at: Timestamp,
}

/// What happened. The comment says where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// One survey response (RecordSurveyResponse): NPS 0–10 and/or CSAT 1–5.
    Survey {
        nps: Option<u8>,
        csat: Option<u8>,
    },
    /// The answer came with free text: an opinion given.
    Opinion,
    /// A survey was sent (an outside survey tool's `surveys.survey_sent.v1`); counts for the throttle.
    SurveySent,
    /// A touchpoint (profiles' `interaction_recorded`), with its sentiment.
    Interaction(Sentiment),
    /// A complaint logged by an outside system.
    Complaint,
    /// What we promised the customer, kept or broken (profiles' `commitment_resolved`).
    CommitmentKept,
    CommitmentBroken,
    /// A detractor follow-up: opened, and closed; both carry the follow-up id and due time.
    FollowUpOpened {
        follow_up: String,
        due: Timestamp,
    },
    FollowUpClosed {
        follow_up: String,
        due: Timestamp,
    },
    /// Referrals: asked to vouch, answered (vouched or not), referred someone, a referral qualified.
    VouchRequested,
    VouchAnswered {
        vouched: bool,
    },
    ReferralMade,
    ReferralQualified,
    /// Plans: a hardship case, a protection, a plan accepted, an installment paid or missed, a plan
    /// completed, broken or cancelled, a promise to pay kept or not.
    HardshipOpened,
    ProtectionSet,
    PlanAccepted,
    InstallmentPaid,
    InstallmentMissed,
    PlanCompleted,
    PlanBroken,
    PlanCancelled,
    PromiseKept,
    PromiseBroken,
    /// A small gesture (RecordRecognition, an anniversary reward) and how the customer took it.
    Recognition(Sentiment),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sentiment {
    Unknown,
    Positive,
    Neutral,
    Negative,
    Mixed,
}

impl Sentiment {
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Positive => "positive",
            Self::Neutral => "neutral",
            Self::Negative => "negative",
            Self::Mixed => "mixed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "unknown" => Self::Unknown,
            "positive" => Self::Positive,
            "neutral" => Self::Neutral,
            "negative" => Self::Negative,
            "mixed" => Self::Mixed,
            _ => return None,
        })
    }
}

/// A signal as one row: (kind code, value, reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub kind: &'static str,
    pub value: i64,
    pub reference: Option<String>,
}

impl Kind {
    /// The stored form.
    pub fn to_row(&self) -> Row {
        let plain = |kind| Row {
            kind,
            value: 0,
            reference: None,
        };
        let sentiment = |kind, s: &Sentiment| Row {
            kind,
            value: 0,
            reference: Some(s.code().to_owned()),
        };
        match self {
            // value = (nps + 1) · 10 + csat, with 0 for an answer not given: 115 = NPS 10, CSAT 5.
            Self::Survey { nps, csat } => Row {
                kind: "survey",
                value: nps.map_or(0, |n| i64::from(n) + 1) * 10 + csat.map_or(0, i64::from),
                reference: None,
            },
            Self::Opinion => plain("opinion"),
            Self::SurveySent => plain("survey_sent"),
            Self::Interaction(s) => sentiment("interaction", s),
            Self::Complaint => plain("complaint"),
            Self::CommitmentKept => plain("commitment_kept"),
            Self::CommitmentBroken => plain("commitment_broken"),
            Self::FollowUpOpened { follow_up, due } => Row {
                kind: "follow_up_opened",
                value: rapport_clock::to_unix_micros(*due),
                reference: Some(follow_up.clone()),
            },
            Self::FollowUpClosed { follow_up, due } => Row {
                kind: "follow_up_closed",
                value: rapport_clock::to_unix_micros(*due),
                reference: Some(follow_up.clone()),
            },
            Self::VouchRequested => plain("vouch_requested"),
            Self::VouchAnswered { vouched } => Row {
                kind: "vouch_answered",
                value: i64::from(*vouched),
                reference: None,
            },
            Self::ReferralMade => plain("referral_made"),
            Self::ReferralQualified => plain("referral_qualified"),
            Self::HardshipOpened => plain("hardship_opened"),
            Self::ProtectionSet => plain("protection_set"),
            Self::PlanAccepted => plain("plan_accepted"),
            Self::InstallmentPaid => plain("installment_paid"),
            Self::InstallmentMissed => plain("installment_missed"),
            Self::PlanCompleted => plain("plan_completed"),
            Self::PlanBroken => plain("plan_broken"),
            Self::PlanCancelled => plain("plan_cancelled"),
            Self::PromiseKept => plain("promise_kept"),
            Self::PromiseBroken => plain("promise_broken"),
            Self::Recognition(s) => sentiment("recognition", s),
        }
    }

    /// Back from the stored form; `None` for a row this version does not know.
    pub fn from_row(kind: &str, value: i64, reference: Option<&str>) -> Option<Self> {
        let sentiment = || reference.and_then(Sentiment::parse);
        Some(match kind {
            "survey" => {
                let (nps, csat) = (value / 10 - 1, value % 10);
                if !(-1..=10).contains(&nps) || !(0..=5).contains(&csat) || value < 0 {
                    return None;
                }
                let nps = u8::try_from(nps).ok();
                let csat = u8::try_from(csat).ok().filter(|c| *c > 0);
                if nps.is_none() && csat.is_none() {
                    return None;
                }
                Self::Survey { nps, csat }
            }
            "opinion" => Self::Opinion,
            "survey_sent" => Self::SurveySent,
            "interaction" => Self::Interaction(sentiment()?),
            "complaint" => Self::Complaint,
            "commitment_kept" => Self::CommitmentKept,
            "commitment_broken" => Self::CommitmentBroken,
            "follow_up_opened" => Self::FollowUpOpened {
                follow_up: reference?.to_owned(),
                due: rapport_clock::from_unix_micros(value)?,
            },
            "follow_up_closed" => Self::FollowUpClosed {
                follow_up: reference?.to_owned(),
                due: rapport_clock::from_unix_micros(value)?,
            },
            "vouch_requested" => Self::VouchRequested,
            "vouch_answered" => Self::VouchAnswered {
                vouched: value == 1,
            },
            "referral_made" => Self::ReferralMade,
            "referral_qualified" => Self::ReferralQualified,
            "hardship_opened" => Self::HardshipOpened,
            "protection_set" => Self::ProtectionSet,
            "plan_accepted" => Self::PlanAccepted,
            "installment_paid" => Self::InstallmentPaid,
            "installment_missed" => Self::InstallmentMissed,
            "plan_completed" => Self::PlanCompleted,
            "plan_broken" => Self::PlanBroken,
            "plan_cancelled" => Self::PlanCancelled,
            "promise_kept" => Self::PromiseKept,
            "promise_broken" => Self::PromiseBroken,
            "recognition" => Self::Recognition(sentiment()?),
            _ => return None,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_survives_its_row() {
        let due: Timestamp = "2026-03-04T09:00:00Z".parse().unwrap();
        let kinds = [
            Kind::Survey {
                nps: Some(0),
                csat: None,
            },
            Kind::Survey {
                nps: Some(10),
                csat: Some(5),
            },
            Kind::Survey {
                nps: None,
                csat: Some(1),
            },
            Kind::Opinion,
            Kind::SurveySent,
            Kind::Interaction(Sentiment::Positive),
            Kind::Interaction(Sentiment::Unknown),
            Kind::Complaint,
            Kind::CommitmentKept,
            Kind::CommitmentBroken,
            Kind::FollowUpOpened {
                follow_up: "f".into(),
                due,
            },
            Kind::FollowUpClosed {
                follow_up: "f".into(),
                due,
            },
            Kind::VouchRequested,
            Kind::VouchAnswered { vouched: true },
            Kind::VouchAnswered { vouched: false },
            Kind::ReferralMade,
            Kind::ReferralQualified,
            Kind::HardshipOpened,
            Kind::ProtectionSet,
            Kind::PlanAccepted,
            Kind::InstallmentPaid,
            Kind::InstallmentMissed,
            Kind::PlanCompleted,
            Kind::PlanBroken,
            Kind::PlanCancelled,
            Kind::PromiseKept,
            Kind::PromiseBroken,
            Kind::Recognition(Sentiment::Negative),
        ];
        for kind in kinds {
            let row = kind.to_row();
            assert_eq!(
                Kind::from_row(row.kind, row.value, row.reference.as_deref()),
                Some(kind)
            );
        }
        assert_eq!(Kind::from_row("survey", 125, None), None, "NPS 11");
        assert_eq!(Kind::from_row("survey", 6, None), None, "CSAT 6");
        assert_eq!(Kind::from_row("survey", 0, None), None, "no answer at all");
        assert_eq!(Kind::from_row("teleport", 0, None), None);
    }
}
