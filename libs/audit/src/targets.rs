//! The record ids a call names: string fields called `id` or ending in `_id` (except
//! `request_id`, an idempotency key), at the top of the request or response message and one
//! message deep (`customer.id`), read from the encoded bytes with the contract's descriptors. Ids
//! are opaque keys, never personal data, so they may be kept in the trail.

use std::collections::HashMap;

use prost::Message;
use prost::bytes::Buf;
use prost::encoding::{WireType, decode_key, decode_varint};
use prost_types::field_descriptor_proto::Type;
use prost_types::{DescriptorProto, FileDescriptorSet};

/// At most this many targets are kept per call; more are counted in one last target.
pub const MAX_TARGETS: usize = 20;

#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Id,
    Message(String),
    Other,
}

/// The messages of the contract, by full name, and each method's input and output.
#[derive(Debug, Clone, Default)]
pub struct Descriptors {
    messages: HashMap<String, HashMap<u32, Field>>,
    methods: HashMap<String, (String, String)>,
}

impl Descriptors {
    /// From encoded `FileDescriptorSet`s (a set that does not decode is skipped).
    pub fn new(sets: &[&[u8]]) -> Self {
        let mut index = Self::default();
        for bytes in sets {
            let Ok(set) = FileDescriptorSet::decode(*bytes) else {
                continue;
            };
            for file in &set.file {
                let package = file.package();
                for message in &file.message_type {
                    index.add_message(package, message);
                }
                for service in &file.service {
                    for method in &service.method {
                        index.methods.insert(
                            format!("/{package}.{}/{}", service.name(), method.name()),
                            (
                                method.input_type().trim_start_matches('.').to_owned(),
                                method.output_type().trim_start_matches('.').to_owned(),
                            ),
                        );
                    }
                }
            }
        }
        index
    }

    fn add_message(&mut self, scope: &str, message: &DescriptorProto) {
        let name = format!("{scope}.{}", message.name());
        let fields = message
            .field
            .iter()
            .map(|field| {
                let kind = match field.r#type() {
                    Type::String if is_id(field.name()) => Kind::Id,
                    Type::Message => {
                        Kind::Message(field.type_name().trim_start_matches('.').to_owned())
                    }
                    _ => Kind::Other,
                };
                (
                    u32::try_from(field.number()).unwrap_or(0),
                    Field {
                        name: field.name().to_owned(),
                        kind,
                    },
                )
            })
            .collect();
        for nested in &message.nested_type {
            self.add_message(&name, nested);
        }
        self.messages.insert(name, fields);
    }

    /// The ids named by the first message of a gRPC request body for `method`.
    pub fn request_targets(&self, method: &str, body: &[u8]) -> Vec<String> {
        self.targets(method, body, |(input, _)| input)
    }

    /// The ids named by the first message of a gRPC response body for `method`.
    pub fn response_targets(&self, method: &str, body: &[u8]) -> Vec<String> {
        self.targets(method, body, |(_, output)| output)
    }

    fn targets(
        &self,
        method: &str,
        body: &[u8],
        pick: impl Fn(&(String, String)) -> &String,
    ) -> Vec<String> {
        let Some(types) = self.methods.get(method) else {
            return Vec::new();
        };
        let Some(message) = first_message(body) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        self.collect(pick(types), message, "", 0, &mut found);
        found
    }

    fn collect(
        &self,
        type_name: &str,
        mut bytes: &[u8],
        prefix: &str,
        depth: u8,
        found: &mut Vec<String>,
    ) {
        let Some(fields) = self.messages.get(type_name) else {
            return;
        };
        while bytes.has_remaining() {
            let Ok((number, wire_type)) = decode_key(&mut bytes) else {
                return;
            };
            let Some(value) = next_value(wire_type, &mut bytes) else {
                return;
            };
            let (Some(field), Value::Bytes(value)) = (fields.get(&number), value) else {
                continue;
            };
            match &field.kind {
                Kind::Id => {
                    if let Ok(id) = std::str::from_utf8(value)
                        && !id.is_empty()
                    {
                        let target = format!("{prefix}{}={id}", field.name);
                        if !found.contains(&target) {
                            found.push(target);
                        }
                    }
                }
                Kind::Message(nested) if depth == 0 => {
                    let prefix = format!("{}.", field.name);
                    self.collect(nested, value, &prefix, 1, found);
                }
                _ => {}
            }
        }
    }
}

/// Limits `targets` to [`MAX_TARGETS`], saying how many were left out.
pub fn capped(mut targets: Vec<String>) -> Vec<String> {
    if targets.len() > MAX_TARGETS {
        let more = targets.len() - (MAX_TARGETS - 1);
        targets.truncate(MAX_TARGETS - 1);
        targets.push(format!("(and {more} more)"));
    }
    targets
}

/// The value of the top-level varint field `number` in the first message of a gRPC body (an
/// enum such as `GetCustomerRequest.view`), if present.
pub fn varint_field(body: &[u8], number: u32) -> Option<u64> {
    match last_field(body, number)? {
        Value::Varint(value) => Some(value),
        _ => None,
    }
}

