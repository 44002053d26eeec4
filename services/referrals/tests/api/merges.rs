//! Profiles' merges and erasures, delivered through IngestEvents: the duplicate's codes,
//! referrals, vouches and members follow the survivor; a referral between the two becomes a
//! fraud flag; an erasure blanks the contact points of the customer and every id merged into it.

use prost_types::value::Kind;
use rapport_proto::common::v1 as common;
use rapport_proto::referrals::v1 as pb;
use rapport_storage::Storage;
use rapport_storage::backend_tests;
use rapport_storage::sqlx::{self, AssertSqlSafe};
use rapport_storage::testing::TestDatabase;

use crate::referrals::{code_for, sign_up};
use crate::support::{Referrals, at, start};

backend_tests!(
    a_merge_moves_the_duplicates_referrals_and_a_referral_between_them_is_flagged,
    erasure_blanks_contact_points_of_every_merged_id_whatever_the_order,
);

/// A profiles event about `customer`, with string payload fields.
fn profiles_event(
    event_type: &str,
    customer: &str,
    fields: &[(&str, &str)],
) -> common::DomainEvent {
    common::DomainEvent {
        event_id: rapport_ids::Id::new().to_string(),
        event_type: event_type.into(),
        customer_id: customer.into(),
        occurred_at: Some(at("2026-03-02T08:00:00Z")),
        source_service: "profiles".into(),
        payload: Some(prost_types::Struct {
            fields: fields
                .iter()
                .map(|(k, v)| {
                    (
                        (*k).to_owned(),
                        prost_types::Value {
                            kind: Some(Kind::StringValue((*v).into())),
                        },
                    )
                })
                .collect(),
        }),
        ..Default::default()
    }
}

fn merged(survivor: &str, duplicate: &str) -> common::DomainEvent {
    profiles_event(
        "profiles.customer_merged.v1",
        survivor,
        &[
            ("survivor_customer_id", survivor),
            ("duplicate_customer_id", duplicate),
        ],
    )
}

fn erased(customer: &str) -> common::DomainEvent {
    profiles_event(
        "profiles.customer_erased.v1",
        customer,
        &[("customer_id", customer)],
    )
}

async fn ingest(r: &mut Referrals, events: Vec<common::DomainEvent>) -> pb::IngestEventsResponse {
    let answer = r
        .referrals
        .ingest_events(pb::IngestEventsRequest { events })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    answer
}

