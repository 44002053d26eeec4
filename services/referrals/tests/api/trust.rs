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

async fn a_voucher_whose_vouchee_falls_behind_counts_for_less_from_then_on(database: TestDatabase) {
    let mut r = start(database).await;
    let elder = r.customer("Elder One", (2012, 4, 1), "").await;
    let elder2 = r.customer("Elder Two", (2013, 4, 1), "").await;
    let voucher = r.customer("Voucher", (2020, 1, 1), "").await;
    let good = r.customer("Good Prospect", (2026, 2, 1), "").await;
    let fallen = r.customer("Fallen", (2026, 2, 1), "").await;
    let later = r.customer("Later Prospect", (2026, 2, 1), "").await;
    vouch(&mut r, &elder, &voucher).await;
    vouch(&mut r, &elder2, &voucher).await;
    vouch(&mut r, &voucher, &good).await;
    vouch(&mut r, &voucher, &fallen).await;
    let good_before = trust(&mut r, &good).await;
    let voucher_before = trust(&mut r, &voucher).await.score;
    assert!(good_before.score > 0.0);

    // The customer the voucher vouched for closes in arrears: no longer in good standing.
    r.clock.advance(jiff::SignedDuration::from_hours(24));
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

    // A day later the same voucher vouches, in the same words, for another prospect.
    r.clock.advance(jiff::SignedDuration::from_hours(24));
    vouch(&mut r, &voucher, &later).await;

    let good_after = trust(&mut r, &good).await;
    let later_trust = trust(&mut r, &later).await;
    assert!(
        later_trust.score < good_after.score * 0.75,
        "a vouch made after the default counts for less: {} vs {}",
        later_trust.score,
        good_after.score
    );
    // The earlier vouch keeps its weight; the later one, in the same words, weighs half.
    let last_edge_weight = |t: &pb::GetTrustResponse, to: &str| {
        t.paths
            .iter()
            .flat_map(|p| &p.edges)
            .find(|e| e.from_id == voucher && e.to_id == to)
            .map(|e| e.weight)
            .expect("the strongest path runs through the voucher")
    };
    let earlier = last_edge_weight(&good_after, &good);
    assert!((earlier - last_edge_weight(&good_before, &good)).abs() < 1e-12);
    assert!((last_edge_weight(&later_trust, &later) - earlier * 0.5).abs() < 1e-12);
    let voucher_after = trust(&mut r, &voucher).await;
    let signal = voucher_after
        .signals
        .iter()
        .find(|s| s.code == "VOUCHED_FOR_CUSTOMERS_FELL_BEHIND")
        .expect("the voucher's explanation says why their vouches count for less");
    assert!(signal.effect < 0.0);
    // The voucher's own trust comes from the edges into them and does not move.
    assert!(
        (voucher_after.score - voucher_before).abs() <= voucher_before * 0.05,
        "{} vs {voucher_before}",
        voucher_after.score
    );
}

/// Issue 16: a trust of 0 is an answer about someone; for nobody it is NOT_FOUND.
async fn trust_of_an_unknown_customer_or_prospect_is_not_found(database: TestDatabase) {
    let mut r = start(database).await;
    let newcomer = r.customer("Newcomer", (2026, 2, 1), "").await;
    assert_eq!(
        trust(&mut r, &newcomer).await.score,
        0.0,
        "known to profiles, unseen by referrals: an answer"
    );
    for subject in [
        pb::get_trust_request::Subject::CustomerId(rapport_ids::Id::new().to_string()),
        pb::get_trust_request::Subject::ProspectId(rapport_ids::Id::new().to_string()),
    ] {
        let refused = r
            .referrals
            .get_trust(pb::GetTrustRequest {
                subject: Some(subject),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::NotFound, "{refused:?}");
    }
}

backend_tests!(
    trust_of_an_unknown_customer_or_prospect_is_not_found,
    a_vouch_from_a_long_standing_customer_raises_trust,
    a_voucher_whose_vouchee_falls_behind_counts_for_less_from_then_on
);
