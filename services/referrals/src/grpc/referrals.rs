//! Codes, referrals and sign-up attribution, with the fraud checks each step runs.

use jiff::SignedDuration;
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::referrals::v1 as pb;
use rapport_wire as wire;

use super::convert::{
    code_to_pb, flag_to_pb, reason, referral_to_pb, severity_to_pb, signal_to_pb,
};
use super::{ReferralApi, commit, not_found};
use crate::domain::events::ReferralEvent;
use crate::domain::fraud::{self, Finding, Identity, Severity, Signal};
use crate::domain::member::Member;
use crate::error::ReferralsError;
use crate::rules;
use crate::store::flags::Flag;
use crate::store::referrals::{Code, Prospect, Referral};
use crate::store::{self, Conn};

/// Unambiguous characters for codes read aloud or typed (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LEN: usize = 8;

/// A referral code as a span field, kept only when it has a code's shape (what a caller typed
/// into `code` is otherwise left off the span).
fn traced_code(text: &str) -> Option<&str> {
    let shaped = text.len() == CODE_LEN && text.bytes().all(|b| CODE_ALPHABET.contains(&b));
    shaped.then_some(text)
}

fn new_code() -> String {
    // UUIDv7's random tail gives enough entropy for an 8-character code.
    let bytes = Id::new().as_uuid().into_bytes();
    bytes[16 - CODE_LEN..16]
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()]))
        .collect()
}

