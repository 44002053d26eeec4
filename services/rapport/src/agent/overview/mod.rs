//! `rapport customer show`'s text: the desk's overview as sections, in the order an agent needs
//! them with the customer on the line — who they are, whether we may call now, what to do next,
//! protections (unmissable), then money, help in progress, loyalty, open promises and trust.
//! A section the desk could not fill says so with its status and why, never as "none".
//!
//! `call` writes what the agent must know before speaking, `money` the accounts and the help in
//! progress, `relationship` loyalty, promises we made and trust.

mod call;
mod money;
mod relationship;

use std::fmt::Write as _;

use rapport_proto::desk::v1 as desk;
use rapport_proto::plans::v1 as plans;

use super::Names;
use super::format::words;

/// The overview as sections of text; `names` names the other customers it mentions (referees,
/// the people on a trust path).
pub fn render_overview(o: &desk::GetCustomerOverviewResponse, names: &Names) -> String {
    let customer = o
        .customer
        .as_ref()
        .filter(|s| ok(s.state()))
        .and_then(|s| s.customer.as_ref());
    let context = Context {
        zone: customer.map_or("UTC", |c| c.time_zone.as_str()),
        accounts: o
            .accounts
            .as_ref()
            .filter(|s| ok(s.state()))
            .map_or(&[], |s| &s.accounts),
        names,
    };
    let out = &mut String::new();

    call::who(out, o, customer, &context);
    call::protected_banner(out, o.protections.as_ref(), &context);
    out.push('\n');
    section(out, "May we call now?", o.contact.as_ref(), |out, s| {
        call::contact(out, s, &context)
    });
    section(
        out,
        "Next best action:",
        o.next_best_action.as_ref(),
        |out, s| call::next_best_action(out, s, &context),
    );
    out.push('\n');

    section(out, "Protections", o.protections.as_ref(), |out, s| {
        call::protections(out, s, &context)
    });
    section(out, "Accounts", o.accounts.as_ref(), |out, s| {
        money::accounts(out, s)
    });
    section(out, "Hardship cases", o.hardship.as_ref(), |out, s| {
        money::hardship(out, s, &context)
    });
    section(out, "Plans", o.plans.as_ref(), |out, s| {
        money::plans(out, s, &context)
    });
    section(out, "Promises to pay", o.promises.as_ref(), |out, s| {
        money::promises(out, s, &context)
    });
    out.push('\n');

    section(out, "Loyalty", o.loyalty.as_ref(), relationship::loyalty);
    section(out, "Follow-ups", o.follow_ups.as_ref(), |out, s| {
        relationship::follow_ups(out, s, &context)
    });
    section(
        out,
        "Commitments",
        o.commitments.as_ref(),
        relationship::commitments,
    );
    out.push('\n');
    section(out, "Referrals", o.referrals.as_ref(), |out, s| {
        relationship::referrals(out, s, &context)
    });
    std::mem::take(out)
}

/// What every section's writer needs besides its section: the customer's time zone, the
/// accounts (to name an account where an id stands), and the names of other customers.
struct Context<'a> {
    zone: &'a str,
    accounts: &'a [plans::Account],
    names: &'a Names,
}

impl Context<'_> {
    /// "credit card DEMO-1 (0190…)", or the id alone when the accounts section does not hold it.
    fn account(&self, id: &str) -> String {
        if id.is_empty() {
            return "no account".to_owned();
        }
        match self.accounts.iter().find(|a| a.account_id == id) {
            Some(a) => format!(
                "{} {} ({id})",
                words(a.kind().as_str_name(), "ACCOUNT_KIND_"),
                a.external_account_id
            ),
            None => format!("account {id}"),
        }
    }
}

/// A section of the overview: it carries how it came back.
trait Section {
    fn state(&self) -> Option<&desk::SectionState>;
}

macro_rules! sections {
    ($($section:ty),* $(,)?) => {
        $(impl Section for $section {
            fn state(&self) -> Option<&desk::SectionState> {
                self.state.as_ref()
            }
        })*
    };
}

sections!(
    desk::CustomerSection,
    desk::ContactSection,
    desk::NextBestActionSection,
    desk::ProtectionsSection,
    desk::AccountsSection,
    desk::HardshipSection,
    desk::PlansSection,
    desk::PromisesSection,
    desk::LoyaltySection,
    desk::FollowUpsSection,
    desk::CommitmentsSection,
    desk::ReferralsSection,
);

