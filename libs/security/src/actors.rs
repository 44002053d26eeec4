//! Actors come from the token (issue 21): where a request names the person doing something
//! (`AcceptPlanRequest.accepted_by`, `CheckContactRequest.requested_by`,
//! `CloseFollowUpRequest.closed_by`, …), that person must be the caller. [`ACTORS`] lists every
//! such field of the contract beside its RPC (a test checks the list against the contract), and
//! [`check`] decides, from the encoded request and the caller's token:
//!
//! - an actor of kind AGENT, SUPERVISOR or SYSTEM must name the caller's token subject; one that
//!   names someone else is refused with `PERMISSION_DENIED`; SUPERVISOR needs the supervisor
//!   role. An actor left out is not filled in: the contract marks these fields REQUIRED, and the
//!   service refuses the request with `INVALID_ARGUMENT` naming the field, with a token or
//!   without (filling it in only when a token is checked would make the same request mean two
//!   things; seen in the conformance suite);
//! - an actor of kind CUSTOMER or DEBT_ADVISER is not staff: an agent records what the customer
//!   or their adviser did, and the audit entry names the agent;
//! - a staff id (`Interaction.agent_id`) must be the caller when set (empty means self-service);
//! - the `service` role (the suite's own calls, a scheduled job) may act on behalf of a named
//!   actor: the call goes through and the audit entry records both, the service as actor and
//!   `on_behalf_of=<id>` among its targets.

use prost::bytes::Buf;
use prost::encoding::{WireType, decode_key, decode_varint};

use crate::policy::Role;
use crate::token::Caller;

/// Where a request names who acts: field numbers from the request message down to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorField {
    /// A `rapport.common.v1.Actor` message (kind = 1, id = 2).
    Actor {
        name: &'static str,
        path: &'static [u32],
    },
    /// A staff id string; empty means self-service.
    StaffId {
        name: &'static str,
        path: &'static [u32],
    },
}

impl ActorField {
    pub fn name(self) -> &'static str {
        match self {
            Self::Actor { name, .. } | Self::StaffId { name, .. } => name,
        }
    }

    pub fn path(self) -> &'static [u32] {
        match self {
            Self::Actor { path, .. } | Self::StaffId { path, .. } => path,
        }
    }
}

const fn actor(name: &'static str, path: &'static [u32]) -> ActorField {
    ActorField::Actor { name, path }
}

/// Every field of the contract's requests that names who acts, by RPC.
#[rustfmt::skip]
pub const ACTORS: &[(&str, ActorField)] = &[
    // profiles
    ("/rapport.profiles.v1.ProfileService/RecordInteraction", ActorField::StaffId { name: "interaction.agent_id", path: &[1, 7] }),
    ("/rapport.profiles.v1.ProfileService/RecordCommitment", actor("commitment.promised_by", &[1, 4])),
    ("/rapport.profiles.v1.ProfileService/ResolveCommitment", actor("resolved_by", &[4])),
    ("/rapport.profiles.v1.ProfileService/SetVulnerability", actor("recorded_by", &[3])),
    ("/rapport.profiles.v1.ProfileService/ClearVulnerability", actor("cleared_by", &[3])),
    // plans
    ("/rapport.plans.v1.HardshipService/OpenHardshipCase", actor("opened_by", &[5])),
    ("/rapport.plans.v1.HardshipService/SubmitIncomeExpenditure", actor("submitted_by", &[3])),
    ("/rapport.plans.v1.HardshipService/ReferToDebtAdvice", actor("referred_by", &[3])),
    ("/rapport.plans.v1.HardshipService/SetProtection", actor("set_by", &[8])),
    ("/rapport.plans.v1.HardshipService/ClearProtection", actor("cleared_by", &[3])),
    ("/rapport.plans.v1.OutreachService/CheckContact", actor("requested_by", &[8])),
    ("/rapport.plans.v1.OutreachService/RecordContactAttempt", actor("made_by", &[10])),
    ("/rapport.plans.v1.PlanService/AcceptPlan", actor("accepted_by", &[4])),
    ("/rapport.plans.v1.PlanService/CancelPlan", actor("cancelled_by", &[3])),
    ("/rapport.plans.v1.PlanService/RecordPromiseToPay", actor("recorded_by", &[5])),
    // referrals
    ("/rapport.referrals.v1.ReferralService/RequestVouch", actor("requested_by", &[5])),
    ("/rapport.referrals.v1.ReferralService/ResolveFraudFlag", actor("reviewer", &[4])),
    // loyalty
    ("/rapport.loyalty.v1.LoyaltyService/CloseFollowUp", actor("closed_by", &[4])),
    ("/rapport.loyalty.v1.LoyaltyService/RecordRecognition", actor("recognition.given_by", &[1, 6])),
];