impl ReferralApi {
    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&r.customer_id)))]
    pub(super) async fn issue_code(
        &self,
        r: pb::IssueReferralCodeRequest,
    ) -> Result<pb::IssueReferralCodeResponse, ReferralsError> {
        let now = self.now();
        let mut v = Validation::new();
        let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
        v.clone().finish()?;
        let customer_id = customer_id.ok_or(ReferralsError::Invalid(v))?;
        let member = self.member(customer_id).await?;
        if !member.good_standing() {
            return Err(ReferralsError::FailedPrecondition(format!(
                "only customers in good standing receive a referral code: {}",
                member.standing.why_not()
            )));
        }
        let mut tx = self.write().await?;
        if let Some(existing) = store::referrals::active_code(&mut tx, customer_id, now).await? {
            return Ok(pb::IssueReferralCodeResponse {
                referral_code: Some(code_to_pb(&existing)),
                created: false,
            });
        }
        let code = Code {
            code: new_code(),
            customer_id,
            issued_at: now,
            expires_at: now
                + SignedDuration::from_hours(24 * i64::from(self.rules.code_valid_days)),
            active: true,
        };
        store::referrals::insert_code(&mut tx, &code).await?;
        commit(tx).await?;
        Ok(pb::IssueReferralCodeResponse {
            referral_code: Some(code_to_pb(&code)),
            created: true,
        })
    }

    #[tracing::instrument(
        skip_all,
        fields(
            referrer_customer_id = super::traced_id(&r.referrer_customer_id),
            code = traced_code(&r.code)
        )
    )]
    pub(super) async fn create(
        &self,
        r: pb::CreateReferralRequest,
    ) -> Result<pb::CreateReferralResponse, ReferralsError> {
        let now = self.now();
        let mut v = Validation::new();
        let referrer = wire::id("referrer_customer_id", &r.referrer_customer_id, &mut v);
        let request_id = wire::request_id("request_id", &r.request_id, &mut v);
        let prospect = prospect_from(r.prospect.as_ref(), "prospect", &mut v);
        v.clone().finish()?;
        let invalid = || ReferralsError::Invalid(v.clone());
        let (referrer, prospect) = (referrer.ok_or_else(invalid)?, prospect.ok_or_else(invalid)?);
        let member = self.member(referrer).await?;

        let mut tx = self.write().await?;
        if let Some(request_id) = &request_id
            && let Some(earlier) = store::referrals::by_request(&mut tx, request_id).await?
        {
            // A replay answers as the first call did: the referral with its flags.
            let flags = store::flags::for_referral(&mut tx, earlier.id).await?;
            let open: Vec<&Flag> = flags.iter().filter(|f| f.holds()).collect();
            return Ok(pb::CreateReferralResponse {
                referral: Some(referral_to_pb(&earlier, &open)),
                fraud_flags: flags.iter().map(flag_to_pb).collect(),
            });
        }
        let code = match r.code.as_str() {
            "" => match store::referrals::active_code(&mut tx, referrer, now).await? {
                Some(code) => code.code,
                None => String::new(),
            },
            given => {
                let code = store::referrals::code(&mut tx, given)
                    .await?
                    .ok_or_else(|| Validation::single("code", "is not a referral code"))?;
                if code.customer_id != referrer {
                    return Err(Validation::single("code", "belongs to another customer").into());
                }
                code.code
            }
        };
        let device = r.device.clone().unwrap_or_default();
        let referral = Referral {
            id: Id::new(),
            referrer_id: referrer,
            code,
            prospect_id: prospect.id,
            referee_id: None,
            status: pb::ReferralStatus::Pending,
            created_at: now,
            signed_up_at: None,
            qualified_at: None,
            device_hash: device.device_hash.clone(),
            ip_address: device.ip_address.clone(),
        };
        let mut findings = fraud::self_referral(
            &identity(&member, &[], &[]),
            &prospect_identity(&prospect, &device),
        );
        let recent =
            store::referrals::made_since(&mut tx, referrer, now - SignedDuration::from_hours(24))
                .await?;
        let times: Vec<i64> = recent
            .iter()
            .chain(std::iter::once(&now))
            .map(|t| t.as_second())
            .collect();
        findings.extend(fraud::velocity(
            &times,
            now.as_second(),
            self.rules.velocity_max_per_day,
        ));
        store::referrals::insert_prospect(&mut tx, &prospect, now).await?;
        store::referrals::insert(&mut tx, &referral, request_id.as_deref()).await?;
        let flags = raise(&mut tx, &findings, &referral, &[referrer], now).await?;
        rapport_outbox::append(
            &mut tx,
            &ReferralEvent::ReferralCreated {
                referrer_id: referrer,
                referral_id: referral.id,
            },
            now,
        )
        .await?;
        commit(tx).await?;
        let open: Vec<&Flag> = flags.iter().filter(|f| f.holds()).collect();
        Ok(pb::CreateReferralResponse {
            referral: Some(referral_to_pb(&referral, &open)),
            fraud_flags: flags.iter().map(flag_to_pb).collect(),
        })
    }

    #[tracing::instrument(
        skip_all,
        fields(
            referee_customer_id = super::traced_id(&r.referee_customer_id),
            referral_id = super::traced_id(&r.referral_id),
            code = traced_code(&r.code)
        )
    )]
    pub(super) async fn attribute(
        &self,
        r: pb::AttributeSignupRequest,
    ) -> Result<pb::AttributeSignupResponse, ReferralsError> {
        let now = self.now();
        let mut v = Validation::new();
        let referee = wire::id("referee_customer_id", &r.referee_customer_id, &mut v);
        let referral_id = if r.referral_id.is_empty() {
            None
        } else {
            wire::id("referral_id", &r.referral_id, &mut v)
        };
        if r.code.is_empty() && r.referral_id.is_empty() {
            v.add(
                "code",
                "give the referral code the new customer used (or the referral_id)",
            );
        }
        let signed_up_at = wire::past_instant("signed_up_at", r.signed_up_at.as_ref(), now, &mut v);
        v.clone().finish()?;
        let invalid = || ReferralsError::Invalid(v.clone());
        let (referee, signed_up_at) = (
            referee.ok_or_else(invalid)?,
            signed_up_at.ok_or_else(invalid)?,
        );
        let referee_member = self.member(referee).await?;
        let joined = referee_member
            .customer_since
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|e| ReferralsError::Dependency(format!("profiles' tenure start: {e}")))?
            .timestamp();
        if signed_up_at < joined - rules::SIGNUP_BEFORE_CUSTOMER_SINCE_TOLERANCE {
            return Err(Validation::single(
                "signed_up_at",
                format!(
                    "must not be before the new customer joined (customer_since {}, less {} hours)",
                    referee_member.customer_since,
                    rules::SIGNUP_BEFORE_CUSTOMER_SINCE_TOLERANCE.as_hours()
                ),
            )
            .into());
        }

        let mut tx = self.write().await?;
        if let Some(existing) = store::referrals::by_referee(&mut tx, referee).await? {
            if referral_id == Some(existing.id) || (!r.code.is_empty() && existing.code == r.code) {
                let flags = store::flags::for_referral(&mut tx, existing.id).await?;
                let open: Vec<&Flag> = flags.iter().filter(|f| f.holds()).collect();
                return Ok(pb::AttributeSignupResponse {
                    referral: Some(referral_to_pb(&existing, &open)),
                    fraud_flags: flags.iter().map(flag_to_pb).collect(),
                });
            }
            return Err(ReferralsError::AlreadyExists(format!(
                "customer {referee} was already referred by {} (one referrer per referee)",
                existing.referrer_id
            )));
        }
        // When the referral began: the referral's creation, or the issue of the code used.
        let (mut referral, began) = match referral_id {
            Some(id) => {
                let referral = store::referrals::get(&mut tx, id)
                    .await?
                    .ok_or_else(|| not_found("referral", id))?;
                let began = referral.created_at;
                (referral, began)
            }
            None => {
                let code = store::referrals::code(&mut tx, &r.code)
                    .await?
                    .ok_or_else(|| Validation::single("code", "is not a referral code"))?;
                if !code.active || code.expires_at < signed_up_at {
                    return Err(ReferralsError::FailedPrecondition(format!(
                        "code {} is no longer valid",
                        code.code
                    )));
                }
                let prospect = prospect_from(
                    r.referee_contact.as_ref(),
                    "referee_contact",
                    &mut Validation::new(),
                )
                .unwrap_or(Prospect {
                    id: Id::new(),
                    name: String::new(),
                    email: String::new(),
                    phone: String::new(),
                    address: String::new(),
                    customer_id: None,
                });
                store::referrals::insert_prospect(&mut tx, &prospect, now).await?;
                let device = r.device.clone().unwrap_or_default();
                let referral = Referral {
                    id: Id::new(),
                    referrer_id: code.customer_id,
                    code: code.code.clone(),
                    prospect_id: prospect.id,
                    referee_id: None,
                    status: pb::ReferralStatus::Pending,
                    created_at: now,
                    signed_up_at: None,
                    qualified_at: None,
                    device_hash: device.device_hash,
                    ip_address: device.ip_address,
                };
                store::referrals::insert(&mut tx, &referral, None).await?;
                (referral, code.issued_at)
            }
        };
        if signed_up_at < began - rules::SIGNUP_BEFORE_REFERRAL_TOLERANCE {
            return Err(Validation::single(
                "signed_up_at",
                format!(
                    "must not be before the referral began ({began}, less {} minutes)",
                    rules::SIGNUP_BEFORE_REFERRAL_TOLERANCE.as_mins()
                ),
            )
            .into());
        }
        if referral.referrer_id == referee {
            return Err(Validation::single(
                "referee_customer_id",
                "is the referrer: nobody can refer themselves",
            )
            .into());
        }
        if referral.status != pb::ReferralStatus::Pending {
            return Err(ReferralsError::FailedPrecondition(format!(
                "referral {} is {}",
                referral.id,
                referral.status.as_str_name()
            )));
        }
        let window = SignedDuration::from_hours(24 * i64::from(self.rules.attribution_window_days));
        if signed_up_at.duration_since(referral.created_at) > window {
            return Err(ReferralsError::FailedPrecondition(format!(
                "the sign-up came more than {} days after the referral (attribution window)",
                self.rules.attribution_window_days
            )));
        }
        referral.referee_id = Some(referee);
        referral.status = pb::ReferralStatus::SignedUp;
        referral.signed_up_at = Some(signed_up_at);
        store::referrals::link_prospect(&mut tx, referral.prospect_id, referee).await?;
        store::referrals::save(&mut tx, &referral).await?;
        // A new edge, referrer → referee: stored trust is stale from this commit.
        store::trust::graph_changed(&mut tx, now).await?;

        // Fraud: the new customer against the referrer, and the referral graph around them.
        let referrer_member = self.read_member(referral.referrer_id).await?;
        let device = r.device.clone().unwrap_or_default();
        let mut findings = fraud::self_referral(
            &identity(
                &referrer_member,
                &[referral.device_hash.clone()],
                &[referral.ip_address.clone()],
            ),
            &identity(&referee_member, &[device.device_hash], &[device.ip_address]),
        );
        findings.extend(self.graph_findings(&mut tx, referee).await?);
        let flags = raise(
            &mut tx,
            &findings,
            &referral,
            &[referral.referrer_id, referee],
            now,
        )
        .await?;
        commit(tx).await?;
        let open: Vec<&Flag> = flags.iter().filter(|f| f.holds()).collect();
        Ok(pb::AttributeSignupResponse {
            referral: Some(referral_to_pb(&referral, &open)),
            fraud_flags: flags.iter().map(flag_to_pb).collect(),
        })
    }

    /// Cycles in the referral graph and dense rings in the trust graph (referrals and vouches)
    /// around `node`. Cycles come from referrals alone: friends vouching for each other are not
    /// a cycle; rings need the vouch edges, since each referee has only one referrer.
    async fn graph_findings(
        &self,
        conn: &mut Conn,
        node: Id,
    ) -> Result<Vec<Finding>, ReferralsError> {
        let referrals = store::referrals::all(conn).await?;
        let vouches = store::vouches::vouched(conn).await?;
        let mut ids: std::collections::BTreeMap<Id, u32> = std::collections::BTreeMap::new();
        let mut index = |id: Id| -> u32 {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            *ids.entry(id).or_insert(next)
        };
        let referral_edges: Vec<(u32, u32)> = referrals
            .iter()
            // A referral to oneself exists only after a merge, flagged then (MERGED_SELF_REFERRAL).
            .filter(|r| r.referee_id != Some(r.referrer_id))
            .filter_map(|r| {
                r.referee_id
                    .map(|referee| (index(r.referrer_id), index(referee)))
            })
            .collect();
        let mut trust_edges = referral_edges.clone();
        trust_edges.extend(vouches.iter().filter_map(|v| {
            v.prospect_customer_id
                .filter(|p| *p != v.voucher_id)
                .map(|p| (index(v.voucher_id), index(p)))
        }));
        let trusted: Vec<u32> = super::seeds::Standings::read(conn, self.now())
            .await?
            .seeds(self.seed_joined_by())
            .into_iter()
            .filter_map(|id| ids.get(&id).copied())
            .collect();
        let Some(&target) = ids.get(&node) else {
            return Ok(Vec::new());
        };
        let mut findings: Vec<Finding> = fraud::graph_findings(&referral_edges, &trusted, target)
            .into_iter()
            .filter(|f| f.signal == Signal::Cycle)
            .collect();
        findings.extend(
            fraud::graph_findings(&trust_edges, &trusted, target)
                .into_iter()
                .filter(|f| f.signal == Signal::DenseRing),
        );
        Ok(findings)
    }

    #[tracing::instrument(skip_all, fields(referral_id = super::traced_id(&r.referral_id)))]
    pub(super) async fn get(
        &self,
        r: pb::GetReferralRequest,
    ) -> Result<pb::GetReferralResponse, ReferralsError> {
        let mut v = Validation::new();
        let referral_id = wire::id("referral_id", &r.referral_id, &mut v);
        v.clone().finish()?;
        let referral_id = referral_id.ok_or(ReferralsError::Invalid(v))?;
        let mut conn = self.storage.reader().acquire().await?;
        let referral = store::referrals::get(&mut conn, referral_id)
            .await?
            .ok_or_else(|| not_found("referral", referral_id))?;
        let flags = store::flags::for_referral(&mut conn, referral_id).await?;
        let open: Vec<&Flag> = flags.iter().filter(|f| f.holds()).collect();
        Ok(pb::GetReferralResponse {
            referral: Some(referral_to_pb(&referral, &open)),
        })
    }

    #[tracing::instrument(
        skip_all,
        fields(
            referrer_customer_id = super::traced_id(&r.referrer_customer_id),
            referee_customer_id = super::traced_id(&r.referee_customer_id)
        )
    )]
    pub(super) async fn list(
        &self,
        r: pb::ListReferralsRequest,
    ) -> Result<pb::ListReferralsResponse, ReferralsError> {
        let mut v = Validation::new();
        let page = rapport_paging::Page::parse(r.page.as_ref(), &mut v);
        let referrer = if r.referrer_customer_id.is_empty() {
            None
        } else {
            wire::id("referrer_customer_id", &r.referrer_customer_id, &mut v)
        };
        let referee = if r.referee_customer_id.is_empty() {
            None
        } else {
            wire::id("referee_customer_id", &r.referee_customer_id, &mut v)
        };
        if referrer.is_none() && referee.is_none() && v.is_empty() {
            v.add(
                "referrer_customer_id",
                "give referrer_customer_id or referee_customer_id",
            );
        }
        let after: Option<Id> = page.after_one(&mut v);
        let statuses: Vec<pb::ReferralStatus> = r
            .statuses
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match pb::ReferralStatus::try_from(*s) {
                Ok(status) if status != pb::ReferralStatus::Unspecified => Some(status),
                _ => {
                    v.add(
                        format!("statuses[{i}]"),
                        format!("has no referral status {s}"),
                    );
                    None
                }
            })
            .collect();
        v.finish()?;
        let mut conn = self.storage.reader().acquire().await?;
        // A merged-away id is answered for its survivor.
        let referrer = match referrer {
            Some(c) => Some(store::merges::resolve(&mut conn, c).await?),
            None => None,
        };
        let referee = match referee {
            Some(c) => Some(store::merges::resolve(&mut conn, c).await?),
            None => None,
        };
        let items = store::referrals::list(
            &mut conn,
            referrer,
            referee,
            &statuses,
            after,
            page.fetch_limit(),
        )
        .await?;
        drop(conn);
        if items.is_empty() && after.is_none() {
            // Nobody's referrals are not an empty list: an unknown customer is NOT_FOUND.
            for customer in [referrer, referee].into_iter().flatten() {
                self.read_member(customer).await?;
            }
        }
        let (items, page) = page.finish(items, |r| vec![r.id.to_string()]);
        Ok(pb::ListReferralsResponse {
            referrals: items.iter().map(|r| referral_to_pb(r, &[])).collect(),
            page,
        })
    }
}

