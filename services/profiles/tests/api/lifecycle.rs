//! Anniversaries, merging duplicates, export and erasure.

use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::support::{agent, at, customer, date, start, violated_fields};

async fn anniversaries_fall_in_the_range_with_whole_years(database: TestDatabase) {
    let mut profiles = start(database).await;
    let leap = profiles
        .create(pb::Customer {
            customer_since: Some(date(2020, 2, 29)),
            time_zone: "Pacific/Auckland".into(),
            ..customer("Leap Day")
        })
        .await;
    let new_year = profiles
        .create(pb::Customer {
            customer_since: Some(date(2019, 1, 2)),
            ..customer("New Year")
        })
        .await;
    profiles
        .create(pb::Customer {
            customer_since: Some(date(2019, 7, 1)),
            ..customer("Summer")
        })
        .await;
    let closed = profiles
        .create(pb::Customer {
            customer_since: Some(date(2015, 2, 28)),
            status: pb::CustomerStatus::Closed as i32,
            ..customer("Closed Account")
        })
        .await;

    let list = |start: common::Date, end: common::Date| pb::ListAnniversariesRequest {
        range: Some(common::DateRange {
            start: Some(start),
            end: Some(end),
        }),
        page: None,
    };
    let february = profiles
        .client
        .list_anniversaries(list(date(2025, 2, 1), date(2025, 3, 31)))
        .await
        .unwrap()
        .into_inner()
        .anniversaries;
    assert_eq!(february.len(), 1, "{february:?}");
    assert_eq!(february[0].customer_id, leap.customer_id);
    assert_eq!(
        february[0].anniversary_date,
        Some(date(2025, 2, 28)),
        "29 February falls on the 28th in common years"
    );
    assert_eq!(february[0].tenure_years, 5);
    assert_eq!(february[0].time_zone, "Pacific/Auckland");
    assert!(
        february.iter().all(|a| a.customer_id != closed.customer_id),
        "closed customers' tenure has stopped"
    );

    let leap_year = profiles
        .client
        .list_anniversaries(list(date(2028, 2, 28), date(2028, 2, 29)))
        .await
        .unwrap()
        .into_inner()
        .anniversaries;
    assert_eq!(leap_year.len(), 1);
    assert_eq!(leap_year[0].anniversary_date, Some(date(2028, 2, 29)));
    assert_eq!(leap_year[0].tenure_years, 8);

    let year_end = profiles
        .client
        .list_anniversaries(list(date(2025, 12, 15), date(2026, 1, 15)))
        .await
        .unwrap()
        .into_inner()
        .anniversaries;
    assert_eq!(year_end.len(), 1);
    assert_eq!(year_end[0].customer_id, new_year.customer_id);
    assert_eq!(year_end[0].anniversary_date, Some(date(2026, 1, 2)));
    assert_eq!(year_end[0].tenure_years, 7);

    let too_long = profiles
        .client
        .list_anniversaries(list(date(2025, 1, 1), date(2026, 6, 1)))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&too_long), vec!["range"]);
    let backwards = profiles
        .client
        .list_anniversaries(list(date(2025, 3, 1), date(2025, 2, 1)))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&backwards), vec!["range.end"]);
}