/// A referral by `referrer` of a prospect with every contact point, from a device.
async fn refer(r: &mut Referrals, referrer: &str, prospect: &str) -> pb::Referral {
    let code = code_for(r, referrer).await;
    r.referrals
        .create_referral(pb::CreateReferralRequest {
            referrer_customer_id: referrer.into(),
            code,
            prospect: Some(pb::ProspectContact {
                name: format!("{prospect} Prospect"),
                email: format!("{}@example.com", prospect.to_lowercase()),
                phone: "+40 721 555 019".into(),
                ..Default::default()
            }),
            device: Some(pb::DeviceSignals {
                device_hash: format!("device-of-{prospect}"),
                ip_address: "198.51.100.7".into(),
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .referral
        .unwrap()
}

/// Columns of referrals' tables that still hold `value`, as "table.column".
async fn holding(r: &Referrals, value: &str) -> Vec<String> {
    let storage = Storage::open(&r.database.settings).unwrap();
    let mut found = Vec::new();
    for (table, column) in [
        ("prospects", "name"),
        ("prospects", "email"),
        ("prospects", "phone"),
        ("referrals", "device_hash"),
        ("referrals", "ip_address"),
    ] {
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} LIKE $1"
        )))
        .bind(format!("%{value}%"))
        .fetch_one(storage.reader())
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    storage.close().await;
    found
}

async fn a_merge_moves_the_duplicates_referrals_and_a_referral_between_them_is_flagged(
    database: TestDatabase,
) {
    let mut r = start(database).await;
    let ana = r.customer("Ana Pop", (2015, 1, 10), "ana@example.ro").await;
    let dup = r
        .customer("Ana Pop", (2026, 2, 1), "ana.pop@example.org")
        .await;
    // The duplicate signed up through Ana's code, and referred someone of its own.
    let code = code_for(&mut r, &ana).await;
    r.referrals
        .create_referral(pb::CreateReferralRequest {
            referrer_customer_id: ana.clone(),
            code: code.clone(),
            prospect: Some(pb::ProspectContact {
                name: "A. Pop".into(),
                email: "ana.pop@example.org".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let between = sign_up(&mut r, &code, &dup, "").await.referral.unwrap();
    let own = refer(&mut r, &dup, "Ioana").await;

    let merge = merged(&ana, &dup);
    assert_eq!(ingest(&mut r, vec![merge.clone()]).await.accepted, 1);
    assert_eq!(ingest(&mut r, vec![merge]).await.duplicates, 1);

    // Asking about the duplicate answers for the survivor, with the duplicate's referral.
    let listed = r
        .referrals
        .list_referrals(pb::ListReferralsRequest {
            referrer_customer_id: dup.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .referrals;
    let ids: Vec<_> = listed.iter().map(|x| x.referral_id.clone()).collect();
    assert!(ids.contains(&own.referral_id), "{ids:?}");
    assert!(listed.iter().all(|x| x.referrer_customer_id == ana));
    let storage = Storage::open(&r.database.settings).unwrap();
    for (table, column) in [
        ("referral_codes", "customer_id"),
        ("referrals", "referrer_id"),
        ("referrals", "referee_id"),
        ("vouches", "voucher_id"),
        ("rewards", "customer_id"),
        ("members", "customer_id"),
    ] {
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} = $1"
        )))
        .bind(&dup)
        .fetch_one(storage.reader())
        .await
        .unwrap();
        assert_eq!(n, 0, "{table}.{column} still names the merged-away id");
    }
    storage.close().await;

    // The referral between them is now Ana referring herself: a flag with its reason.
    let flags = r
        .referrals
        .list_fraud_flags(pb::ListFraudFlagsRequest {
            customer_id: dup.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .fraud_flags;
    let flag = flags
        .iter()
        .find(|f| f.referral_ids.contains(&between.referral_id))
        .unwrap_or_else(|| panic!("no flag on the referral between the two: {flags:?}"));
    assert_eq!(flag.status, pb::FraudFlagStatus::Open as i32);
    assert!(
        flag.reasons
            .iter()
            .any(|x| x.code == "MERGED_SELF_REFERRAL"),
        "{:?}",
        flag.reasons
    );
    // Trust asked by the duplicate's id is the survivor's, self-referral and all.
    let trust = |customer: &str| pb::GetTrustRequest {
        subject: Some(pb::get_trust_request::Subject::CustomerId(customer.into())),
    };
    let by_duplicate = r
        .referrals
        .get_trust(trust(&dup))
        .await
        .unwrap()
        .into_inner();
    let by_survivor = r
        .referrals
        .get_trust(trust(&ana))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_duplicate, by_survivor);
}

async fn erasure_blanks_contact_points_of_every_merged_id_whatever_the_order(
    database: TestDatabase,
) {
    let mut r = start(database).await;
    let ana = r.customer("Ana Pop", (2015, 1, 10), "ana@example.ro").await;
    let dup = r
        .customer("Ana Pop", (2019, 2, 1), "ana.pop@example.org")
        .await;
    let late = r
        .customer("A. Pop", (2020, 2, 1), "a.pop@example.net")
        .await;
    refer(&mut r, &ana, "Maria").await;
    refer(&mut r, &dup, "Ioana").await;
    refer(&mut r, &late, "Elena").await;

    ingest(&mut r, vec![merged(&ana, &dup)]).await;
    ingest(&mut r, vec![erased(&ana)]).await;
    assert_eq!(holding(&r, "Maria").await, Vec::<String>::new());
    assert_eq!(holding(&r, "Ioana").await, Vec::<String>::new());
    assert_eq!(holding(&r, "198.51.100.7").await, ["referrals.ip_address"]);
    // A merge made before the erasure and delivered after it is erased too.
    ingest(&mut r, vec![merged(&ana, &late)]).await;
    assert_eq!(holding(&r, "Elena").await, Vec::<String>::new());
    assert_eq!(holding(&r, "198.51.100.7").await, Vec::<String>::new());
    assert_eq!(
        r.count("SELECT COUNT(*) FROM prospects WHERE phone <> '' OR email <> '' OR name <> ''")
            .await,
        0
    );
    // Decisions stay: three referrals, still pending, with their dates.
    assert_eq!(
        r.count("SELECT COUNT(*) FROM referrals WHERE status = 'REFERRAL_STATUS_PENDING' AND created_at_micros > 0")
            .await,
        3
    );
}
