//! Customers: create, read, update, search, upsert from core banking.

use futures_util::future::join_all;
use rapport_proto::profiles::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::support::{customer, start, violated_fields};

async fn names_in_any_script_round_trip_byte_exact(database: TestDatabase) {
    let mut profiles = start(database).await;
    for name in [
        "Ștefan Popescu",
        "Łukasz Łukasiewicz",
        "Jūratė Kazlauskienė",
        "Núria Puig i Roca",
        "李小龍",
        "Дмитрий Иванов",
        "محمد بن علي",
        "Ἀριστοτέλης",
        // decomposed "José": must come back decomposed, not normalised
        "Jose\u{301} Garci\u{301}a",
        "  spaced  out  ",
    ] {
        let created = profiles.create(customer(name)).await;
        let read = profiles
            .get(&created.customer_id, pb::CustomerView::Basic)
            .await;
        assert_eq!(read.legal_name.as_bytes(), name.as_bytes(), "{name}");
    }
}

async fn search_ignores_case_and_diacritics(database: TestDatabase) {
    let mut profiles = start(database).await;
    for name in [
        "Ștefan Popescu",
        "Jan Łukasiewicz",
        "Jūratė Kazlauskienė",
        "Núria Puig",
        "Stela Ionescu",
    ] {
        profiles.create(customer(name)).await;
    }
    for (query, expected) in [
        ("stefan", "Ștefan Popescu"),
        ("STEFAN popescu", "Ștefan Popescu"),
        ("popescu stefan", "Ștefan Popescu"),
        ("lukasiewicz", "Jan Łukasiewicz"),
        ("jurate", "Jūratė Kazlauskienė"),
        ("nuria", "Núria Puig"),
        ("Núria", "Núria Puig"),
    ] {
        let found: Vec<String> = profiles
            .search_name(query)
            .await
            .into_iter()
            .map(|c| c.legal_name)
            .collect();
        assert_eq!(found, vec![expected.to_owned()], "search {query:?}");
    }
    assert!(profiles.search_name("nobody").await.is_empty());
    // Wildcards are not letters: "%%" cannot mean "match everyone".
    let wildcard = profiles
        .client
        .search_customers(pb::SearchCustomersRequest {
            name: "%%".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&wildcard), vec!["name"]);
}

