//! Codes, referrals, attribution, vouching, and the bad inputs around them.

use rapport_proto::referrals::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::support::{Referrals, agent, start, violated_fields};

pub async fn code_for(r: &mut Referrals, customer: &str) -> String {
    r.referrals
        .issue_referral_code(pb::IssueReferralCodeRequest {
            customer_id: customer.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .referral_code
        .unwrap()
        .code
}

pub async fn sign_up(
    r: &mut Referrals,
    code: &str,
    referee: &str,
    ip: &str,
) -> pb::AttributeSignupResponse {
    r.referrals
        .attribute_signup(pb::AttributeSignupRequest {
            code: code.into(),
            referee_customer_id: referee.into(),
            device: Some(pb::DeviceSignals {
                device_hash: String::new(),
                ip_address: ip.into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn one_referrer_per_referee_and_clear_refusals(database: TestDatabase) {
    let mut r = start(database).await;
    let ana = r.customer("Ana Pop", (2019, 1, 10), "ana@example.ro").await;
    let dan = r.customer("Dan Ene", (2020, 5, 1), "dan@example.ro").await;
    let code = code_for(&mut r, &ana).await;
    let again = r
        .referrals
        .issue_referral_code(pb::IssueReferralCodeRequest {
            customer_id: ana.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        !again.created && again.referral_code.unwrap().code == code,
        "one active code per customer"
    );

    let referral = r
        .referrals
        .create_referral(pb::CreateReferralRequest {
            referrer_customer_id: ana.clone(),
            code: code.clone(),
            prospect: Some(pb::ProspectContact {
                name: "Ioana".into(),
                email: "ioana@example.com".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .referral
        .unwrap();
    assert_eq!(referral.status, pb::ReferralStatus::Pending as i32);

    let ioana = r
        .customer("Ioana Vlad", (2026, 3, 1), "ioana@example.com")
        .await;
    let signed = sign_up(&mut r, &code, &ioana, "").await.referral.unwrap();
    assert_eq!(signed.status, pb::ReferralStatus::SignedUp as i32);
    assert_eq!(signed.referrer_customer_id, ana);

    let dans_code = code_for(&mut r, &dan).await;
    let second = r
        .referrals
        .attribute_signup(pb::AttributeSignupRequest {
            code: dans_code,
            referee_customer_id: ioana.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(second.code(), Code::AlreadyExists, "{second:?}");
    let unknown = r
        .referrals
        .attribute_signup(pb::AttributeSignupRequest {
            code: "NOSUCHCD".into(),
            referee_customer_id: dan.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), vec!["code"]);
    let own = r
        .referrals
        .attribute_signup(pb::AttributeSignupRequest {
            code: code.clone(),
            referee_customer_id: ana.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&own), vec!["referee_customer_id"]);
    assert_eq!(
        r.count("SELECT COUNT(*) FROM referrals WHERE status = 'REFERRAL_STATUS_SIGNED_UP'")
            .await,
        1
    );
}

async fn vouchers_must_be_established_and_are_not_pestered(database: TestDatabase) {
    let mut r = start(database).await;
    let old = r.customer("Old Timer", (2018, 2, 1), "").await;
    let new = r.customer("New Comer", (2026, 1, 1), "").await;
    let prospect = |name: &str| {
        Some(pb::request_vouch_request::Prospect::NewProspect(
            pb::ProspectContact {
                name: name.into(),
                ..Default::default()
            },
        ))
    };
    let ask = |voucher: &str, name: &str| pb::RequestVouchRequest {
        voucher_customer_id: voucher.into(),
        prospect: prospect(name),
        requested_by: Some(agent("branch-3")),
        request_id: String::new(),
    };
    let too_new = r
        .referrals
        .request_vouch(ask(&new, "P1"))
        .await
        .unwrap_err();
    assert_eq!(too_new.code(), Code::FailedPrecondition);
    assert!(too_new.message().contains("6 months"), "{too_new:?}");
    let own = r
        .referrals
        .request_vouch(pb::RequestVouchRequest {
            voucher_customer_id: old.clone(),
            prospect: Some(pb::request_vouch_request::Prospect::ProspectCustomerId(
                old.clone(),
            )),
            requested_by: Some(agent("branch-3")),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&own), vec!["prospect_customer_id"]);
    let mut vouches = Vec::new();
    for name in ["P1", "P2", "P3"] {
        vouches.push(
            r.referrals
                .request_vouch(ask(&old, name))
                .await
                .unwrap()
                .into_inner()
                .vouch
                .unwrap(),
        );
    }
    let fourth = r
        .referrals
        .request_vouch(ask(&old, "P4"))
        .await
        .unwrap_err();
    assert_eq!(
        fourth.code(),
        Code::FailedPrecondition,
        "at most 3 requests in 30 days"
    );
    assert_eq!(
        r.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'referrals.vouch_requested.v1'")
            .await,
        3
    );

    let answered = r
        .referrals
        .respond_to_vouch(pb::RespondToVouchRequest {
            vouch_id: vouches[0].vouch_id.clone(),
            answer: pb::VouchAnswer::Vouch as i32,
            relationship: pb::Relationship::Friend as i32,
            years_known: 12,
            comment: "Known since school".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .vouch
        .unwrap();
    assert_eq!(answered.status, pb::VouchStatus::Vouched as i32);
    let twice = r
        .referrals
        .respond_to_vouch(pb::RespondToVouchRequest {
            vouch_id: vouches[0].vouch_id.clone(),
            answer: pb::VouchAnswer::Decline as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);
    r.clock
        .advance(rapport_clock::SignedDuration::from_hours(24 * 31));
    r.referrals.request_vouch(ask(&old, "P5")).await.unwrap();
}

async fn a_status_filter_fills_every_page(database: TestDatabase) {
    let mut r = start(database).await;
    let ana = r.customer("Ana Pop", (2019, 1, 10), "ana@example.ro").await;
    let code = code_for(&mut r, &ana).await;
    for prospect in ["ioana", "mihai", "elena"] {
        r.referrals
            .create_referral(pb::CreateReferralRequest {
                referrer_customer_id: ana.clone(),
                code: code.clone(),
                prospect: Some(pb::ProspectContact {
                    name: prospect.into(),
                    email: format!("{prospect}@example.com"),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let list = |statuses: Vec<i32>, page_token: String| pb::ListReferralsRequest {
        referrer_customer_id: ana.clone(),
        statuses,
        page: Some(rapport_proto::common::v1::PageRequest {
            page_size: 2,
            page_token,
        }),
        ..Default::default()
    };
    let pending = vec![pb::ReferralStatus::Pending as i32];
    let first = r
        .referrals
        .list_referrals(list(pending.clone(), String::new()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.referrals.len(), 2);
    let token = first.page.unwrap().next_page_token;
    assert!(!token.is_empty(), "a third pending referral follows");
    let second = r
        .referrals
        .list_referrals(list(pending, token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.referrals.len(), 1);
    assert!(second.page.unwrap().next_page_token.is_empty());
    let none = r
        .referrals
        .list_referrals(list(
            vec![pb::ReferralStatus::Qualified as i32],
            String::new(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(none.referrals.is_empty());
    let bad = r
        .referrals
        .list_referrals(list(vec![99], String::new()))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&bad), vec!["statuses[0]".to_owned()]);
}

backend_tests!(
    one_referrer_per_referee_and_clear_refusals,
    vouchers_must_be_established_and_are_not_pestered,
    a_status_filter_fills_every_page
);
