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

async fn a_voucher_whose_vouchee_falls_behind_counts_for_less(database: TestDatabase) {
    let mut r = start(database).await;
    let elder = r.customer("Elder One", (2012, 4, 1), "").await;
    let elder2 = r.customer("Elder Two", (2013, 4, 1), "").await;
    let voucher = r.customer("Voucher", (2020, 1, 1), "").await;
    let good = r.customer("Good Prospect", (2026, 2, 1), "").await;
    let fallen = r.customer("Fallen", (2026, 2, 1), "").await;
    vouch(&mut r, &elder, &voucher).await;
    vouch(&mut r, &elder2, &voucher).await;
    vouch(&mut r, &voucher, &good).await;
    vouch(&mut r, &voucher, &fallen).await;
    let before = trust(&mut r, &good).await.score;
    let voucher_before = trust(&mut r, &voucher).await.score;

    // The other customer the voucher vouched for closes in arrears: no longer in good standing.
    r.profiles
        .update_customer(rapport_proto::profiles::v1::UpdateCustomerRequest {
            customer: Some(rapport_proto::profiles::v1::Customer {
                customer_id: fallen.clone(),
                status: rapport_proto::profiles::v1::CustomerStatus::Closed as i32,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["status".into()],
            }),
        })
        .await
        .unwrap();
    // Referrals learns the new standing the next time it reads the customer.
    let refused = r
        .referrals
        .issue_referral_code(pb::IssueReferralCodeRequest {
            customer_id: fallen.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);

    let after = trust(&mut r, &good).await;
    assert!(
        after.score < before,
        "{} should be below {before}",
        after.score
    );
    assert!(
        after.signals.is_empty()
            || after
                .signals
                .iter()
                .all(|s| s.code != "VOUCHED_FOR_CUSTOMERS_FELL_BEHIND")
    );
    let voucher_after = trust(&mut r, &voucher).await;
    assert!(
        voucher_after
            .signals
            .iter()
            .any(|s| s.code == "VOUCHED_FOR_CUSTOMERS_FELL_BEHIND")
    );
    // The voucher's own trust comes from the edges into them and barely moves (renormalisation).
    assert!(
        (voucher_after.score - voucher_before).abs() <= voucher_before * 0.05,
        "{} vs {voucher_before}",
        voucher_after.score
    );
}

backend_tests!(
    a_vouch_from_a_long_standing_customer_raises_trust,
    a_voucher_whose_vouchee_falls_behind_counts_for_less
);