/// The actor field of `method`, if its request names one.
pub fn actor_field(method: &str) -> Option<ActorField> {
    ACTORS
        .iter()
        .find(|(listed, _)| *listed == method)
        .map(|(_, field)| *field)
}

/// `rapport.common.v1.ActorKind`.
const KIND_CUSTOMER: u64 = 1;
const KIND_SUPERVISOR: u64 = 3;
const KIND_DEBT_ADVISER: u64 = 4;

/// What to do with a request, as far as its actor goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing named (the service's own checks judge that), or it names the caller, or someone
    /// who is not staff: pass it on as is.
    Pass,
    /// The `service` role acts for this id: pass it on, and audit both.
    OnBehalfOf(String),
    /// `PERMISSION_DENIED` with this message.
    Refuse(String),
}

/// Decides about `message` (the request's encoded protobuf message, without the gRPC frame) of
/// an RPC whose actor is `field`, sent by `caller`.
pub fn check(field: ActorField, message: &[u8], caller: &Caller) -> Verdict {
    let has = |role| caller.roles.contains(&role);
    let service = has(Role::Service);
    let subject = caller.subject.as_str();
    let name = field.name();
    match field {
        ActorField::StaffId { path, .. } => {
            let id = last_string(message, path).unwrap_or_default();
            if id.is_empty() || id == subject {
                Verdict::Pass
            } else if service {
                Verdict::OnBehalfOf(id)
            } else {
                Verdict::Refuse(format!(
                    "{name} names someone other than the caller (the token's subject); only the service role may act on behalf of another"
                ))
            }
        }
        ActorField::Actor { path, .. } => {
            let kind = last_varint(message, path, 1);
            let id = last_string_in(message, path, 2).unwrap_or_default();
            match kind {
                Some(KIND_CUSTOMER | KIND_DEBT_ADVISER) => return Verdict::Pass,
                Some(KIND_SUPERVISOR) if !has(Role::Supervisor) && !service => {
                    return Verdict::Refuse(format!(
                        "{name}.kind SUPERVISOR needs the supervisor role"
                    ));
                }
                _ => {}
            }
            if id.is_empty() || id == subject {
                Verdict::Pass
            } else if service {
                Verdict::OnBehalfOf(id)
            } else {
                Verdict::Refuse(format!(
                    "{name}.id names someone other than the caller (the token's subject); only the service role may act on behalf of another"
                ))
            }
        }
    }
}