fn prospect_from(
    contact: Option<&pb::ProspectContact>,
    field: &str,
    v: &mut Validation,
) -> Option<Prospect> {
    let Some(contact) = contact else {
        v.add(field, "is required");
        return None;
    };
    let email = if contact.email.is_empty() {
        String::new()
    } else {
        fraud::normalise_email(&contact.email).unwrap_or_else(|| {
            v.add(format!("{field}.email"), "is not an email address");
            String::new()
        })
    };
    let phone = if contact.phone.is_empty() {
        String::new()
    } else {
        fraud::normalise_phone(&contact.phone).unwrap_or_else(|| {
            v.add(format!("{field}.phone"), "is not an E.164 phone number");
            String::new()
        })
    };
    if contact.name.trim().is_empty() && email.is_empty() && phone.is_empty() {
        v.add(field, "give at least a name, an email or a phone");
    }
    let address = contact
        .address
        .as_ref()
        .and_then(|a| fraud::normalise_address(&a.lines, &a.postal_code, &a.country_code))
        .unwrap_or_default();
    Some(Prospect {
        id: Id::new(),
        name: contact.name.clone(),
        email,
        phone,
        address,
        customer_id: None,
    })
}

fn identity(member: &Member, devices: &[String], ips: &[String]) -> Identity {
    Identity {
        emails: member.emails.clone(),
        phones: member.phones.clone(),
        addresses: member.addresses.clone(),
        device_hashes: devices.iter().filter(|d| !d.is_empty()).cloned().collect(),
        ip_addresses: ips.iter().filter(|i| !i.is_empty()).cloned().collect(),
    }
}