/// An answered section through `write`; any other, its status and why under `label`.
fn section<S: Section>(
    out: &mut String,
    label: &str,
    section: Option<&S>,
    write: impl FnOnce(&mut String, &S),
) {
    match section {
        Some(s) if ok(s.state()) => write(out, s),
        other => not_ok(out, label, other.and_then(Section::state)),
    }
}

fn ok(state: Option<&desk::SectionState>) -> bool {
    state.is_some_and(|s| s.status() == desk::SectionStatus::Ok)
}

/// "Loyalty: unavailable — loyalty did not answer within 150 ms", "May we call now? not
/// applicable — no account to ask about".
fn not_ok(out: &mut String, label: &str, state: Option<&desk::SectionState>) {
    let label = label.trim_end_matches(':');
    let label = if label.ends_with('?') {
        label.to_owned()
    } else {
        format!("{label}:")
    };
    match state {
        Some(s) if s.status() != desk::SectionStatus::Unspecified => {
            let status = words(s.status().as_str_name(), "SECTION_STATUS_");
            if s.detail.is_empty() {
                let _ = writeln!(out, "{label} {status}");
            } else {
                let _ = writeln!(out, "{label} {status} — {}", s.detail);
            }
        }
        _ => {
            let _ = writeln!(out, "{label} unavailable — the desk did not say");
        }
    }
}

