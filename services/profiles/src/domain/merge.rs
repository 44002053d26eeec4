//! What the survivor of a merge keeps of the two people's protections: the most protective choice
//! wins, never the later one.
//!
//! Why not "the latest decision wins" (as within one customer)? Two records of one person are two
//! channels through which that person told us something. An opt-out given on one record was never
//! withdrawn by a consent given on the other; treating the later as a withdrawal would contact
//! someone who refused, which the law forbids:
//! - Reg F §1006.6(e) (12 CFR 1006.6(e)): a consumer's opt-out of a medium must be honoured.
//! - Reg F §1006.14(h) (12 CFR 1006.14(h)): no communication through a medium the consumer asked
//!   not to be used; quiet (inconvenient) times under §1006.6(b)(1)(i) likewise.
//! - GDPR art. 21(2)-(3): after an objection to direct marketing, the data are no longer
//!   processed for it; art. 7(3): withdrawal must be as easy as giving.
//! - FCA FG21/1 (fair treatment of vulnerable customers): a firm that knows of a vulnerability
//!   acts on it; merging records must not lose what the firm knows.
//!
//! The customer may of course grant again after the merge: a new decision on the survivor is in
//! force as usual.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_proto::common::v1::Channel;
use rapport_proto::profiles::v1::{ConsentPurpose, ConsentStatus};

use super::consent::{Consent, in_force};
use super::preferences::ContactPreferences;
use super::vulnerability::{Vulnerability, VulnerabilityRecord};

/// The survivor's contact preferences after the merge: an opt-out of a channel on either side
/// holds (§1006.6(e), §1006.14(h)); quiet hours are the union (§1006.6(b)(1)(i): a time either
/// record said is inconvenient stays inconvenient); do-not-contact on either side holds. Preferred
/// channels keep the survivor's order, then the duplicate's, without any refused channel.
pub fn preferences(
    survivor: Option<&ContactPreferences>,
    duplicate: Option<&ContactPreferences>,
    now: Timestamp,
) -> Option<ContactPreferences> {
    let (s, d) = match (survivor, duplicate) {
        (None, None) => return None,
        (Some(one), None) | (None, Some(one)) => return Some(one.clone()),
        (Some(s), Some(d)) => (s, d),
    };
    let mut refused = s.do_not_contact_channels.clone();
    push_missing(&mut refused, &d.do_not_contact_channels);
    let mut preferred = s.preferred_channels.clone();
    push_missing(&mut preferred, &d.preferred_channels);
    preferred.retain(|c| !refused.contains(c));
    let mut quiet_hours = s.quiet_hours.clone();
    push_missing(&mut quiet_hours, &d.quiet_hours);
    Some(ContactPreferences {
        preferred_channels: preferred,
        quiet_hours,
        do_not_contact_channels: refused,
        do_not_contact: s.do_not_contact || d.do_not_contact,
        updated_at: now,
    })
}

/// The survivor's vulnerability record (FCA FG21/1): every factor and need of either side holds;
/// the sooner review date is kept (a later one would leave a need unreviewed longer); notes of
/// both are kept. The record is marked consented only when both were: we do not claim a consent
/// the person gave on neither record for the other's factors, but the factors hold regardless.
pub fn vulnerability(
    survivor: Option<&VulnerabilityRecord>,
    duplicate: Option<&VulnerabilityRecord>,
) -> Option<VulnerabilityRecord> {
    let (s, d) = match (survivor, duplicate) {
        (None, None) => return None,
        (Some(one), None) | (None, Some(one)) => return Some(one.clone()),
        (Some(s), Some(d)) => (s, d),
    };
    let (sv, dv) = (&s.vulnerability, &d.vulnerability);
    let mut factors = sv.factors.clone();
    push_missing(&mut factors, &dv.factors);
    let mut needs = sv.needs.clone();
    push_missing(&mut needs, &dv.needs);
    let notes = match (sv.notes.trim(), dv.notes.trim()) {
        (a, "") => a.to_owned(),
        ("", b) => b.to_owned(),
        (a, b) if a == b => a.to_owned(),
        (a, b) => format!("{a}\n{b}"),
    };
    let review_date = match (sv.review_date, dv.review_date) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let latest = if d.recorded_at > s.recorded_at { d } else { s };
    Some(VulnerabilityRecord {
        vulnerability: Vulnerability {
            factors,
            needs,
            notes,
            review_date,
            customer_consented: sv.customer_consented && dv.customer_consented,
        },
        recorded_by: latest.recorded_by.clone(),
        recorded_at: latest.recorded_at,
    })
}