/// The value of the top-level string field `number` in the first message of a gRPC body (such
/// as `ListAuditEntriesRequest.service`), if present.
pub fn string_field(body: &[u8], number: u32) -> Option<String> {
    match last_field(body, number)? {
        Value::Bytes(value) => String::from_utf8(value.to_vec()).ok(),
        _ => None,
    }
}

/// The last occurrence of top-level field `number` (the one that wins, as in protobuf); `None`
/// when it is absent or the message is malformed.
fn last_field(body: &[u8], number: u32) -> Option<Value<'_>> {
    let mut bytes = first_message(body)?;
    let mut last = None;
    while bytes.has_remaining() {
        let (field, wire_type) = decode_key(&mut bytes).ok()?;
        let value = next_value(wire_type, &mut bytes)?;
        if field == number {
            last = Some(value);
        }
    }
    last
}

fn is_id(name: &str) -> bool {
    (name == "id" || name.ends_with("_id")) && name != "request_id"
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

fn next_value<'a>(wire_type: WireType, bytes: &mut &'a [u8]) -> Option<Value<'a>> {
    match wire_type {
        WireType::Varint => decode_varint(bytes).ok().map(Value::Varint),
        WireType::LengthDelimited => {
            let length = usize::try_from(decode_varint(bytes).ok()?).ok()?;
            if bytes.len() < length {
                return None;
            }
            let (value, rest) = bytes.split_at(length);
            *bytes = rest;
            Some(Value::Bytes(value))
        }
        WireType::SixtyFourBit => skip(bytes, 8),
        WireType::ThirtyTwoBit => skip(bytes, 4),
        // Groups are not used by proto3.
        WireType::StartGroup | WireType::EndGroup => None,
    }
}

fn skip<'a>(bytes: &mut &'a [u8], length: usize) -> Option<Value<'a>> {
    if bytes.len() < length {
        return None;
    }
    *bytes = &bytes[length..];
    Some(Value::Fixed)
}

/// The first length-prefixed message of a gRPC body (flag byte, 4-byte big-endian length); a
/// compressed message is not read.
fn first_message(body: &[u8]) -> Option<&[u8]> {
    let (&compressed, rest) = body.split_first()?;
    if compressed != 0 || rest.len() < 4 {
        return None;
    }
    let length = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    rest.get(4..4 + length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_proto::profiles::v1 as profiles;

    fn framed(message: &impl Message) -> Vec<u8> {
        let encoded = message.encode_to_vec();
        let mut body = vec![0];
        body.extend_from_slice(&u32::try_from(encoded.len()).expect("small").to_be_bytes());
        body.extend_from_slice(&encoded);
        body
    }

    #[test]
    fn ids_are_read_from_requests_and_responses_but_names_are_not() {
        let index = Descriptors::new(&[rapport_proto::FILE_DESCRIPTOR_SET]);
        let request = profiles::MergeCustomersRequest {
            survivor_customer_id: "c-1".to_owned(),
            duplicate_customer_id: "c-2".to_owned(),
            request_id: "r-1".to_owned(),
            ..Default::default()
        };
        let method = "/rapport.profiles.v1.ProfileService/MergeCustomers";
        assert_eq!(
            index.request_targets(method, &framed(&request)),
            ["survivor_customer_id=c-1", "duplicate_customer_id=c-2"]
        );
        let response = profiles::GetCustomerResponse {
            customer: Some(profiles::Customer {
                customer_id: "c-9".to_owned(),
                legal_name: "Zénobie".to_owned(),
                ..Default::default()
            }),
        };
        let targets = index.response_targets(
            "/rapport.profiles.v1.ProfileService/GetCustomer",
            &framed(&response),
        );
        assert_eq!(targets, ["customer.customer_id=c-9"]);
    }

    #[test]
    fn the_view_is_read_from_the_request() {
        let request = profiles::GetCustomerRequest {
            customer_id: "c-1".to_owned(),
            view: profiles::CustomerView::WithVulnerability as i32,
        };
        assert_eq!(varint_field(&framed(&request), 2), Some(3));
        let basic = profiles::GetCustomerRequest {
            customer_id: "c-1".to_owned(),
            view: 0,
        };
        assert_eq!(varint_field(&framed(&basic), 2), None);
        assert_eq!(varint_field(&[0, 0, 0, 0, 9, 1], 2), None, "truncated body");
        assert_eq!(string_field(&framed(&request), 1).as_deref(), Some("c-1"));
        assert_eq!(string_field(&framed(&request), 3), None);
    }

    #[test]
    fn many_targets_are_capped() {
        let targets = capped((0..30).map(|i| format!("customer_id={i}")).collect());
        assert_eq!(targets.len(), MAX_TARGETS);
        assert_eq!(targets.last().map(String::as_str), Some("(and 11 more)"));
    }
}