async fn search_by_email_phone_and_reference(database: TestDatabase) {
    let mut profiles = start(database).await;
    let mut ana = customer("Ana Pop");
    ana.emails = vec![pb::EmailAddress {
        address: "Ana.Pop@Example.RO".into(),
        verified: true,
        primary: true,
    }];
    ana.phones = vec![pb::PhoneNumber {
        e164: "+40 721 234 567".into(),
        verified: false,
        primary: true,
    }];
    ana.external_refs = vec![pb::ExternalRef {
        system: "core-banking".into(),
        external_id: "CB-1001".into(),
    }];
    let ana = profiles.create(ana).await;
    profiles.create(customer("Other Person")).await;
    let search = |request: pb::SearchCustomersRequest| {
        let mut client = profiles.client.clone();
        async move {
            client
                .search_customers(request)
                .await
                .unwrap()
                .into_inner()
                .customers
        }
    };
    let by_email = search(pb::SearchCustomersRequest {
        email: "ana.pop@example.ro".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].customer_id, ana.customer_id);
    let by_phone = search(pb::SearchCustomersRequest {
        phone: "+40721234567".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_phone.len(), 1);
    let by_ref = search(pb::SearchCustomersRequest {
        external_ref: Some(pb::ExternalRef {
            system: "core-banking".into(),
            external_id: "CB-1001".into(),
        }),
        view: pb::CustomerView::Full as i32,
        ..Default::default()
    })
    .await;
    assert_eq!(by_ref.len(), 1);
    assert_eq!(
        by_ref[0].phones[0].e164, "+40721234567",
        "stored normalised"
    );
    assert_eq!(
        by_ref[0].emails[0].address, "Ana.Pop@example.ro",
        "domain lowercased, local part kept"
    );
    // Criteria combine with AND.
    let both = search(pb::SearchCustomersRequest {
        name: "other".into(),
        phone: "+40721234567".into(),
        ..Default::default()
    })
    .await;
    assert!(both.is_empty());
}

async fn search_pages_are_stable_and_bounded(database: TestDatabase) {
    let mut profiles = start(database).await;
    for i in 0..5 {
        profiles
            .create(customer(&format!("Maria Ionescu {i}")))
            .await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    for _ in 0..3 {
        let response = profiles
            .client
            .search_customers(pb::SearchCustomersRequest {
                name: "maria".into(),
                page: Some(rapport_proto::common::v1::PageRequest {
                    page_size: 2,
                    page_token: token.clone(),
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(response.customers.len() <= 2);
        seen.extend(response.customers.into_iter().map(|c| c.customer_id));
        token = response.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
        // A customer added between pages does not shift what the next page holds.
        profiles.create(customer("Zed Other")).await;
    }
    assert!(token.is_empty(), "three pages of two hold five");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "{seen:?}");

    let too_big = profiles
        .client
        .search_customers(pb::SearchCustomersRequest {
            name: "maria".into(),
            page: Some(rapport_proto::common::v1::PageRequest {
                page_size: 101,
                page_token: String::new(),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(too_big.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&too_big), vec!["page.page_size"]);
    let forged = profiles
        .client
        .search_customers(pb::SearchCustomersRequest {
            name: "maria".into(),
            page: Some(rapport_proto::common::v1::PageRequest {
                page_size: 2,
                page_token: "not-a-token".into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&forged), vec!["page.page_token"]);
    let empty = profiles
        .client
        .search_customers(pb::SearchCustomersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
}

async fn bad_input_names_the_field_and_changes_nothing(database: TestDatabase) {
    let mut profiles = start(database).await;
    let cases: Vec<(pb::Customer, &str)> = vec![
        (
            pb::Customer {
                emails: vec![pb::EmailAddress {
                    address: "ana@".into(),
                    ..Default::default()
                }],
                ..customer("Ana")
            },
            "customer.emails[0].address",
        ),
        (
            pb::Customer {
                phones: vec![pb::PhoneNumber {
                    e164: "0721 234 567".into(),
                    ..Default::default()
                }],
                ..customer("Ana")
            },
            "customer.phones[0].e164",
        ),
        (
            pb::Customer {
                time_zone: "Europe/Atlantis".into(),
                ..customer("Ana")
            },
            "customer.time_zone",
        ),
        (
            pb::Customer {
                locale: "romanian".into(),
                ..customer("Ana")
            },
            "customer.locale",
        ),
        (customer("   "), "customer.legal_name"),
        (
            pb::Customer {
                customer_since: Some(crate::support::date(2026, 2, 30)),
                ..customer("Ana")
            },
            "customer.customer_since",
        ),
        (
            pb::Customer {
                customer_since: Some(crate::support::date(2030, 1, 1)),
                ..customer("Ana")
            },
            "customer.customer_since",
        ),
    ];
    for (bad, field) in cases {
        let status = profiles
            .client
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(bad),
                request_id: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(
            violated_fields(&status),
            vec![field.to_owned()],
            "{status:?}"
        );
    }
    // Several mistakes at once are all reported.
    let status = profiles
        .client
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(pb::Customer {
                legal_name: String::new(),
                locale: "x".into(),
                time_zone: "nowhere".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        vec![
            "customer.legal_name",
            "customer.locale",
            "customer.time_zone"
        ]
    );
    assert_eq!(profiles.count("SELECT COUNT(*) FROM customers").await, 0);
    assert_eq!(profiles.count("SELECT COUNT(*) FROM outbox").await, 0);

    let unknown = profiles
        .client
        .get_customer(pb::GetCustomerRequest {
            customer_id: rapport_ids::Id::new().to_string(),
            view: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let malformed = profiles
        .client
        .get_customer(pb::GetCustomerRequest {
            customer_id: "42".into(),
            view: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&malformed), vec!["customer_id"]);
}

async fn create_is_idempotent_by_request_id_and_references_are_unique(database: TestDatabase) {
    let mut profiles = start(database).await;
    let with_ref = pb::Customer {
        external_refs: vec![pb::ExternalRef {
            system: "core".into(),
            external_id: "7".into(),
        }],
        ..customer("Ion Creangă")
    };
    let create = |request_id: &str, customer: pb::Customer| pb::CreateCustomerRequest {
        customer: Some(customer),
        request_id: request_id.into(),
    };
    let first = profiles
        .client
        .create_customer(create("req-1", with_ref.clone()))
        .await
        .unwrap()
        .into_inner();
    let again = profiles
        .client
        .create_customer(create("req-1", with_ref.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        first.customer.unwrap().customer_id,
        again.customer.unwrap().customer_id
    );
    let taken = profiles
        .client
        .create_customer(create("req-2", with_ref))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists, "{taken:?}");
    assert_eq!(profiles.count("SELECT COUNT(*) FROM customers").await, 1);
}

async fn update_applies_only_the_masked_fields(database: TestDatabase) {
    let mut profiles = start(database).await;
    let created = profiles.create(customer("Elena Dumitru")).await;
    let update = |paths: Vec<&str>, customer: pb::Customer| pb::UpdateCustomerRequest {
        customer: Some(customer),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.into_iter().map(str::to_owned).collect(),
        }),
    };
    let changed = profiles
        .client
        .update_customer(update(
            vec!["preferred_name"],
            pb::Customer {
                customer_id: created.customer_id.clone(),
                preferred_name: "Lena".into(),
                // not in the mask: ignored, even though invalid
                locale: "not a locale".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(changed.preferred_name, "Lena");
    assert_eq!(changed.legal_name, "Elena Dumitru");
    assert_eq!(changed.locale, "ro-RO");
    assert!(
        profiles.search_name("lena").await.len() == 1,
        "preferred names are searchable"
    );

    let unknown = profiles
        .client
        .update_customer(update(
            vec!["preferred_name", "shoe_size"],
            pb::Customer {
                customer_id: created.customer_id.clone(),
                preferred_name: "Leni".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&unknown), vec!["update_mask.paths[1]"]);
    let no_mask = profiles
        .client
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(pb::Customer {
                customer_id: created.customer_id.clone(),
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&no_mask), vec!["update_mask"]);
    let read = profiles
        .get(&created.customer_id, pb::CustomerView::Basic)
        .await;
    assert_eq!(
        read.preferred_name, "Lena",
        "the refused update changed nothing"
    );
    let missing = profiles
        .client
        .update_customer(update(
            vec!["preferred_name"],
            pb::Customer {
                customer_id: rapport_ids::Id::new().to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

async fn concurrent_identical_upserts_create_exactly_one_customer(database: TestDatabase) {
    let profiles = start(database).await;
    let request = pb::UpsertCustomerByExternalRefRequest {
        external_ref: Some(pb::ExternalRef {
            system: "core-banking".into(),
            external_id: "CB-42".into(),
        }),
        customer: Some(customer("Mihai Eminescu")),
        update_mask: None,
    };
    let calls = (0..8).map(|_| {
        let mut client = profiles.client.clone();
        let request = request.clone();
        async move {
            client
                .upsert_customer_by_external_ref(request)
                .await
                .unwrap()
                .into_inner()
        }
    });
    let answers = join_all(calls).await;
    let ids: std::collections::BTreeSet<_> = answers
        .iter()
        .map(|a| a.customer.clone().unwrap().customer_id)
        .collect();
    assert_eq!(ids.len(), 1, "one customer for one reference");
    assert_eq!(
        answers.iter().filter(|a| a.created).count(),
        1,
        "exactly one call created it"
    );
    assert_eq!(profiles.count("SELECT COUNT(*) FROM customers").await, 1);
    assert_eq!(
        profiles
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'profiles.customer_created.v1'")
            .await,
        1
    );
}

async fn upsert_updates_what_core_banking_owns(database: TestDatabase) {
    let mut profiles = start(database).await;
    let reference = pb::ExternalRef {
        system: "core-banking".into(),
        external_id: "CB-7".into(),
    };
    let first = profiles
        .client
        .upsert_customer_by_external_ref(pb::UpsertCustomerByExternalRefRequest {
            external_ref: Some(reference.clone()),
            customer: Some(customer("Ioana Radu")),
            update_mask: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(first.created);
    let id = first.customer.unwrap().customer_id;
    profiles
        .client
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(pb::Customer {
                customer_id: id.clone(),
                preferred_name: "Ioni".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["preferred_name".into()],
            }),
        })
        .await
        .unwrap();
    let second = profiles
        .client
        .upsert_customer_by_external_ref(pb::UpsertCustomerByExternalRefRequest {
            external_ref: Some(reference),
            customer: Some(customer("Ioana Radu-Popa")),
            update_mask: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!second.created);
    let updated = second.customer.unwrap();
    assert_eq!(updated.customer_id, id);
    assert_eq!(updated.legal_name, "Ioana Radu-Popa");
    assert_eq!(
        updated.preferred_name, "Ioni",
        "the customer's own choice is not core banking's to overwrite"
    );
    assert_eq!(updated.external_refs.len(), 1);
}

backend_tests!(
    names_in_any_script_round_trip_byte_exact,
    search_ignores_case_and_diacritics,
    search_by_email_phone_and_reference,
    search_pages_are_stable_and_bounded,
    bad_input_names_the_field_and_changes_nothing,
    create_is_idempotent_by_request_id_and_references_are_unique,
    update_applies_only_the_masked_fields,
    concurrent_identical_upserts_create_exactly_one_customer,
    upsert_updates_what_core_banking_owns,
);
