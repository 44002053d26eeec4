//! Name search by key (issue 23): the keys follow every write that changes a name or whether a
//! customer can be found, in the same transaction, on both backends.

use rapport_proto::profiles::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::support::{Profiles, customer, start};

fn names(found: &[pb::Customer]) -> Vec<String> {
    found.iter().map(|c| c.legal_name.clone()).collect()
}

async fn rename(profiles: &mut Profiles, customer_id: &str, legal: &str, preferred: &str) {
    profiles
        .client
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(pb::Customer {
                customer_id: customer_id.into(),
                legal_name: legal.into(),
                preferred_name: preferred.into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["legal_name".into(), "preferred_name".into()],
            }),
        })
        .await
        .unwrap();
}

/// The keys stored for one customer, as the database holds them.
async fn stored_keys(profiles: &Profiles, customer_id: &str) -> i64 {
    let storage = rapport_storage::Storage::open(&profiles.database.settings).unwrap();
    let (n,): (i64,) = rapport_storage::sqlx::query_as(
        "SELECT COUNT(*) FROM customer_name_keys WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_one(storage.reader())
    .await
    .unwrap();
    storage.close().await;
    n
}

async fn a_word_finds_names_it_begins_in_any_order_and_script(database: TestDatabase) {
    let mut profiles = start(database).await;
    for name in [
        "Ana Maria Popescu",
        "Ioana Popa",
        "Δημήτρης Παπαδόπουλος",
        "Дмитрий Иванов",
        "李小龍",
        "김민준",
        "やまだたろう",
        "Zoltán Popescu",
    ] {
        profiles.create(customer(name)).await;
    }
    for (query, expected) in [
        (
            "pop",
            vec!["Ana Maria Popescu", "Ioana Popa", "Zoltán Popescu"],
        ),
        ("POPESCU", vec!["Ana Maria Popescu", "Zoltán Popescu"]),
        ("popescu zoltan", vec!["Zoltán Popescu"]),
        ("zo popescu", vec!["Zoltán Popescu"]),
        ("mari ana", vec!["Ana Maria Popescu"]),
        ("δημητρης παπα", vec!["Δημήτρης Παπαδόπουλος"]),
        ("ДМИТ", vec!["Дмитрий Иванов"]),
        ("李小", vec!["李小龍"]),
        // Scripts written without spaces: a given name is found inside the whole name.
        ("小龍", vec!["李小龍"]),
        ("민준", vec!["김민준"]),
        ("たろう", vec!["やまだたろう"]),
        // Spaced scripts: a query word begins a word of the name; it is not any substring.
        ("escu", vec![]),
        ("龍小", vec![]),
        ("popescu ioana", vec![]),
        ("zzz popescu", vec![]),
    ] {
        let mut found = names(&profiles.search_name(query).await);
        found.sort();
        assert_eq!(found, expected, "search {query:?}");
    }
}

async fn an_updated_name_is_found_by_its_new_words_only(database: TestDatabase) {
    let mut profiles = start(database).await;
    let ana = profiles.create(customer("Ana Ionescu")).await;
    assert_eq!(profiles.search_name("ionescu").await.len(), 1);

    rename(&mut profiles, &ana.customer_id, "Ana Vasilescu", "Anca").await;
    assert!(
        profiles.search_name("ionescu").await.is_empty(),
        "the old surname finds no one"
    );
    assert_eq!(
        names(&profiles.search_name("vasilescu").await),
        ["Ana Vasilescu"]
    );
    assert_eq!(
        profiles.search_name("anca").await.len(),
        1,
        "the preferred name is searchable"
    );

    rename(&mut profiles, &ana.customer_id, "Ana Vasilescu", "").await;
    assert!(profiles.search_name("anca").await.is_empty());
    assert_eq!(profiles.search_name("ana vasi").await.len(), 1);
}

async fn core_bankings_upserts_keep_the_name_keys_current(database: TestDatabase) {
    let mut profiles = start(database).await;
    let reference = pb::ExternalRef {
        system: "core-banking".into(),
        external_id: "CB-23".into(),
    };
    for legal_name in ["Ioana Radu", "Ioana Rădulescu"] {
        profiles
            .client
            .upsert_customer_by_external_ref(pb::UpsertCustomerByExternalRefRequest {
                external_ref: Some(reference.clone()),
                customer: Some(customer(legal_name)),
                update_mask: None,
            })
            .await
            .unwrap();
    }
    assert_eq!(
        names(&profiles.search_name("radulescu").await),
        ["Ioana Rădulescu"]
    );
    assert_eq!(
        profiles.search_name("radu").await.len(),
        1,
        "a word start of the new name, one customer"
    );
    assert!(profiles.search_name("ioana radu x").await.is_empty());
}

async fn a_merged_away_customer_is_found_only_as_the_survivor(database: TestDatabase) {
    let mut profiles = start(database).await;
    let survivor = profiles.create(customer("Mihai Tănase")).await;
    let duplicate = profiles.create(customer("Mihail Tanasescu")).await;
    assert_eq!(profiles.search_name("tanase").await.len(), 2);
    profiles
        .client
        .merge_customers(pb::MergeCustomersRequest {
            survivor_customer_id: survivor.customer_id.clone(),
            duplicate_customer_id: duplicate.customer_id.clone(),
            reason: "same person".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let found = profiles.search_name("tanase").await;
    assert_eq!(names(&found), ["Mihai Tănase"]);
    assert!(profiles.search_name("tanasescu").await.is_empty());
    assert_eq!(
        stored_keys(&profiles, &duplicate.customer_id).await,
        0,
        "the merged-away record keeps no keys"
    );
}

async fn an_erased_customer_is_not_found_by_old_name_and_keeps_no_keys(database: TestDatabase) {
    let mut profiles = start(database).await;
    let survivor = profiles.create(customer("Elena Enescu")).await;
    let duplicate = profiles.create(customer("Elena Enescu-Popa")).await;
    let other = profiles.create(customer("Elena Enache")).await;
    profiles
        .client
        .merge_customers(pb::MergeCustomersRequest {
            survivor_customer_id: survivor.customer_id.clone(),
            duplicate_customer_id: duplicate.customer_id.clone(),
            reason: "same person".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    assert!(stored_keys(&profiles, &survivor.customer_id).await > 0);
    profiles
        .client
        .erase_customer(pb::EraseCustomerRequest {
            customer_id: survivor.customer_id.clone(),
            reason: "data-subject request".into(),
            request_id: "erase-1".into(),
        })
        .await
        .unwrap();
    assert!(profiles.search_name("enescu").await.is_empty());
    assert!(profiles.search_name("elena enescu popa").await.is_empty());
    // The pseudonym is not a name anyone is found by either.
    assert!(profiles.search_name("erased customer").await.is_empty());
    assert_eq!(
        names(&profiles.search_name("elena").await),
        ["Elena Enache"]
    );
    for id in [&survivor.customer_id, &duplicate.customer_id] {
        assert_eq!(stored_keys(&profiles, id).await, 0, "no keys left for {id}");
    }
    assert!(stored_keys(&profiles, &other.customer_id).await > 0);
}

async fn closing_and_reopening_keeps_the_customer_findable_with_include_closed(
    database: TestDatabase,
) {
    let mut profiles = start(database).await;
    let c = profiles.create(customer("Radu Stoica")).await;
    profiles
        .client
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(pb::Customer {
                customer_id: c.customer_id.clone(),
                status: pb::CustomerStatus::Closed as i32,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["status".into()],
            }),
        })
        .await
        .unwrap();
    assert!(profiles.search_name("stoica").await.is_empty());
    let with_closed = profiles
        .client
        .search_customers(pb::SearchCustomersRequest {
            name: "stoica radu".into(),
            include_closed: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(names(&with_closed), ["Radu Stoica"]);
}

async fn pages_of_a_common_name_follow_the_key_in_id_order(database: TestDatabase) {
    let mut profiles = start(database).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let name = format!("Ion Popescu {}", ["A", "B", "C", "D", "E", "F", "G"][i]);
        ids.push(profiles.create(customer(&name)).await.customer_id);
        profiles.create(customer(&format!("Ion Ionescu {i}"))).await;
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = profiles
            .client
            .search_customers(pb::SearchCustomersRequest {
                name: "ion pop".into(),
                page: Some(rapport_proto::common::v1::PageRequest {
                    page_size: 3,
                    page_token: token.clone(),
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.customers.iter().map(|c| c.customer_id.clone()));
        token = page.page.map(|p| p.next_page_token).unwrap_or_default();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ids);
}

/// Every key of every customer, as (key, customer) pairs in order.
async fn all_keys(storage: &rapport_storage::Storage) -> Vec<(String, String)> {
    rapport_storage::sqlx::query_as(
        "SELECT name_key, customer_id FROM customer_name_keys ORDER BY name_key, customer_id",
    )
    .fetch_all(storage.reader())
    .await
    .unwrap()
}

/// Migration 8's SQL backfills the long keys the Rust rule writes (`domain::names::name_keys`),
/// no more, no fewer, for names in spaced and unspaced scripts.
async fn the_long_keys_backfill_agrees_with_the_rule(database: TestDatabase) {
    let mut profiles = start(database).await;
    for name in [
        "Hubert Wolfeschlegelsteinhausen",
        "Jan Łukasiewicz",
        "Ana Maria Popescu",
        "Δημήτρης Παπαδόπουλος",
        "やまだたろうさん",
        "Großsánmann Morgenstern",
    ] {
        profiles.create(customer(name)).await;
    }
    // A long word is found by its start, by the word itself and by a start of 8 or more.
    for query in ["wolfeschlegelstein", "lukasiewicz", "grosssanm"] {
        let found = profiles.search_name(query).await;
        assert_eq!(found.len(), 1, "{query}");
    }
    let storage = rapport_storage::Storage::open(&profiles.database.settings).unwrap();
    let written = all_keys(&storage).await;
    assert!(written.iter().any(|(key, _)| key == "wolfeschlege"));
    let mut tx = storage.begin_write().await.unwrap();
    rapport_storage::sqlx::query("DELETE FROM customer_name_keys WHERE length(name_key) > 6")
        .execute(&mut *tx)
        .await
        .unwrap();
    rapport_storage::sqlx::query(include_str!("../../migrations/0008_long_name_keys.sql"))
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(all_keys(&storage).await, written);
    storage.close().await;
}

backend_tests!(
    the_long_keys_backfill_agrees_with_the_rule,
    a_word_finds_names_it_begins_in_any_order_and_script,
    an_updated_name_is_found_by_its_new_words_only,
    core_bankings_upserts_keep_the_name_keys_current,
    a_merged_away_customer_is_found_only_as_the_survivor,
    an_erased_customer_is_not_found_by_old_name_and_keeps_no_keys,
    closing_and_reopening_keeps_the_customer_findable_with_include_closed,
    pages_of_a_common_name_follow_the_key_in_id_order,
);
