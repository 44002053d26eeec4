//! Consent, contact preferences and vulnerability.

use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::support::{agent, at, customer, date, start, violated_fields};

async fn consent_history_is_kept_and_the_latest_decision_is_in_force(database: TestDatabase) {
    let mut profiles = start(database).await;
    let c = profiles.create(customer("Ana Blandiana")).await;
    let decide = |purpose: pb::ConsentPurpose, status: pb::ConsentStatus, when: &str| {
        pb::SetConsentRequest {
            consent: Some(pb::Consent {
                customer_id: c.customer_id.clone(),
                purpose: purpose as i32,
                status: status as i32,
                source: pb::ConsentSource::MobileApp as i32,
                source_detail: "settings screen v3".into(),
                decided_at: Some(at(when)),
                ..Default::default()
            }),
            request_id: String::new(),
        }
    };
    for (purpose, status, when) in [
        (
            pb::ConsentPurpose::Marketing,
            pb::ConsentStatus::Granted,
            "2025-01-10T08:00:00Z",
        ),
        (
            pb::ConsentPurpose::Surveys,
            pb::ConsentStatus::Granted,
            "2025-01-10T08:00:00Z",
        ),
        (
            pb::ConsentPurpose::Marketing,
            pb::ConsentStatus::Withdrawn,
            "2025-06-01T08:00:00Z",
        ),
    ] {
        profiles
            .client
            .set_consent(decide(purpose, status, when))
            .await
            .unwrap();
    }
    let list = |include_history: bool| pb::ListConsentsRequest {
        customer_id: c.customer_id.clone(),
        purpose: 0,
        include_history,
        page: None,
    };
    let current = profiles
        .client
        .list_consents(list(false))
        .await
        .unwrap()
        .into_inner()
        .consents;
    let current: Vec<(i32, i32)> = current.iter().map(|c| (c.purpose, c.status)).collect();
    assert_eq!(
        current,
        vec![
            (
                pb::ConsentPurpose::Marketing as i32,
                pb::ConsentStatus::Withdrawn as i32
            ),
            (
                pb::ConsentPurpose::Surveys as i32,
                pb::ConsentStatus::Granted as i32
            ),
        ]
    );
    let history = profiles
        .client
        .list_consents(list(true))
        .await
        .unwrap()
        .into_inner()
        .consents;
    assert_eq!(history.len(), 3, "every decision is kept");
    assert_eq!(
        history[0].status,
        pb::ConsentStatus::Withdrawn as i32,
        "newest first"
    );
    assert_eq!(history[0].source_detail, "settings screen v3");

    let unset = profiles
        .client
        .set_consent(pb::SetConsentRequest {
            consent: Some(pb::Consent {
                customer_id: c.customer_id.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&unset),
        vec!["consent.purpose", "consent.status", "consent.source"]
    );
    assert_eq!(profiles.count("SELECT COUNT(*) FROM consents").await, 3);
    assert_eq!(
        profiles
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'profiles.consent_changed.v1'")
            .await,
        3
    );
}

async fn contact_preferences_show_in_the_full_view(database: TestDatabase) {
    let mut profiles = start(database).await;
    let c = profiles.create(customer("Lucian Blaga")).await;
    let preferences = pb::ContactPreferences {
        preferred_channels: vec![common::Channel::Email as i32, common::Channel::Sms as i32],
        quiet_hours: vec![pb::QuietHours {
            start: Some(common::TimeOfDay {
                hours: 20,
                minutes: 0,
            }),
            end: Some(common::TimeOfDay {
                hours: 9,
                minutes: 30,
            }),
            days: vec![
                common::DayOfWeek::Saturday as i32,
                common::DayOfWeek::Sunday as i32,
            ],
        }],
        do_not_contact_channels: vec![common::Channel::Phone as i32],
        do_not_contact: false,
        updated_at: None,
    };
    profiles
        .client
        .set_contact_preferences(pb::SetContactPreferencesRequest {
            customer_id: c.customer_id.clone(),
            preferences: Some(preferences.clone()),
        })
        .await
        .unwrap();
    let full = profiles.get(&c.customer_id, pb::CustomerView::Full).await;
    let stored = full.contact_preferences.unwrap();
    assert_eq!(stored.preferred_channels, preferences.preferred_channels);
    assert_eq!(stored.quiet_hours, preferences.quiet_hours);
    assert_eq!(
        stored.do_not_contact_channels,
        preferences.do_not_contact_channels
    );
    assert!(
        profiles
            .get(&c.customer_id, pb::CustomerView::Basic)
            .await
            .contact_preferences
            .is_none()
    );

    let bad = profiles
        .client
        .set_contact_preferences(pb::SetContactPreferencesRequest {
            customer_id: c.customer_id.clone(),
            preferences: Some(pb::ContactPreferences {
                preferred_channels: vec![
                    common::Channel::Email as i32,
                    common::Channel::Email as i32,
                ],
                quiet_hours: vec![pb::QuietHours {
                    start: Some(common::TimeOfDay {
                        hours: 25,
                        minutes: 0,
                    }),
                    end: Some(common::TimeOfDay {
                        hours: 7,
                        minutes: 0,
                    }),
                    days: vec![],
                }],
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&bad),
        vec![
            "preferences.preferred_channels[1]",
            "preferences.quiet_hours[0].start"
        ]
    );
}

async fn vulnerability_is_returned_only_when_asked_for(database: TestDatabase) {
    let mut profiles = start(database).await;
    let c = profiles.create(customer("Nichita Stănescu")).await;
    profiles
        .client
        .set_vulnerability(pb::SetVulnerabilityRequest {
            customer_id: c.customer_id.clone(),
            vulnerability: Some(pb::Vulnerability {
                factors: vec![pb::VulnerabilityFactor {
                    driver: pb::VulnerabilityDriver::LifeEvent as i32,
                    detail: "bereavement".into(),
                    temporary: true,
                }],
                needs: vec!["specialist_team".into()],
                notes: "Prefers email; call only after 11:00.".into(),
                review_date: Some(date(2026, 9, 1)),
                customer_consented: true,
                ..Default::default()
            }),
            recorded_by: Some(agent("agent-9")),
        })
        .await
        .unwrap();
    for view in [
        pb::CustomerView::Unspecified,
        pb::CustomerView::Basic,
        pb::CustomerView::Full,
    ] {
        assert!(
            profiles
                .get(&c.customer_id, view)
                .await
                .vulnerability
                .is_none(),
            "{view:?}"
        );
    }
    let found = profiles.search_name("nichita").await;
    assert!(
        found[0].vulnerability.is_none(),
        "search never shows it either"
    );
    let restricted = profiles
        .get(&c.customer_id, pb::CustomerView::WithVulnerability)
        .await;
    let v = restricted.vulnerability.unwrap();
    assert_eq!(v.factors[0].detail, "bereavement");
    assert_eq!(v.recorded_by.unwrap().id, "agent-9");
    // The event says something changed, never what.
    assert_eq!(
        profiles
            .count("SELECT COUNT(*) FROM outbox WHERE payload LIKE '%bereavement%'")
            .await,
        0
    );

    profiles
        .client
        .clear_vulnerability(pb::ClearVulnerabilityRequest {
            customer_id: c.customer_id.clone(),
            reason: "recovered; reviewed with the customer".into(),
            cleared_by: Some(agent("agent-9")),
        })
        .await
        .unwrap();
    assert!(
        profiles
            .get(&c.customer_id, pb::CustomerView::WithVulnerability)
            .await
            .vulnerability
            .is_none()
    );

    let empty = profiles
        .client
        .set_vulnerability(pb::SetVulnerabilityRequest {
            customer_id: c.customer_id.clone(),
            vulnerability: Some(pb::Vulnerability::default()),
            recorded_by: Some(agent("agent-9")),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&empty), vec!["vulnerability"]);
}

backend_tests!(
    consent_history_is_kept_and_the_latest_decision_is_in_force,
    contact_preferences_show_in_the_full_view,
    vulnerability_is_returned_only_when_asked_for,
);
