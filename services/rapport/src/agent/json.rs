//! `--output json`: a response as proto3 JSON (field names as in the .proto, 64-bit integers as
//! strings, enums by name, defaults left out), read through the descriptor set rapport-proto
//! embeds, so the JSON is the schema's and not a copy of it kept by hand.

use std::sync::OnceLock;

use anyhow::Context;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};

fn pool() -> anyhow::Result<&'static DescriptorPool> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(rapport_proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| anyhow::anyhow!("the embedded descriptor set does not decode: {e}"))
}

/// `message` (whose full protobuf name is `full_name`, e.g. "rapport.desk.v1.
/// GetCustomerOverviewResponse") as pretty-printed proto3 JSON, ending with a newline.
pub fn to_json<M: prost::Message>(message: &M, full_name: &str) -> anyhow::Result<String> {
    let descriptor = pool()?
        .get_message_by_name(full_name)
        .with_context(|| format!("{full_name} is not in the schema"))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .with_context(|| format!("re-reading a {full_name}"))?;
    let mut serializer = serde_json::Serializer::pretty(Vec::new());
    dynamic
        .serialize_with_options(
            &mut serializer,
            &SerializeOptions::new().use_proto_field_name(true),
        )
        .with_context(|| format!("writing a {full_name} as JSON"))?;
    let mut text = String::from_utf8(serializer.into_inner()).context("JSON is UTF-8")?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_proto::common::v1 as common;
    use rapport_proto::loyalty::v1 as loyalty;

    #[test]
    fn json_keeps_the_proto_field_names_and_the_canonical_encoding() {
        let answer = loyalty::ListFollowUpsResponse {
            follow_ups: vec![loyalty::FollowUp {
                follow_up_id: "f-1".into(),
                customer_id: "c-1".into(),
                nps: 3,
                status: loyalty::FollowUpStatus::Overdue as i32,
                due_at: Some(prost_types::Timestamp {
                    seconds: 1_772_442_000,
                    nanos: 0,
                }),
                ..Default::default()
            }],
            page: None,
        };
        let text = to_json(&answer, "rapport.loyalty.v1.ListFollowUpsResponse").expect("json");
        let value: serde_json::Value = serde_json::from_str(&text).expect("parses");
        let first = &value["follow_ups"][0];
        assert_eq!(first["follow_up_id"], "f-1");
        assert_eq!(first["customer_id"], "c-1");
        assert_eq!(first["nps"], 3);
        assert_eq!(first["status"], "FOLLOW_UP_STATUS_OVERDUE");
        assert_eq!(first["due_at"], "2026-03-02T09:00:00Z");
        // Defaults are left out, as proto3 JSON says.
        assert!(first.get("owner_id").is_none(), "{text}");

        let money = common::Money {
            currency_code: "GBP".into(),
            minor_units: 123_456,
        };
        let text = to_json(&money, "rapport.common.v1.Money").expect("json");
        let value: serde_json::Value = serde_json::from_str(&text).expect("parses");
        // int64 is a string in proto3 JSON: no precision lost in JavaScript.
        assert_eq!(value["minor_units"], "123456");
    }

    #[test]
    fn an_unknown_message_name_is_an_error_not_a_panic() {
        let error = to_json(&common::Money::default(), "rapport.nothing.v1.Nope")
            .expect_err("not in the schema");
        assert!(error.to_string().contains("not in the schema"));
    }
}
