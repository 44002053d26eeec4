//! GetTrust: vouches from long-standing customers raise a prospect's trust, with paths.

use rapport_proto::referrals::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::support::{Referrals, agent, start};

async fn vouch(r: &mut Referrals, voucher: &str, prospect_customer: &str) {
    let vouch = r
        .referrals
        .request_vouch(pb::RequestVouchRequest {
            voucher_customer_id: voucher.into(),
            prospect: Some(pb::request_vouch_request::Prospect::ProspectCustomerId(
                prospect_customer.into(),
            )),
            requested_by: Some(agent("branch-3")),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .vouch
        .unwrap();
    r.referrals
        .respond_to_vouch(pb::RespondToVouchRequest {
            vouch_id: vouch.vouch_id,
            answer: pb::VouchAnswer::Vouch as i32,
            relationship: pb::Relationship::Friend as i32,
            years_known: 10,
            comment: String::new(),
        })
        .await
        .unwrap();
}

async fn trust(r: &mut Referrals, customer: &str) -> pb::GetTrustResponse {
    r.referrals
        .get_trust(pb::GetTrustRequest {
            subject: Some(pb::get_trust_request::Subject::CustomerId(customer.into())),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn a_vouch_from_a_long_standing_customer_raises_trust(database: TestDatabase) {
    let mut r = start(database).await;
    let elder = r.customer("Elder One", (2012, 4, 1), "").await;
    let elder2 = r.customer("Elder Two", (2014, 9, 1), "").await;
    let mid = r.customer("Mid Tenure", (2025, 6, 1), "").await;
    let prospect = r.customer("Prospect", (2026, 2, 1), "").await;
    let other = r.customer("Other", (2026, 2, 1), "").await;
    vouch(&mut r, &elder, &mid).await;
    vouch(&mut r, &mid, &other).await;
    let before = trust(&mut r, &prospect).await;
    assert_eq!(before.score, 0.0, "nobody vouched yet");
    vouch(&mut r, &elder, &prospect).await;
    vouch(&mut r, &elder2, &prospect).await;
    let after = trust(&mut r, &prospect).await;
    assert!(after.score > 0.0, "{after:?}");
    assert!(
        after.score > trust(&mut r, &other).await.score,
        "two long-tenure vouches beat a second-hand one"
    );
    assert!(!after.paths.is_empty());
    assert_eq!(after.model_version, "ppr-d0.85-v1");
    let again = trust(&mut r, &prospect).await;
    assert_eq!(
        again.score.to_bits(),
        after.score.to_bits(),
        "deterministic"
    );
}

backend_tests!(a_vouch_from_a_long_standing_customer_raises_trust);
