//! Caller-supplied times are bounded by what they describe (DESIGN.md, "Money and time"): a
//! sign-up backdated before its referral or before the customer joined would start the 90-day
//! qualification clock early.

use rapport_proto::referrals::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::referrals::code_for;
use crate::support::{Referrals, at, start, violated_fields};

async fn attribute(
    r: &mut Referrals,
    code: &str,
    referee: &str,
    signed_up_at: &str,
) -> Result<pb::AttributeSignupResponse, tonic::Status> {
    r.referrals
        .attribute_signup(pb::AttributeSignupRequest {
            code: code.into(),
            referee_customer_id: referee.into(),
            signed_up_at: Some(at(signed_up_at)),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn a_sign_up_backdated_before_its_referral_or_the_customer_is_refused_and_never_qualifies(
    database: TestDatabase,
) {
    let mut r = start(database).await;
    // The code is issued on 2 March 2026, 09:00.
    let ana = r.customer("Ana Pop", (2019, 1, 10), "ana@example.ro").await;
    let code = code_for(&mut r, &ana).await;

    // 100 days before the code existed: the fraud of the issue.
    let dan = r.customer("Dan Ene", (2020, 5, 1), "dan@example.ro").await;
    let refused = attribute(&mut r, &code, &dan, "2025-11-22T09:00:00Z")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), ["signed_up_at"]);
    assert!(
        refused.message().contains("before the referral began"),
        "{}",
        refused.message()
    );

    // After the code, but weeks before the new customer joined (10 April).
    r.clock.set("2026-04-10T12:00:00Z".parse().unwrap());
    let ioana = r
        .customer("Ioana Vlad", (2026, 4, 10), "ioana@example.com")
        .await;
    let refused = attribute(&mut r, &code, &ioana, "2026-03-15T09:00:00Z")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), ["signed_up_at"]);
    assert!(
        refused.message().contains("customer_since 2026-04-10"),
        "{}",
        refused.message()
    );

    // Nothing was recorded, so nothing qualifies at once.
    let evaluated = r
        .referrals
        .evaluate_qualifications(pb::EvaluateQualificationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(evaluated.qualified, 0);

    // The truth is accepted: the evening before the local joining date is within the tolerance
    // (time zones), and the 90 days count from it.
    let signed = attribute(&mut r, &code, &ioana, "2026-04-09T23:30:00Z")
        .await
        .unwrap();
    assert_eq!(
        signed.referral.unwrap().status,
        pb::ReferralStatus::SignedUp as i32
    );
}

backend_tests!(
    a_sign_up_backdated_before_its_referral_or_the_customer_is_refused_and_never_qualifies,
);