/// Every customer id the overview mentions besides its own (referees, the top trust path).
pub fn mentioned_customers(o: &desk::GetCustomerOverviewResponse) -> Vec<String> {
    let mut ids = Vec::new();
    if let Some(s) = &o.referrals {
        ids.extend(
            s.referrals_made
                .iter()
                .map(|r| r.referee_customer_id.clone()),
        );
        if let Some(path) = s.trust.as_ref().and_then(|t| t.paths.first()) {
            for edge in &path.edges {
                ids.push(edge.from_id.clone());
                ids.push(edge.to_id.clone());
            }
        }
    }
    ids.retain(|id| !id.is_empty() && *id != o.customer_id);
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_proto::common::v1 as common;
    use rapport_proto::loyalty::v1 as loyalty;
    use rapport_proto::profiles::v1 as profiles;

    fn state(status: desk::SectionStatus, detail: &str) -> Option<desk::SectionState> {
        Some(desk::SectionState {
            status: status as i32,
            service: String::new(),
            detail: detail.into(),
        })
    }

    fn at(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    fn ron(minor_units: i64) -> Option<common::Money> {
        Some(common::Money {
            currency_code: "RON".into(),
            minor_units,
        })
    }

    /// 2026-03-02T09:00:00Z, 11:00 in Bucharest.
    const NOW: i64 = 1_772_442_000;

    fn overview() -> desk::GetCustomerOverviewResponse {
        let ok = || state(desk::SectionStatus::Ok, "");
        desk::GetCustomerOverviewResponse {
            customer_id: "c-1".into(),
            customer: Some(desk::CustomerSection {
                state: ok(),
                customer: Some(profiles::Customer {
                    customer_id: "c-1".into(),
                    legal_name: "Ștefan Ionescu".into(),
                    locale: "ro-RO".into(),
                    time_zone: "Europe/Bucharest".into(),
                    customer_since: Some(common::Date {
                        year: 2019,
                        month: 11,
                        day: 2,
                    }),
                    status: profiles::CustomerStatus::Active as i32,
                    ..Default::default()
                }),
            }),
            contact: Some(desk::ContactSection {
                state: ok(),
                account_id: "a-1".into(),
                decision: Some(plans::CheckContactResponse {
                    allowed: false,
                    reasons: vec![
                        common::Reason {
                            message: "Inside the contact hours.".into(),
                            effect: common::ReasonEffect::Supports as i32,
                            ..Default::default()
                        },
                        common::Reason {
                            message: "Breathing space: no payment demands.".into(),
                            effect: common::ReasonEffect::Opposes as i32,
                            ..Default::default()
                        },
                    ],
                    next_allowed_at: at(NOW + 86_400 - 3 * 3600),
                    ..Default::default()
                }),
            }),
            next_best_action: Some(desk::NextBestActionSection {
                state: state(desk::SectionStatus::NotApplicable, "nothing past due"),
                ..Default::default()
            }),
            protections: Some(desk::ProtectionsSection {
                state: ok(),
                protections: vec![plans::Protection {
                    kind: plans::ProtectionKind::BreathingSpace as i32,
                    status: plans::ProtectionStatus::Active as i32,
                    ends_at: at(NOW + 30 * 86_400),
                    effects: vec![plans::ProtectionEffect::StopPaymentDemands as i32],
                    ..Default::default()
                }],
            }),
            accounts: Some(desk::AccountsSection {
                state: ok(),
                accounts: vec![plans::Account {
                    account_id: "a-1".into(),
                    kind: plans::AccountKind::CreditCard as i32,
                    external_account_id: "DEMO-0".into(),
                    balance: ron(850_000),
                    arrears_amount: ron(120_000),
                    days_past_due: 35,
                    stage: plans::DelinquencyStage::Mid as i32,
                    ..Default::default()
                }],
            }),
            hardship: Some(desk::HardshipSection {
                state: ok(),
                open_cases: vec![plans::HardshipCaseDetail {
                    hardship_case: Some(plans::HardshipCase {
                        case_id: "h-1".into(),
                        account_ids: vec!["a-1".into()],
                        reason: plans::HardshipReason::JobLoss as i32,
                        ..Default::default()
                    }),
                    affordability: Some(plans::Affordability {
                        disposable_income: ron(80_000),
                        ..Default::default()
                    }),
                    accepted_plan: None,
                    headroom: ron(80_000),
                }],
            }),
            loyalty: Some(desk::LoyaltySection {
                state: state(
                    desk::SectionStatus::Unavailable,
                    "loyalty did not answer within 150 ms",
                ),
                score: None,
            }),
            follow_ups: Some(desk::FollowUpsSection {
                state: ok(),
                follow_ups: vec![loyalty::FollowUp {
                    follow_up_id: "f-1".into(),
                    nps: 4,
                    status: loyalty::FollowUpStatus::Open as i32,
                    due_at: at(NOW),
                    ..Default::default()
                }],
            }),
            // Left out by the desk altogether: said, not read as "none".
            commitments: None,
            as_of: at(NOW),
            ..Default::default()
        }
    }

    #[test]
    fn the_overview_reads_in_the_order_an_agent_needs_it() {
        let text = render_overview(&overview(), &Names::default());
        let position = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{needle:?} missing from\n{text}"))
        };
        let order = [
            "Ștefan Ionescu",
            "PROTECTED: breathing space (active) until Wed 2026-04-01 12:00 EEST — no payment demands",
            "May we call now? NO — by phone, about credit card DEMO-0 (a-1)",
            "Next best action: not applicable — nothing past due",
            "Protections in force:",
            "Accounts:",
            "Hardship cases (open):",
            "Plans: unavailable",
            "Loyalty: unavailable — loyalty did not answer within 150 ms",
            "Follow-ups waiting:",
            "Commitments: unavailable",
            "Referrals: unavailable",
        ];
        let mut unknown = overview();
        unknown.protections = Some(desk::ProtectionsSection {
            state: state(
                desk::SectionStatus::Unavailable,
                "plans did not answer within 150 ms",
            ),
            protections: Vec::new(),
        });
        let unknown = render_overview(&unknown, &Names::default());
        assert!(
            unknown.contains(
                "PROTECTIONS NOT KNOWN: ask no payment until they are. Protections: unavailable — \
                 plans did not answer within 150 ms"
            ),
            "{unknown}"
        );
        for pair in order.windows(2) {
            assert!(position(pair[0]) < position(pair[1]), "{pair:?}\n{text}");
        }
        assert!(
            text.contains("customer since 2019-11-02 (6 years 4 months) · active"),
            "{text}"
        );
        assert!(
            text.contains("their time now: Mon 2026-03-02 11:00 EET"),
            "{text}"
        );
        // A refused call says what stops it (what would allow it is only context), and when
        // it may next happen.
        assert!(
            position("✗ Breathing space: no payment demands.") < position("next allowed: "),
            "{text}"
        );
        assert!(!text.contains("Inside the contact hours"), "{text}");
        assert!(
            text.contains("next allowed: Tue 2026-03-03 08:00 EET (the customer's time)"),
            "{text}"
        );
        assert!(text.contains("RON 8500.00"), "{text}");
        assert!(text.contains("RON 1200.00"), "{text}");
        assert!(
            text.contains("disposable income RON 800.00 a month"),
            "{text}"
        );
        assert!(
            text.contains("no plan yet: rapport plans options --account a-1 --case h-1"),
            "{text}"
        );
    }
}
