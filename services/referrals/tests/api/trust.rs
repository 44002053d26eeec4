//! GetTrust: vouches from long-standing customers raise a prospect's trust, with paths.

use rapport_clock::Clock;
use rapport_proto::referrals::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::support::{Referrals, agent, exact_trust, start, start_with_trust, trust_substance};

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

/// GetTrust online, checked against the batch's stored answer (the same, to the bit).
async fn checked_trust(r: &mut Referrals, customer: &str) -> pb::GetTrustResponse {
    r.trust_online_and_stored(pb::GetTrustRequest {
        subject: Some(pb::get_trust_request::Subject::CustomerId(customer.into())),
    })
    .await
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
    let before = checked_trust(&mut r, &prospect).await;
    assert_eq!(before.score, 0.0, "nobody vouched yet");
    vouch(&mut r, &elder, &prospect).await;
    vouch(&mut r, &elder2, &prospect).await;
    let after = checked_trust(&mut r, &prospect).await;
    assert!(after.score > 0.0, "{after:?}");
    assert!(
        after.score > checked_trust(&mut r, &other).await.score,
        "two long-tenure vouches beat a second-hand one"
    );
    assert!(!after.paths.is_empty());
    assert_eq!(after.model_version, "ppr-d0.85-v1");
    let again = checked_trust(&mut r, &prospect).await;
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
    let good_before = checked_trust(&mut r, &good).await;
    let voucher_before = checked_trust(&mut r, &voucher).await.score;
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

    let good_after = checked_trust(&mut r, &good).await;
    let later_trust = checked_trust(&mut r, &later).await;
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
    let voucher_after = checked_trust(&mut r, &voucher).await;
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

fn has_reason(t: &pb::GetTrustResponse, code: &str) -> bool {
    t.reasons.iter().any(|r| r.code == code)
}

fn seconds(t: &pb::GetTrustResponse) -> i64 {
    t.as_of
        .as_ref()
        .expect("every answer has its as_of")
        .seconds
}

/// A small community: two elders vouch, a chain of vouches, a referral.
async fn community(r: &mut Referrals) -> Vec<String> {
    let elder = r.customer("Elder One", (2012, 4, 1), "").await;
    let elder2 = r.customer("Elder Two", (2014, 9, 1), "").await;
    let mid = r.customer("Mid Tenure", (2025, 6, 1), "").await;
    let prospect = r.customer("Prospect", (2026, 2, 1), "").await;
    let other = r.customer("Other", (2026, 2, 1), "").await;
    let loner = r.customer("Loner", (2026, 2, 1), "").await;
    vouch(r, &elder, &mid).await;
    vouch(r, &mid, &other).await;
    vouch(r, &elder, &prospect).await;
    vouch(r, &elder2, &prospect).await;
    // Met by referrals (asked to vouch, too new to), connected to nobody.
    r.referrals
        .request_vouch(pb::RequestVouchRequest {
            voucher_customer_id: loner.clone(),
            prospect: Some(pb::request_vouch_request::Prospect::ProspectCustomerId(
                elder.clone(),
            )),
            requested_by: Some(agent("branch-3")),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    vec![elder, elder2, mid, prospect, other, loner]
}

/// Issue 23: GetTrust serves the stored batch answer with its as_of, and that answer is the one
/// the online computation gives, to the bit: same score, paths, signals and reasons.
async fn the_batch_stores_every_answer_and_get_trust_serves_it_with_its_as_of(
    database: TestDatabase,
) {
    let mut r = start(database).await;
    let people = community(&mut r).await;
    let mut online = Vec::new();
    for person in &people {
        let answer = trust(&mut r, person).await;
        assert_eq!(seconds(&answer), r.clock.now().as_second());
        online.push(answer);
    }
    assert!(
        has_reason(&online[3], "TRUST_COMPUTED_ONLINE"),
        "nothing stored yet, and it says so"
    );
    assert!(
        !has_reason(&online[5], "TRUST_COMPUTED_ONLINE"),
        "no connections: nothing to compute"
    );

    let batch_at = r.clock.now();
    let run = r.recompute_trust().await;
    assert_eq!(run.subjects, 6, "every node and every member met");
    assert!(run.error_bound < 1e-8, "{}", run.error_bound);
    assert_eq!(
        r.count("SELECT COUNT(*) FROM trust_results").await,
        6,
        "one row per subject"
    );
    r.clock.advance(jiff::SignedDuration::from_mins(5));
    for (person, online) in people.iter().zip(&online) {
        let stored = trust(&mut r, person).await;
        assert_eq!(
            seconds(&stored),
            batch_at.as_second(),
            "as_of is the batch's"
        );
        assert!(!has_reason(&stored, "TRUST_COMPUTED_ONLINE"));
        assert!(!has_reason(&stored, "TRUST_GRAPH_CHANGED_SINCE"));
        assert_eq!(stored.score.to_bits(), online.score.to_bits());
        assert_eq!(trust_substance(&stored), trust_substance(online));
    }

    // Someone referrals has not met, connected to nobody: answered from the batch's figures
    // without reading the graph, exactly as the online computation would.
    let newcomer = r.customer("Newcomer", (2026, 2, 1), "").await;
    let quick = trust(&mut r, &newcomer).await;
    assert_eq!(seconds(&quick), batch_at.as_second());
    assert!(quick.signals.iter().any(|s| s.code == "NO_CONNECTIONS"));
    r.execute("DELETE FROM trust_runs").await;
    let online = trust(&mut r, &newcomer).await;
    assert_eq!(seconds(&online), r.clock.now().as_second(), "computed now");
    assert_eq!(trust_substance(&quick), trust_substance(&online));
}

/// Incremental: a vouch marks the graph changed; an exact-only reader computes online at once,
/// a reader that tolerates staleness gets the stored answer with a reason saying it is behind,
/// and the next (debounced) recompute converges to the batch result for the new graph.
async fn a_change_makes_stored_trust_stale_until_the_next_batch_which_equals_a_fresh_one(
    database: TestDatabase,
) {
    let tolerant = rapport_referrals::TrustSettings {
        max_staleness_seconds: 3_600,
        ..exact_trust()
    };
    let mut r = start_with_trust(database, tolerant).await;
    let people = community(&mut r).await;
    let (elder2, other) = (people[1].clone(), people[4].clone());
    let first = r.recompute_trust().await;
    let before = trust(&mut r, &other).await;
    assert_eq!(seconds(&before), first.as_of.as_second());

    r.clock.advance(jiff::SignedDuration::from_mins(1));
    vouch(&mut r, &elder2, &other).await;
    let stale = trust(&mut r, &other).await;
    assert!(has_reason(&stale, "TRUST_GRAPH_CHANGED_SINCE"), "{stale:?}");
    assert_eq!(
        stale.score.to_bits(),
        before.score.to_bits(),
        "still the stored answer"
    );
    assert_eq!(
        r.count("SELECT version FROM trust_graph").await,
        first.graph_version + 1,
        "the vouch marked the graph changed"
    );

    let second = r.recompute_trust().await;
    assert_eq!(second.graph_version, first.graph_version + 1);
    let updated = trust(&mut r, &other).await;
    assert!(!has_reason(&updated, "TRUST_GRAPH_CHANGED_SINCE"));
    assert!(
        updated.score > before.score,
        "a second elder's vouch raises it"
    );
    // The batch result for the same graph at the same moment, computed from scratch: with
    // the stored rows gone, GetTrust computes online, which is the batch computation. The
    // incremental result equals it within the run's error bound (here to the bit: a recompute
    // is a full batch, deterministic).
    r.execute("DELETE FROM trust_results").await;
    let batch = trust(&mut r, &other).await;
    assert!(has_reason(&batch, "TRUST_COMPUTED_ONLINE"));
    let bound = second.error_bound;
    assert!(
        (updated.score - batch.score).abs() <= bound,
        "{} vs {} (bound {bound})",
        updated.score,
        batch.score
    );
    assert_eq!(updated.score.to_bits(), batch.score.to_bits());
    assert_eq!(trust_substance(&updated), trust_substance(&batch));
}

/// Polls the database until the trust worker has settled the graph's current version (the
/// worker runs on its own task; 20 s at most). Returns the version.
async fn worker_settled(r: &Referrals) -> i64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let version = r.count("SELECT version FROM trust_graph").await;
        if r.count("SELECT settled_version FROM trust_graph").await == version {
            return version;
        }
        if std::time::Instant::now() >= deadline {
            panic!(
                "the worker did not settle version {version} within 20 s: settled {}, anchor {}, {} batches",
                r.count("SELECT settled_version FROM trust_graph").await,
                r.count("SELECT anchor_version FROM trust_graph").await,
                r.count("SELECT COUNT(*) FROM trust_runs").await,
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The trust worker running, with a debounce (an hour) that the tests' clock, which moves only
/// when a test moves it, never lets elapse after a change: only online updates can bring the
/// stored answers up to date.
fn online_worker() -> rapport_referrals::TrustSettings {
    rapport_referrals::TrustSettings {
        worker: true,
        debounce_seconds: 3_600,
        recompute_interval_seconds: 86_400,
        ..exact_trust()
    }
}

/// Issue 23, item 5: with the worker running, a vouch is reflected in GetTrust as soon as the
/// worker's next poll updates the stored answers online — no batch runs, the debounce (an hour
/// here, on a clock that does not move) never elapses — stamped with the new graph version, and
/// it equals the batch for the new graph within the bound.
async fn a_vouch_is_served_updated_online_long_before_the_debounce_and_matches_the_batch(
    database: TestDatabase,
) {
    let mut r = start_with_trust(database, online_worker()).await;
    let people = community(&mut r).await;
    let (elder2, other) = (people[1].clone(), people[4].clone());
    // The community's changes wait for the debounce: an hour of quiet, then the batch (with
    // seeds now) anchors the online updates.
    r.clock.advance(jiff::SignedDuration::from_secs(3_601));
    let anchored = worker_settled(&r).await;
    let batches = r.count("SELECT COUNT(*) FROM trust_runs").await;
    let before = trust(&mut r, &other).await;
    assert!(!has_reason(&before, "TRUST_COMPUTED_ONLINE"), "{before:?}");

    r.clock.advance(jiff::SignedDuration::from_mins(1));
    let changed_at = r.clock.now();
    vouch(&mut r, &elder2, &other).await;
    let version = worker_settled(&r).await;
    assert_eq!(version, anchored + 1, "the vouch is one change");
    assert_eq!(
        r.count("SELECT COUNT(*) FROM trust_runs").await,
        batches,
        "no batch ran: the update was online"
    );
    let updated = trust(&mut r, &other).await;
    assert!(
        !has_reason(&updated, "TRUST_COMPUTED_ONLINE"),
        "{updated:?}"
    );
    assert!(!has_reason(&updated, "TRUST_GRAPH_CHANGED_SINCE"));
    assert_eq!(
        seconds(&updated),
        changed_at.as_second(),
        "as_of: the update"
    );
    assert!(
        updated.signals.iter().any(|s| s.code == "UPDATED_ONLINE"),
        "{updated:?}"
    );
    assert!(
        updated.score > before.score,
        "a second elder's vouch raises it"
    );
    assert_eq!(
        r.count_of(format!(
            "SELECT graph_version FROM trust_results WHERE subject_id = '{other}'"
        ))
        .await,
        version,
        "stamped with the new graph version"
    );
    // Someone the vouch did not move is still served, as current, from the batch.
    let elder = trust(&mut r, &people[0]).await;
    assert!(!has_reason(&elder, "TRUST_COMPUTED_ONLINE"));
    assert!(!has_reason(&elder, "TRUST_GRAPH_CHANGED_SINCE"));

    // The batch for the same graph afterwards: the same answer within the bound. Raw scores are
    // within 1e-8 / (1 − 0.85) (L1) of the exact ones, and scores are raw over the best raw
    // (above 0.2 here, a seed's), so two bounds over 0.2, doubled for the division, allow 2e-6.
    let run = r.recompute_trust().await;
    assert_eq!(run.graph_version, version);
    let batch = trust(&mut r, &other).await;
    assert_eq!(
        seconds(&batch),
        run.as_of.as_second(),
        "served from the batch"
    );
    assert!(
        (updated.score - batch.score).abs() <= 2e-6,
        "online {} vs batch {}",
        updated.score,
        batch.score
    );
    assert!(
        (before.score - batch.score).abs() > 1e-3,
        "the vouch mattered: {} before, {} after",
        before.score,
        batch.score
    );
    let substance = |t: &pb::GetTrustResponse| {
        let mut t = trust_substance(t);
        t.score = 0.0;
        t.signals
            .retain(|s| s.code != "UPDATED_ONLINE" && s.code != "CONVERGENCE");
        t
    };
    assert_eq!(
        substance(&updated),
        substance(&batch),
        "paths, signals, reasons"
    );
}

/// Issue 23, item 5, a standing change: a customer someone vouched for is closed; the voucher's
/// answer says so (their later vouches count for less) as soon as the worker's next poll,
/// without a batch, and equals what the batch gives afterwards.
async fn a_vouchee_falling_behind_is_in_the_vouchers_answer_at_once_without_a_batch(
    database: TestDatabase,
) {
    let mut r = start_with_trust(database, online_worker()).await;
    let elder = r.customer("Elder One", (2012, 4, 1), "").await;
    let elder2 = r.customer("Elder Two", (2013, 4, 1), "").await;
    let voucher = r.customer("Voucher", (2020, 1, 1), "").await;
    let good = r.customer("Good Prospect", (2026, 2, 1), "").await;
    let fallen = r.customer("Fallen", (2026, 2, 1), "").await;
    vouch(&mut r, &elder, &voucher).await;
    vouch(&mut r, &elder2, &voucher).await;
    vouch(&mut r, &voucher, &good).await;
    vouch(&mut r, &voucher, &fallen).await;
    r.clock.advance(jiff::SignedDuration::from_secs(3_601));
    let anchored = worker_settled(&r).await;
    let batches = r.count("SELECT COUNT(*) FROM trust_runs").await;
    let fell_behind = |t: &pb::GetTrustResponse| {
        t.signals
            .iter()
            .any(|s| s.code == "VOUCHED_FOR_CUSTOMERS_FELL_BEHIND")
    };
    let before = trust(&mut r, &voucher).await;
    assert!(!fell_behind(&before), "{before:?}");

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
    r.referrals
        .issue_referral_code(pb::IssueReferralCodeRequest {
            customer_id: fallen.clone(),
        })
        .await
        .unwrap_err();
    let version = worker_settled(&r).await;
    assert!(version > anchored, "the standing changed the graph");
    assert_eq!(
        r.count("SELECT COUNT(*) FROM trust_runs").await,
        batches,
        "no batch ran"
    );
    let after = trust(&mut r, &voucher).await;
    assert!(fell_behind(&after), "{after:?}");
    assert!(!has_reason(&after, "TRUST_COMPUTED_ONLINE"));
    assert!(!has_reason(&after, "TRUST_GRAPH_CHANGED_SINCE"));
    assert!(after.signals.iter().any(|s| s.code == "UPDATED_ONLINE"));

    r.recompute_trust().await;
    let batch = trust(&mut r, &voucher).await;
    assert!((after.score - batch.score).abs() <= 2e-6);
    let substance = |t: &pb::GetTrustResponse| {
        let mut t = trust_substance(t);
        t.score = 0.0;
        t.signals
            .retain(|s| s.code != "UPDATED_ONLINE" && s.code != "CONVERGENCE");
        t
    };
    assert_eq!(substance(&after), substance(&batch));
}

backend_tests!(
    a_vouch_is_served_updated_online_long_before_the_debounce_and_matches_the_batch,
    a_vouchee_falling_behind_is_in_the_vouchers_answer_at_once_without_a_batch,
    the_batch_stores_every_answer_and_get_trust_serves_it_with_its_as_of,
    a_change_makes_stored_trust_stale_until_the_next_batch_which_equals_a_fresh_one,
    trust_of_an_unknown_customer_or_prospect_is_not_found,
    a_vouch_from_a_long_standing_customer_raises_trust,
    a_voucher_whose_vouchee_falls_behind_counts_for_less_from_then_on
);