async fn merging_moves_everything_and_the_old_id_resolves_to_the_survivor(database: TestDatabase) {
    let mut profiles = start(database).await;
    let survivor = profiles.create(customer("Maria Tănase")).await;
    let duplicate = profiles
        .create(pb::Customer {
            customer_since: Some(date(2009, 9, 1)),
            emails: vec![pb::EmailAddress {
                address: "maria.tanase@example.ro".into(),
                ..Default::default()
            }],
            external_refs: vec![pb::ExternalRef {
                system: "cards".into(),
                external_id: "C-88".into(),
            }],
            ..customer("Maria Tanase")
        })
        .await;
    profiles
        .client
        .record_interaction(pb::RecordInteractionRequest {
            interaction: Some(pb::Interaction {
                customer_id: duplicate.customer_id.clone(),
                channel: common::Channel::Phone as i32,
                occurred_at: Some(at("2026-02-01T10:00:00Z")),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    profiles
        .client
        .set_consent(pb::SetConsentRequest {
            consent: Some(pb::Consent {
                customer_id: duplicate.customer_id.clone(),
                purpose: pb::ConsentPurpose::Surveys as i32,
                status: pb::ConsentStatus::Granted as i32,
                source: pb::ConsentSource::Web as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();

    let merge = pb::MergeCustomersRequest {
        survivor_customer_id: survivor.customer_id.clone(),
        duplicate_customer_id: duplicate.customer_id.clone(),
        reason: "same person, two onboarding journeys".into(),
        request_id: "merge-1".into(),
    };
    let merged = profiles
        .client
        .merge_customers(merge.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(merged.interactions_moved, 1);
    assert_eq!(merged.consents_moved, 1);
    assert_eq!(merged.external_refs_moved, 1);
    let kept = merged.survivor.unwrap();
    assert_eq!(
        kept.customer_since,
        Some(date(2009, 9, 1)),
        "tenure counts from the earlier start"
    );
    assert_eq!(kept.emails.len(), 1);

    // A retry answers with the same counts and moves nothing twice.
    let again = profiles
        .client
        .merge_customers(merge)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.interactions_moved, 1);

    let via_old_id = profiles
        .get(&duplicate.customer_id, pb::CustomerView::Full)
        .await;
    assert_eq!(via_old_id.customer_id, survivor.customer_id);
    let by_ref = profiles
        .client
        .search_customers(pb::SearchCustomersRequest {
            external_ref: Some(pb::ExternalRef {
                system: "cards".into(),
                external_id: "C-88".into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(by_ref.len(), 1);
    assert_eq!(by_ref[0].customer_id, survivor.customer_id);
    let timeline = profiles
        .client
        .list_interactions(pb::ListInteractionsRequest {
            customer_id: duplicate.customer_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .interactions;
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].customer_id, survivor.customer_id);
    assert_eq!(
        profiles.search_name("tanase").await.len(),
        1,
        "the duplicate is not found any more"
    );

    let third = profiles.create(customer("Someone Else")).await;
    let into_merged = profiles
        .client
        .merge_customers(pb::MergeCustomersRequest {
            survivor_customer_id: duplicate.customer_id.clone(),
            duplicate_customer_id: third.customer_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(into_merged.code(), Code::FailedPrecondition);
    let with_itself = profiles
        .client
        .merge_customers(pb::MergeCustomersRequest {
            survivor_customer_id: third.customer_id.clone(),
            duplicate_customer_id: third.customer_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&with_itself), vec!["duplicate_customer_id"]);
}

async fn a_merge_keeps_every_protection_of_either_record(database: TestDatabase) {
    let mut profiles = start(database).await;
    let a = profiles.create(customer("Ana Popescu")).await;
    let b = profiles.create(customer("Ana Popescu")).await;
    let evenings = pb::QuietHours {
        start: Some(common::TimeOfDay {
            hours: 20,
            minutes: 0,
        }),
        end: Some(common::TimeOfDay {
            hours: 9,
            minutes: 0,
        }),
        days: vec![],
    };
    // A likes SMS; B opted out of SMS and set quiet hours (Reg F §1006.6(e)).
    for (who, preferences) in [
        (
            &a,
            pb::ContactPreferences {
                preferred_channels: vec![common::Channel::Sms as i32],
                ..Default::default()
            },
        ),
        (
            &b,
            pb::ContactPreferences {
                preferred_channels: vec![common::Channel::Email as i32],
                quiet_hours: vec![evenings.clone()],
                do_not_contact_channels: vec![common::Channel::Sms as i32],
                ..Default::default()
            },
        ),
    ] {
        profiles
            .client
            .set_contact_preferences(pb::SetContactPreferencesRequest {
                customer_id: who.customer_id.clone(),
                preferences: Some(preferences),
            })
            .await
            .unwrap();
    }
    // B withdrew marketing; A granted it later: the withdrawal still holds (GDPR art. 21(3)).
    for (who, status, when) in [
        (&b, pb::ConsentStatus::Withdrawn, "2026-01-10T08:00:00Z"),
        (&a, pb::ConsentStatus::Granted, "2026-02-10T08:00:00Z"),
    ] {
        profiles
            .client
            .set_consent(pb::SetConsentRequest {
                consent: Some(pb::Consent {
                    customer_id: who.customer_id.clone(),
                    purpose: pb::ConsentPurpose::Marketing as i32,
                    status: status as i32,
                    source: pb::ConsentSource::Web as i32,
                    decided_at: Some(at(when)),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap();
    }
    // B told us of a bereavement (FCA FG21/1).
    profiles
        .client
        .set_vulnerability(pb::SetVulnerabilityRequest {
            customer_id: b.customer_id.clone(),
            vulnerability: Some(pb::Vulnerability {
                factors: vec![pb::VulnerabilityFactor {
                    driver: pb::VulnerabilityDriver::LifeEvent as i32,
                    detail: "bereavement".into(),
                    temporary: true,
                }],
                customer_consented: true,
                ..Default::default()
            }),
            recorded_by: Some(agent("agent-1")),
        })
        .await
        .unwrap();

    profiles
        .client
        .merge_customers(pb::MergeCustomersRequest {
            survivor_customer_id: a.customer_id.clone(),
            duplicate_customer_id: b.customer_id.clone(),
            reason: "same person".into(),
            request_id: "merge-protections".into(),
        })
        .await
        .unwrap();

    for asked_for in [&a, &b] {
        let survivor = profiles
            .get(&asked_for.customer_id, pb::CustomerView::WithVulnerability)
            .await;
        assert_eq!(survivor.customer_id, a.customer_id);
        let preferences = survivor
            .contact_preferences
            .expect("the survivor keeps preferences");
        assert_eq!(
            preferences.do_not_contact_channels,
            vec![common::Channel::Sms as i32],
            "B's SMS opt-out holds"
        );
        assert_eq!(preferences.quiet_hours, vec![evenings.clone()]);
        assert_eq!(
            preferences.preferred_channels,
            vec![common::Channel::Email as i32],
            "a refused channel is not preferred"
        );
        let vulnerability = survivor.vulnerability.expect("B's vulnerability holds");
        assert_eq!(vulnerability.factors.len(), 1);
        assert_eq!(vulnerability.factors[0].detail, "bereavement");
    }
    let in_force = profiles
        .client
        .list_consents(pb::ListConsentsRequest {
            customer_id: a.customer_id.clone(),
            purpose: pb::ConsentPurpose::Marketing as i32,
            include_history: false,
            page: None,
        })
        .await
        .unwrap()
        .into_inner()
        .consents;
    assert_eq!(in_force.len(), 1);
    assert_eq!(
        in_force[0].status,
        pb::ConsentStatus::Withdrawn as i32,
        "the withdrawal outlives the other record's later grant"
    );
}

async fn export_holds_everything_and_erasure_keeps_only_what_law_requires(database: TestDatabase) {
    let mut profiles = start(database).await;
    let c = profiles
        .create(pb::Customer {
            emails: vec![pb::EmailAddress {
                address: "george.enescu@example.ro".into(),
                ..Default::default()
            }],
            external_refs: vec![pb::ExternalRef {
                system: "core".into(),
                external_id: "G-1".into(),
            }],
            ..customer("George Enescu")
        })
        .await;
    profiles
        .client
        .record_interaction(pb::RecordInteractionRequest {
            interaction: Some(pb::Interaction {
                customer_id: c.customer_id.clone(),
                channel: common::Channel::WebChat as i32,
                summary: "Told us about his new address in Paris.".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    profiles
        .client
        .record_commitment(pb::RecordCommitmentRequest {
            commitment: Some(pb::Commitment {
                customer_id: c.customer_id.clone(),
                description: "Send the new card to Paris".into(),
                promised_by: Some(agent("agent-1")),
                due_date: Some(date(2026, 3, 10)),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    profiles
        .client
        .set_consent(pb::SetConsentRequest {
            consent: Some(pb::Consent {
                customer_id: c.customer_id.clone(),
                purpose: pb::ConsentPurpose::Marketing as i32,
                status: pb::ConsentStatus::Granted as i32,
                source: pb::ConsentSource::Branch as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    profiles
        .client
        .set_vulnerability(pb::SetVulnerabilityRequest {
            customer_id: c.customer_id.clone(),
            vulnerability: Some(pb::Vulnerability {
                needs: vec!["large_print".into()],
                ..Default::default()
            }),
            recorded_by: Some(agent("agent-1")),
        })
        .await
        .unwrap();

    let export = profiles
        .client
        .export_customer(pb::ExportCustomerRequest {
            customer_id: c.customer_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let exported = export.customer.unwrap();
    assert_eq!(exported.emails[0].address, "george.enescu@example.ro");
    assert_eq!(exported.vulnerability.unwrap().needs, vec!["large_print"]);
    assert_eq!(export.interactions.len(), 1);
    assert_eq!(export.commitments.len(), 1);
    assert_eq!(export.consents.len(), 1);

    let erase = pb::EraseCustomerRequest {
        customer_id: c.customer_id.clone(),
        reason: "data-subject request DSR-2026-114".into(),
        request_id: "erase-1".into(),
    };
    let erased = profiles
        .client
        .erase_customer(erase.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(
        erased
            .retained
            .iter()
            .any(|r| r.code == "CONSENT_HISTORY_KEPT")
    );
    // An hour later, so a retry that erased again would show a new time.
    profiles
        .clock
        .advance(rapport_clock::SignedDuration::from_hours(1));
    let again = profiles
        .client
        .erase_customer(erase)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        again.erased_at, erased.erased_at,
        "erasing twice is a retry"
    );

    assert!(
        profiles.search_name("enescu").await.is_empty(),
        "search no longer finds them"
    );
    let by_email = profiles
        .client
        .search_customers(pb::SearchCustomersRequest {
            email: "george.enescu@example.ro".into(),
            include_closed: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert!(by_email.is_empty());
    let after = profiles
        .client
        .export_customer(pb::ExportCustomerRequest {
            customer_id: c.customer_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let left = after.customer.unwrap();
    assert_eq!(left.status, pb::CustomerStatus::Erased as i32);
    assert!(!left.legal_name.contains("Enescu"));
    assert!(left.emails.is_empty());
    assert!(left.vulnerability.is_none());
    assert_eq!(left.external_refs.len(), 1, "kept: records retention");
    assert!(after.interactions[0].summary.is_empty());
    assert!(!after.commitments[0].description.contains("Paris"));
    assert_eq!(after.consents.len(), 1, "kept: proof of consent");

    let no_new_data = profiles
        .client
        .record_interaction(pb::RecordInteractionRequest {
            interaction: Some(pb::Interaction {
                customer_id: c.customer_id.clone(),
                channel: common::Channel::Phone as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(no_new_data.code(), Code::FailedPrecondition);
    assert_eq!(
        profiles
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'profiles.customer_erased.v1'")
            .await,
        1
    );
}

async fn the_customers_time_zone_decides_the_tenure_start_date(database: TestDatabase) {
    let mut profiles = start(database).await;
    // 2026-02-28 12:00 UTC is already 1 March in Auckland and still 28 February in Los Angeles.
    profiles.clock.set("2026-02-28T12:00:00Z".parse().unwrap());
    let joined_today = |zone: &str| pb::Customer {
        time_zone: zone.into(),
        customer_since: None,
        ..customer(zone)
    };
    let auckland = profiles.create(joined_today("Pacific/Auckland")).await;
    let los_angeles = profiles.create(joined_today("America/Los_Angeles")).await;
    assert_eq!(auckland.customer_since, Some(date(2026, 3, 1)));
    assert_eq!(los_angeles.customer_since, Some(date(2026, 2, 28)));

    let first = profiles
        .client
        .list_anniversaries(pb::ListAnniversariesRequest {
            range: Some(common::DateRange {
                start: Some(date(2027, 3, 1)),
                end: Some(date(2027, 3, 1)),
            }),
            page: None,
        })
        .await
        .unwrap()
        .into_inner()
        .anniversaries;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].customer_id, auckland.customer_id);
    assert_eq!(first[0].tenure_years, 1);
}

backend_tests!(
    the_customers_time_zone_decides_the_tenure_start_date,
    anniversaries_fall_in_the_range_with_whole_years,
    merging_moves_everything_and_the_old_id_resolves_to_the_survivor,
    a_merge_keeps_every_protection_of_either_record,
    export_holds_everything_and_erasure_keeps_only_what_law_requires,
);