/// Decisions to append to the survivor's consent history so that a refusal in force on either
/// side stays in force once both histories are one (GDPR art. 7(3), 21(3); Reg F §1006.6(e)).
///
/// Consent is read per channel, then for every channel (`Channel::Unspecified`). For each
/// (purpose, channel) either side has a decision about, if either side's reading is a refusal
/// and the combined history would read as granted (the other side decided later), a copy of the
/// refusal is recorded at `now`, saying why in `source_detail`. History itself is never rewritten.
pub fn carried_refusals(
    survivor_history: &[Consent],
    duplicate_history: &[Consent],
    survivor: Id,
    duplicate: Id,
    now: Timestamp,
) -> Vec<Consent> {
    let s = in_force(survivor_history);
    let d = in_force(duplicate_history);
    let combined = in_force(&[survivor_history, duplicate_history].concat());
    let mut keys: Vec<(ConsentPurpose, Channel)> = Vec::new();
    for c in s.iter().chain(&d) {
        push_missing(&mut keys, &[(c.purpose, c.channel)]);
        push_missing(&mut keys, &[(c.purpose, Channel::Unspecified)]);
    }
    let mut carried = Vec::new();
    for (purpose, channel) in keys {
        let refusal = [&s, &d]
            .into_iter()
            .filter_map(|side| reading(side, purpose, channel))
            .find(|c| c.status != ConsentStatus::Granted);
        let Some(refusal) = refusal else { continue };
        if reading(&combined, purpose, channel).map(|c| c.status) != Some(ConsentStatus::Granted) {
            continue;
        }
        carried.push(Consent {
            id: Id::new(),
            customer_id: survivor,
            purpose,
            channel,
            status: refusal.status,
            source: refusal.source,
            source_detail: format!(
                "kept by the merge of {duplicate} into {survivor}: refused at {} on {}; \
                 the most protective decision wins",
                refusal.decided_at, refusal.customer_id
            ),
            decided_at: now,
            recorded_at: now,
        });
    }
    carried
}

/// The decision that answers for (purpose, channel): the channel's own, else the one for every
/// channel.
fn reading(in_force: &[Consent], purpose: ConsentPurpose, channel: Channel) -> Option<&Consent> {
    let find = |ch: Channel| {
        in_force
            .iter()
            .find(|c| c.purpose == purpose && c.channel == ch)
    };
    find(channel).or_else(|| find(Channel::Unspecified))
}

