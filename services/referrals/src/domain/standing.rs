//! Good standing as referrals uses it (vouchers, trust seeds, reward qualification).
//!
//! The rule is defined once, in plans (DESIGN.md, "Good standing": not more than 30 days past
//! due on an account no kept plan covers, no broken plan in the last 12 months, not closed) and
//! published as `plans.standing_changed.v1`: the verdict, since when it holds, and every reason,
//! each opposing one with the moment it lapses by itself (a broken plan ageing out), if it does.
//! Referrals keeps the latest verdict ([`Published`]) and reads it at the time it needs it, so a
//! lapse counts when it comes without anyone publishing again. The "not closed" clause is
//! profiles' status, which referrals reads with the customer's tenure; [`Standing::of`] puts the
//! two together. Referrals does not re-derive the rule: it only reads what plans said.

use jiff::Timestamp;
use serde_json::Value;

/// The event type that carries good standing.
pub const STANDING_CHANGED: &str = "plans.standing_changed.v1";

/// The rule, as explanations cite it.
pub const RULE: &str = "DESIGN.md: Good standing (defined in plans' rules, published as events)";

/// One reason plans gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedReason {
    pub code: String,
    /// Takes the customer out of good standing (otherwise it supports it, e.g. a kept plan).
    pub opposes: bool,
    pub message: String,
    /// When it stops counting by itself, if it does.
    pub lapses_at: Option<Timestamp>,
}

/// The latest verdict plans published about a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub in_good_standing: bool,
    /// Since when the verdict holds.
    pub since: Timestamp,
    pub reasons: Vec<PublishedReason>,
}

impl Published {
    /// Reads a `plans.standing_changed.v1` payload; the error names what is missing.
    pub fn parse(payload: &Value) -> Result<Self, String> {
        let instant = |value: &Value, name: &str| -> Result<Timestamp, String> {
            value
                .as_str()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| format!("payload {name:?} is not an RFC 3339 instant"))
        };
        let in_good_standing = payload
            .get("in_good_standing")
            .and_then(Value::as_bool)
            .ok_or("payload has no \"in_good_standing\" (true or false)")?;
        let since = instant(payload.get("since").unwrap_or(&Value::Null), "since")?;
        let reasons = match payload.get("reasons") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    let code = item
                        .get("code")
                        .and_then(Value::as_str)
                        .filter(|c| !c.is_empty())
                        .ok_or("a reason has no \"code\"")?;
                    let opposes = match item.get("effect").and_then(Value::as_str) {
                        Some("OPPOSES") => true,
                        Some("SUPPORTS") => false,
                        _ => return Err("a reason's \"effect\" is not OPPOSES or SUPPORTS".into()),
                    };
                    let lapses_at = match item.get("lapses_at") {
                        None | Some(Value::Null) => None,
                        Some(value) => Some(instant(value, "lapses_at")?),
                    };
                    Ok(PublishedReason {
                        code: code.to_owned(),
                        opposes,
                        message: item
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        lapses_at,
                    })
                })
                .collect::<Result<_, String>>()?,
            Some(_) => return Err("payload \"reasons\" is not a list".into()),
        };
        if !in_good_standing && !reasons.iter().any(|r| r.opposes) {
            return Err("out of good standing without an opposing reason".into());
        }
        Ok(Self {
            in_good_standing,
            since,
            reasons,
        })
    }

    /// The reasons in the payload's form (for storage; [`Published::parse`] reads them back).
    pub fn reasons_json(&self) -> Value {
        Value::Array(
            self.reasons
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code,
                        "effect": if r.opposes { "OPPOSES" } else { "SUPPORTS" },
                        "message": r.message,
                        "lapses_at": r.lapses_at.map(|at| at.to_string()),
                    })
                })
                .collect(),
        )
    }

    /// The opposing reasons still in force at `at`.
    pub fn opposing_at(&self, at: Timestamp) -> impl Iterator<Item = &PublishedReason> {
        self.reasons
            .iter()
            .filter(move |r| r.opposes && r.lapses_at.is_none_or(|lapse| lapse > at))
    }

    /// In good standing at `at`: as published, or every reason against it has lapsed since.
    pub fn good_at(&self, at: Timestamp) -> bool {
        self.in_good_standing || self.opposing_at(at).next().is_none()
    }

    /// Since when the standing at `at` holds.
    pub fn since_at(&self, at: Timestamp) -> Timestamp {
        if self.in_good_standing || !self.good_at(at) {
            return self.since;
        }
        self.reasons
            .iter()
            .filter_map(|r| r.lapses_at)
            .max()
            .unwrap_or(self.since)
    }
}

/// A reason, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub code: String,
    pub message: String,
    pub opposes: bool,
}

/// A customer's good standing at one moment, from plans' verdict and profiles' status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub good: bool,
    /// Since when it holds; `None`: in good standing and never known out of it.
    pub since: Option<Timestamp>,
    /// What counts at that moment: the opposing reasons, or what keeps the customer in good
    /// standing despite arrears (a kept plan).
    pub notes: Vec<Note>,
}