/// Calls `visit` with each field of `message` in order: number, wire type and, for
/// length-delimited fields, the bytes; for varints the value. Stops at malformed input.
fn each_field<'a>(mut message: &'a [u8], mut visit: impl FnMut(u32, Field<'a>)) {
    while message.has_remaining() {
        let Ok((number, wire_type)) = decode_key(&mut message) else {
            return;
        };
        match wire_type {
            WireType::Varint => match decode_varint(&mut message) {
                Ok(value) => visit(number, Field::Varint(value)),
                Err(_) => return,
            },
            WireType::LengthDelimited => {
                let Ok(length) = decode_varint(&mut message) else {
                    return;
                };
                let Ok(length) = usize::try_from(length) else {
                    return;
                };
                if length > message.len() {
                    return;
                }
                let (bytes, rest) = message.split_at(length);
                visit(number, Field::Bytes(bytes));
                message = rest;
            }
            WireType::SixtyFourBit if message.len() >= 8 => message.advance(8),
            WireType::ThirtyTwoBit if message.len() >= 4 => message.advance(4),
            _ => return,
        }
    }
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Every occurrence of the message at `path`, in order (a singular message field sent twice is
/// merged by the receiver, so all occurrences count).
fn occurrences<'a>(message: &'a [u8], path: &[u32], found: &mut Vec<&'a [u8]>) {
    let Some((first, rest)) = path.split_first() else {
        found.push(message);
        return;
    };
    each_field(message, |number, field| {
        if number == *first
            && let Field::Bytes(bytes) = field
        {
            occurrences(bytes, rest, found);
        }
    });
}

/// The string at `path` as the receiver will see it: the last occurrence wins.
fn last_string(message: &[u8], path: &[u32]) -> Option<String> {
    let (parent, leaf) = path.split_at(path.len() - 1);
    last_string_in(message, parent, leaf[0])
}

/// The string field `number` of the message(s) at `path`; the last occurrence wins.
fn last_string_in(message: &[u8], path: &[u32], number: u32) -> Option<String> {
    let mut found = Vec::new();
    occurrences(message, path, &mut found);
    let mut last = None;
    for occurrence in found {
        each_field(occurrence, |field_number, field| {
            if field_number == number
                && let Field::Bytes(bytes) = field
            {
                last = Some(String::from_utf8_lossy(bytes).into_owned());
            }
        });
    }
    last
}

/// The varint field `number` of the message(s) at `path`; the last occurrence wins.
fn last_varint(message: &[u8], path: &[u32], number: u32) -> Option<u64> {
    let mut found = Vec::new();
    occurrences(message, path, &mut found);
    let mut last = None;
    for occurrence in found {
        each_field(occurrence, |field_number, field| {
            if field_number == number
                && let Field::Varint(value) = field
            {
                last = Some(value);
            }
        });
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use prost::bytes::BufMut;
    use prost::encoding::{encode_key, encode_varint};
    use rapport_proto::common::v1::{Actor, ActorKind};

    /// One length-delimited field: key, length, bytes.
    fn field_bytes(number: u32, content: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(content.len() + 6);
        encode_key(number, WireType::LengthDelimited, &mut out);
        encode_varint(content.len() as u64, &mut out);
        out.put_slice(content);
        out
    }

    /// `content` as field `path[last]` inside the messages `path[..last]`, from the top.
    fn nested(path: &[u32], content: &[u8]) -> Vec<u8> {
        path.iter().rev().fold(content.to_vec(), |inner, number| {
            field_bytes(*number, &inner)
        })
    }

    fn caller(subject: &str, roles: &[Role]) -> Caller {
        Caller {
            subject: subject.to_owned(),
            roles: roles.to_vec(),
        }
    }

    /// A request naming `actor` at `field`'s place, encoded as a client would.
    fn request_naming(field: ActorField, kind: ActorKind, id: &str) -> Vec<u8> {
        match field {
            ActorField::Actor { path, .. } => {
                let actor = Actor {
                    kind: kind as i32,
                    id: id.to_owned(),
                }
                .encode_to_vec();
                let (parent, leaf) = path.split_at(path.len() - 1);
                nested(parent, &field_bytes(leaf[0], &actor))
            }
            ActorField::StaffId { path, .. } => nested(path, id.as_bytes()),
        }
    }

    /// The role × RPC table of the actor checks: for every listed RPC, an agent naming
    /// another agent is refused, naming itself passes, naming nobody is left to the service's
    /// own checks; the service role may act for another.
    #[test]
    fn every_actor_field_is_the_caller_unless_the_service_acts_for_someone() {
        let agent = caller("agent-7", &[Role::Agent]);
        let service = caller("rapport-loyalty", &[Role::Service]);
        for (method, field) in ACTORS {
            let other = request_naming(*field, ActorKind::Agent, "agent-9");
            assert!(
                matches!(check(*field, &other, &agent), Verdict::Refuse(ref why) if why.contains(field.name())),
                "{method}: an agent may not act as another"
            );
            let own = request_naming(*field, ActorKind::Agent, "agent-7");
            assert_eq!(check(*field, &own, &agent), Verdict::Pass, "{method}");
            assert_eq!(
                check(*field, &other, &service),
                Verdict::OnBehalfOf("agent-9".into()),
                "{method}"
            );
            // Nothing named: left to the service, which refuses a missing REQUIRED actor
            // with INVALID_ARGUMENT, with a token or without.
            assert_eq!(check(*field, &[], &agent), Verdict::Pass, "{method}");
        }
    }

    #[test]
    fn a_second_copy_of_the_actor_cannot_smuggle_another_name() {
        let field = actor_field("/rapport.plans.v1.PlanService/AcceptPlan").expect("listed");
        let mut message = request_naming(field, ActorKind::Agent, "agent-7");
        message.extend(request_naming(field, ActorKind::Agent, "agent-9"));
        assert!(matches!(
            check(field, &message, &caller("agent-7", &[Role::Agent])),
            Verdict::Refuse(_)
        ));
    }

    #[test]
    fn customers_and_advisers_are_not_staff_and_supervisors_need_the_role() {
        let field = actor_field("/rapport.plans.v1.PlanService/AcceptPlan").expect("listed");
        let agent = caller("agent-7", &[Role::Agent]);
        let customer = request_naming(field, ActorKind::Customer, "cust-1");
        assert_eq!(check(field, &customer, &agent), Verdict::Pass);
        let adviser = request_naming(field, ActorKind::DebtAdviser, "stepchange");
        assert_eq!(check(field, &adviser, &agent), Verdict::Pass);
        let posing = request_naming(field, ActorKind::Supervisor, "agent-7");
        assert!(
            matches!(check(field, &posing, &agent), Verdict::Refuse(ref why) if why.contains("supervisor role"))
        );
    }

    #[test]
    fn an_empty_staff_id_is_self_service() {
        let field =
            actor_field("/rapport.profiles.v1.ProfileService/RecordInteraction").expect("listed");
        for caller in [
            caller("billing-core", &[Role::BillingSystem]),
            caller("agent-7", &[Role::Agent]),
        ] {
            assert_eq!(check(field, &[], &caller), Verdict::Pass);
        }
    }

    /// Every request field of type `rapport.common.v1.Actor` (at the top of a request or one
    /// message deep) is listed at its path, except the output-only ones named here.
    #[test]
    fn the_list_covers_every_actor_of_the_contract() {
        use prost_types::field_descriptor_proto::Type;
        let set = prost_types::FileDescriptorSet::decode(rapport_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let messages: std::collections::HashMap<String, &prost_types::DescriptorProto> = set
            .file
            .iter()
            .flat_map(|file| {
                file.message_type.iter().map(move |message| {
                    (format!(".{}.{}", file.package(), message.name()), message)
                })
            })
            .collect();
        let mut found = Vec::new();
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    let name = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                    let input = messages[method.input_type()];
                    for field in &input.field {
                        if field.type_name() == ".rapport.common.v1.Actor" {
                            found.push((name.clone(), vec![field.number() as u32]));
                        }
                        if field.r#type() == Type::Message
                            && let Some(inner) = messages.get(field.type_name())
                        {
                            for deep in &inner.field {
                                if deep.type_name() == ".rapport.common.v1.Actor" {
                                    found.push((
                                        name.clone(),
                                        vec![field.number() as u32, deep.number() as u32],
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
        // Output-only actors inside request messages: the server ignores what a client sends
        // there and sets them itself.
        const OUTPUT_ONLY: &[(&str, &[u32])] = &[
            (
                "/rapport.plans.v1.HardshipService/SubmitIncomeExpenditure",
                &[2, 6],
            ),
            (
                "/rapport.profiles.v1.ProfileService/RecordCommitment",
                &[1, 10],
            ),
            (
                "/rapport.profiles.v1.ProfileService/SetVulnerability",
                &[2, 6],
            ),
        ];
        found.retain(|(method, path)| {
            !OUTPUT_ONLY
                .iter()
                .any(|(ignored, at)| ignored == method && *at == path.as_slice())
        });
        found.sort();
        let mut listed: Vec<(String, Vec<u32>)> = ACTORS
            .iter()
            .filter(|(_, field)| matches!(field, ActorField::Actor { .. }))
            .map(|(method, field)| ((*method).to_owned(), field.path().to_vec()))
            .collect();
        listed.sort();
        assert_eq!(listed, found);
    }
}