fn push_missing<T: PartialEq + Clone>(into: &mut Vec<T>, from: &[T]) {
    for item in from {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiff::civil::{Weekday, date, time};
    use rapport_proto::common::v1::ActorKind;
    use rapport_proto::profiles::v1::{ConsentSource, VulnerabilityDriver};

    use super::*;
    use crate::domain::Actor;
    use crate::domain::preferences::QuietHours;
    use crate::domain::vulnerability::VulnerabilityFactor;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).expect("valid")
    }

    fn prefs(refused: &[Channel], quiet: Vec<QuietHours>, dnc: bool) -> ContactPreferences {
        ContactPreferences {
            preferred_channels: vec![Channel::Sms, Channel::Email],
            quiet_hours: quiet,
            do_not_contact_channels: refused.to_vec(),
            do_not_contact: dnc,
            updated_at: at(10),
        }
    }

    fn evenings() -> QuietHours {
        QuietHours {
            start: time(19, 0, 0, 0),
            end: time(8, 0, 0, 0),
            days: vec![],
        }
    }

    fn weekends() -> QuietHours {
        QuietHours {
            start: time(0, 0, 0, 0),
            end: time(23, 59, 0, 0),
            days: vec![Weekday::Saturday, Weekday::Sunday],
        }
    }

    #[test]
    fn an_sms_opt_out_on_the_duplicate_stays_and_sms_is_no_longer_preferred() {
        let survivor = prefs(&[], vec![], false);
        let duplicate = prefs(&[Channel::Sms], vec![], false);
        let merged = preferences(Some(&survivor), Some(&duplicate), at(99)).unwrap();
        assert_eq!(merged.do_not_contact_channels, vec![Channel::Sms]);
        assert_eq!(merged.preferred_channels, vec![Channel::Email]);
        assert_eq!(merged.updated_at, at(99));
    }

    #[test]
    fn opt_outs_of_both_sides_hold() {
        let survivor = prefs(&[Channel::Phone], vec![], false);
        let duplicate = prefs(&[Channel::Sms, Channel::Phone], vec![], false);
        let merged = preferences(Some(&survivor), Some(&duplicate), at(99)).unwrap();
        assert_eq!(
            merged.do_not_contact_channels,
            vec![Channel::Phone, Channel::Sms]
        );
    }

    #[test]
    fn quiet_hours_are_the_union_without_repeats() {
        let survivor = prefs(&[], vec![evenings()], false);
        let duplicate = prefs(&[], vec![evenings(), weekends()], false);
        let merged = preferences(Some(&survivor), Some(&duplicate), at(99)).unwrap();
        assert_eq!(merged.quiet_hours, vec![evenings(), weekends()]);
    }

    #[test]
    fn do_not_contact_on_either_side_holds() {
        let merged = preferences(
            Some(&prefs(&[], vec![], false)),
            Some(&prefs(&[], vec![], true)),
            at(99),
        )
        .unwrap();
        assert!(merged.do_not_contact);
        let merged = preferences(
            Some(&prefs(&[], vec![], true)),
            Some(&prefs(&[], vec![], false)),
            at(99),
        )
        .unwrap();
        assert!(merged.do_not_contact);
    }

    #[test]
    fn preferences_of_only_one_side_are_kept_whole() {
        let duplicate = prefs(&[Channel::Sms], vec![evenings()], false);
        assert_eq!(
            preferences(None, Some(&duplicate), at(99)),
            Some(duplicate.clone())
        );
        assert_eq!(preferences(None, None, at(99)), None);
    }

    fn record(
        driver: VulnerabilityDriver,
        review: (i16, i8, i8),
        consented: bool,
        second: i64,
    ) -> VulnerabilityRecord {
        VulnerabilityRecord {
            vulnerability: Vulnerability {
                factors: vec![VulnerabilityFactor {
                    driver,
                    detail: String::new(),
                    temporary: false,
                }],
                needs: vec![format!("{driver:?}")],
                notes: format!("{driver:?} noted"),
                review_date: Some(date(review.0, review.1, review.2)),
                customer_consented: consented,
            },
            recorded_by: Actor {
                kind: ActorKind::Agent,
                id: format!("agent-{second}"),
            },
            recorded_at: at(second),
        }
    }

    #[test]
    fn vulnerability_factors_and_needs_of_both_sides_hold_with_the_sooner_review() {
        let survivor = record(VulnerabilityDriver::Health, (2027, 3, 1), true, 100);
        let duplicate = record(VulnerabilityDriver::LifeEvent, (2026, 12, 1), false, 200);
        let merged = vulnerability(Some(&survivor), Some(&duplicate)).unwrap();
        let v = merged.vulnerability;
        assert_eq!(v.factors.len(), 2);
        assert_eq!(v.needs.len(), 2);
        assert_eq!(v.review_date, Some(date(2026, 12, 1)));
        assert!(v.notes.contains("Health") && v.notes.contains("LifeEvent"));
        assert!(!v.customer_consented, "consent only where both gave it");
        assert_eq!(merged.recorded_at, at(200));
    }

    #[test]
    fn a_vulnerability_on_the_duplicate_alone_holds_for_the_survivor() {
        let duplicate = record(VulnerabilityDriver::Resilience, (2026, 12, 1), true, 200);
        assert_eq!(
            vulnerability(None, Some(&duplicate)),
            Some(duplicate.clone())
        );
    }

    fn decision(
        customer: Id,
        purpose: ConsentPurpose,
        channel: Channel,
        status: ConsentStatus,
        second: i64,
    ) -> Consent {
        Consent {
            id: Id::new(),
            customer_id: customer,
            purpose,
            channel,
            status,
            source: ConsentSource::Web,
            source_detail: String::new(),
            decided_at: at(second),
            recorded_at: at(second),
        }
    }

    /// What the survivor's history reads as for (purpose, channel) once merged.
    fn merged_reading(
        s: &[Consent],
        d: &[Consent],
        sid: Id,
        did: Id,
        purpose: ConsentPurpose,
        channel: Channel,
    ) -> Option<ConsentStatus> {
        let carried = carried_refusals(s, d, sid, did, at(1_000));
        let all = in_force(&[s, d, &carried].concat());
        reading(&all, purpose, channel).map(|c| c.status)
    }

    #[test]
    fn an_earlier_withdrawal_on_the_duplicate_outlives_a_later_grant_on_the_survivor() {
        let (a, b) = (Id::new(), Id::new());
        let s = [decision(
            a,
            ConsentPurpose::Marketing,
            Channel::Unspecified,
            ConsentStatus::Granted,
            200,
        )];
        let d = [decision(
            b,
            ConsentPurpose::Marketing,
            Channel::Unspecified,
            ConsentStatus::Withdrawn,
            100,
        )];
        assert_eq!(
            merged_reading(
                &s,
                &d,
                a,
                b,
                ConsentPurpose::Marketing,
                Channel::Unspecified
            ),
            Some(ConsentStatus::Withdrawn)
        );
        let carried = carried_refusals(&s, &d, a, b, at(1_000));
        assert_eq!(carried.len(), 1);
        assert_eq!(carried[0].customer_id, a);
        assert!(carried[0].source_detail.contains("most protective"));
    }

    #[test]
    fn a_withdrawal_for_every_channel_outlives_a_grant_for_one_channel() {
        let (a, b) = (Id::new(), Id::new());
        let s = [decision(
            a,
            ConsentPurpose::Surveys,
            Channel::Unspecified,
            ConsentStatus::Withdrawn,
            100,
        )];
        let d = [decision(
            b,
            ConsentPurpose::Surveys,
            Channel::Sms,
            ConsentStatus::Granted,
            300,
        )];
        assert_eq!(
            merged_reading(&s, &d, a, b, ConsentPurpose::Surveys, Channel::Sms),
            Some(ConsentStatus::Withdrawn)
        );
        assert_eq!(
            merged_reading(&s, &d, a, b, ConsentPurpose::Surveys, Channel::Email),
            Some(ConsentStatus::Withdrawn)
        );
    }

    #[test]
    fn a_later_withdrawal_needs_nothing_carried_and_grants_on_both_sides_stay_granted() {
        let (a, b) = (Id::new(), Id::new());
        let s = [decision(
            a,
            ConsentPurpose::Marketing,
            Channel::Email,
            ConsentStatus::Granted,
            100,
        )];
        let d = [decision(
            b,
            ConsentPurpose::Marketing,
            Channel::Email,
            ConsentStatus::Withdrawn,
            200,
        )];
        assert!(carried_refusals(&s, &d, a, b, at(1_000)).is_empty());
        let d = [decision(
            b,
            ConsentPurpose::Marketing,
            Channel::Email,
            ConsentStatus::Granted,
            50,
        )];
        assert!(carried_refusals(&s, &d, a, b, at(1_000)).is_empty());
        assert_eq!(
            merged_reading(&s, &d, a, b, ConsentPurpose::Marketing, Channel::Email),
            Some(ConsentStatus::Granted)
        );
    }

    #[test]
    fn purposes_do_not_mix() {
        let (a, b) = (Id::new(), Id::new());
        let s = [decision(
            a,
            ConsentPurpose::Surveys,
            Channel::Unspecified,
            ConsentStatus::Granted,
            200,
        )];
        let d = [decision(
            b,
            ConsentPurpose::Marketing,
            Channel::Unspecified,
            ConsentStatus::Withdrawn,
            100,
        )];
        assert!(carried_refusals(&s, &d, a, b, at(1_000)).is_empty());
    }
}