impl Standing {
    /// `active`: profiles' status is ACTIVE (`inactive_since`: since when referrals has seen it
    /// otherwise); `published`: plans' latest verdict, if plans ever published one (none: no
    /// arrears or broken plan ever took the customer out of good standing).
    pub fn of(
        active: bool,
        inactive_since: Option<Timestamp>,
        published: Option<&Published>,
        at: Timestamp,
    ) -> Self {
        let mut notes = Vec::new();
        let mut lost_since: Vec<Timestamp> = Vec::new();
        if !active {
            notes.push(Note {
                code: "CLOSED".into(),
                message: "The customer is no longer an active customer (closed, merged or erased)."
                    .into(),
                opposes: true,
            });
            lost_since.push(inactive_since.unwrap_or(at));
        }
        let mut regained = None;
        if let Some(published) = published {
            if published.good_at(at) {
                regained = Some(published.since_at(at));
                notes.extend(
                    published
                        .reasons
                        .iter()
                        .filter(|r| !r.opposes)
                        .map(|r| Note {
                            code: r.code.clone(),
                            message: r.message.clone(),
                            opposes: false,
                        }),
                );
            } else {
                lost_since.push(published.since);
                notes.extend(published.opposing_at(at).map(|r| Note {
                    code: r.code.clone(),
                    message: r.message.clone(),
                    opposes: true,
                }));
            }
        }
        match lost_since.into_iter().min() {
            Some(lost) => Self {
                good: false,
                since: Some(lost),
                notes: notes.into_iter().filter(|n| n.opposes).collect(),
            },
            None => Self {
                good: true,
                since: regained,
                notes,
            },
        }
    }

    /// When the customer fell out of good standing, while they are out of it.
    pub fn lost_at(&self) -> Option<Timestamp> {
        if self.good { None } else { self.since }
    }

    /// Whether standing holds at `at` and has held for at least `days` (never lost counts as
    /// always held).
    pub fn held_for_days(&self, days: u32, at: Timestamp) -> bool {
        self.good
            && self.since.is_none_or(|since| {
                since <= at - jiff::SignedDuration::from_hours(24 * i64::from(days))
            })
    }

    /// The opposing reasons in one sentence, for refusals and explanations.
    pub fn why_not(&self) -> String {
        self.notes
            .iter()
            .filter(|n| n.opposes)
            .map(|n| n.message.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_verdict_is_read_from_plans_payload() {
        let published = Published::parse(&json!({
            "customer_id": "x",
            "in_good_standing": false,
            "since": "2026-03-02T09:00:00Z",
            "reasons": [
                {"code": "PAST_DUE", "effect": "OPPOSES", "message": "95 days past due", "account_id": "a", "days_past_due": 95.0},
                {"code": "PLAN_BROKEN", "effect": "OPPOSES", "message": "broken", "lapses_at": "2026-09-01T00:00:00Z"},
            ],
        }))
        .unwrap();
        assert!(!published.in_good_standing);
        assert_eq!(published.reasons.len(), 2);
        assert_eq!(
            published.reasons[1].lapses_at,
            Some(at("2026-09-01T00:00:00Z"))
        );
        assert!(Published::parse(&json!({"since": "2026-03-02T09:00:00Z"})).is_err());
        assert!(
            Published::parse(&json!({"in_good_standing": true, "since": "yesterday"})).is_err()
        );
        assert!(
            Published::parse(&json!({"in_good_standing": false, "since": "2026-03-02T09:00:00Z"}))
                .unwrap_err()
                .contains("opposing reason")
        );
    }

    fn broken_until(lapse: &str) -> Published {
        Published {
            in_good_standing: false,
            since: at("2025-09-01T00:00:00Z"),
            reasons: vec![PublishedReason {
                code: "PLAN_BROKEN".into(),
                opposes: true,
                message: "Plan p was broken.".into(),
                lapses_at: Some(at(lapse)),
            }],
        }
    }

    #[test]
    fn a_broken_plan_stops_counting_when_plans_said_it_would() {
        let published = broken_until("2026-09-01T00:00:00Z");
        let before = Standing::of(true, None, Some(&published), at("2026-08-31T23:59:59Z"));
        assert!(!before.good);
        assert_eq!(before.lost_at(), Some(at("2025-09-01T00:00:00Z")));
        assert_eq!(before.why_not(), "Plan p was broken.");
        let after = Standing::of(true, None, Some(&published), at("2026-09-01T00:00:00Z"));
        assert!(after.good);
        assert_eq!(after.since, Some(at("2026-09-01T00:00:00Z")));
        assert!(!after.held_for_days(90, at("2026-11-29T00:00:00Z")));
        assert!(after.held_for_days(90, at("2026-11-30T00:00:00Z")));
    }

    #[test]
    fn arrears_do_not_lapse_and_a_kept_plan_is_good_standing() {
        let behind = Published {
            in_good_standing: false,
            since: at("2026-03-02T09:00:00Z"),
            reasons: vec![PublishedReason {
                code: "PAST_DUE".into(),
                opposes: true,
                message: "95 days past due".into(),
                lapses_at: None,
            }],
        };
        assert!(!Standing::of(true, None, Some(&behind), at("2030-01-01T00:00:00Z")).good);

        let keeping = Published {
            in_good_standing: true,
            since: at("2026-03-05T09:00:00Z"),
            reasons: vec![PublishedReason {
                code: "KEEPING_PLAN".into(),
                opposes: false,
                message: "keeping plan p".into(),
                lapses_at: None,
            }],
        };
        let standing = Standing::of(true, None, Some(&keeping), at("2026-03-06T00:00:00Z"));
        assert!(standing.good);
        assert_eq!(standing.notes[0].code, "KEEPING_PLAN");
        assert_eq!(standing.since, Some(at("2026-03-05T09:00:00Z")));
    }

    #[test]
    fn closed_in_profiles_is_out_of_good_standing_whatever_plans_says() {
        let now = at("2026-03-02T09:00:00Z");
        let closed = Standing::of(false, Some(now), None, now);
        assert!(!closed.good);
        assert_eq!(closed.notes[0].code, "CLOSED");
        let never = Standing::of(true, None, None, now);
        assert!(never.good);
        assert_eq!(never.since, None);
        assert!(never.held_for_days(90, now));
    }
}