fn prospect_identity(p: &Prospect, device: &pb::DeviceSignals) -> Identity {
    let some = |s: &str| {
        if s.is_empty() {
            vec![]
        } else {
            vec![s.to_owned()]
        }
    };
    Identity {
        emails: some(&p.email),
        phones: some(&p.phone),
        addresses: some(&p.address),
        device_hashes: some(&device.device_hash),
        ip_addresses: some(&device.ip_address),
    }
}

/// Stores one flag per finding.
async fn raise(
    conn: &mut Conn,
    findings: &[Finding],
    referral: &Referral,
    customers: &[Id],
    now: jiff::Timestamp,
) -> Result<Vec<Flag>, ReferralsError> {
    let mut flags = Vec::new();
    for finding in findings {
        let flag = Flag {
            id: Id::new(),
            signal: signal_to_pb(finding.signal),
            severity: severity_to_pb(finding.severity),
            status: pb::FraudFlagStatus::Open,
            referral_ids: vec![referral.id],
            customer_ids: customers.to_vec(),
            reasons: vec![reason(
                signal_to_pb(finding.signal)
                    .as_str_name()
                    .trim_start_matches("FRAUD_SIGNAL_"),
                finding.message.clone(),
                "DESIGN.md: fraud flags for self-referral, cycles and dense rings, velocity; a shared IP is a weak signal only",
                if finding.severity == Severity::Weak {
                    common::ReasonEffect::Neutral
                } else {
                    common::ReasonEffect::Opposes
                },
            )],
            raised_at: now,
            resolved: None,
        };
        store::flags::insert(conn, &flag).await?;
        flags.push(flag);
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reaches_a_span_only_in_the_shape_codes_are_issued_in() {
        let code = new_code();
        assert_eq!(traced_code(&code), Some(code.as_str()));
        for typed in [
            "",
            "ada@example.com",
            "ADA LOVELACE",
            "7HX4KQ2",
            "7hx4kq2m",
            "7HX4KQ2MP",
        ] {
            assert!(traced_code(typed).is_none(), "{typed:?} reached a span");
        }
    }
}
