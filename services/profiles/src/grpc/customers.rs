//! Customers: create, upsert from core banking, read, update, search, anniversaries.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::profiles::v1 as pb;

use super::convert::{self, customer_to_pb, date_to_pb, field_value};
use super::{ProfileApi, commit, live_customer, not_found};
use crate::domain::customer::{
    Customer, CustomerField, CustomerStatus, ExternalRef, FieldValue, Profile, View,
};
use crate::domain::events::ProfileEvent;
use crate::domain::tenure;
use crate::error::ProfilesError;
use crate::store::{self, customers::SearchCriteria};
use rapport_paging::Page;

/// Fields core banking owns: what an upsert without a mask overwrites. The customer's own
/// choices (preferred name) and our references stay.
const CORE_BANKING_FIELDS: [CustomerField; 8] = [
    CustomerField::LegalName,
    CustomerField::Locale,
    CustomerField::TimeZone,
    CustomerField::Emails,
    CustomerField::Phones,
    CustomerField::Addresses,
    CustomerField::CustomerSince,
    CustomerField::Status,
];

/// Longest date range one anniversaries query may span.
const MAX_ANNIVERSARY_RANGE_DAYS: i32 = 366;

impl ProfileApi {
    /// A new profile from every field of `customer`; a missing tenure start means "today" in the
    /// customer's time zone.
    fn new_profile(
        &self,
        customer: Option<&pb::Customer>,
        field: &str,
        validation: &mut Validation,
    ) -> Option<Profile> {
        let Some(customer) = customer else {
            validation.add(field, "is required");
            return None;
        };
        let mut values = Vec::new();
        for f in CustomerField::ALL {
            if f == CustomerField::CustomerSince && customer.customer_since.is_none() {
                continue;
            }
            values.push(field_value(f, customer, field, validation));
        }
        let values: Vec<FieldValue> = values.into_iter().collect::<Option<_>>()?;
        let mut since = None;
        let mut time_zone = None;
        for value in &values {
            match value {
                FieldValue::CustomerSince(d) => since = Some(*d),
                FieldValue::TimeZone(tz) => time_zone = Some(tz.clone()),
                _ => {}
            }
        }
        let time_zone = time_zone?;
        let today = tenure::today_in(&time_zone.time_zone(), self.now());
        if let Some(since) = since
            && since > today
        {
            validation.add(
                format!("{field}.customer_since"),
                "must not be in the future",
            );
            return None;
        }
        let mut profile = Profile {
            legal_name: String::new(),
            preferred_name: String::new(),
            locale: crate::domain::contact::Locale::parse("und").ok()?,
            time_zone,
            emails: Vec::new(),
            phones: Vec::new(),
            addresses: Vec::new(),
            customer_since: since.unwrap_or(today),
            status: CustomerStatus::Active,
            external_refs: Vec::new(),
        };
        for value in values {
            profile.apply(value);
        }
        Some(profile)
    }

    #[tracing::instrument(skip_all)]
    pub(super) async fn create(
        &self,
        request: pb::CreateCustomerRequest,
    ) -> Result<pb::CreateCustomerResponse, ProfilesError> {
        let mut validation = Validation::new();
        let request_id = convert::request_id("request_id", &request.request_id, &mut validation);
        let profile = self.new_profile(request.customer.as_ref(), "customer", &mut validation);
        validation.clone().finish()?;
        let profile = profile.ok_or(ProfilesError::Invalid(validation))?;

        let mut tx = self.write().await?;
        if let Some(request_id) = &request_id
            && let Some(existing) =
                store::customers::id_by_create_request(&mut tx, request_id).await?
        {
            // A retried create answers with what the first call created.
            let customer = store::customers::resolve(&mut tx, existing, View::Full)
                .await?
                .ok_or_else(|| not_found(existing))?;
            return Ok(pb::CreateCustomerResponse {
                customer: Some(customer_to_pb(&customer, View::Full)),
            });
        }
        let now = self.now();
        let customer = Customer {
            id: Id::new(),
            profile,
            merged_into: None,
            created_at: now,
            updated_at: now,
            preferences: None,
            vulnerability: None,
        };
        store::customers::insert(&mut tx, &customer, request_id.as_deref()).await?;
        rapport_outbox::append(
            &mut tx,
            &ProfileEvent::CustomerCreated {
                customer_id: customer.id,
            },
            now,
        )
        .await?;
        commit(tx).await?;
        tracing::info!(customer_id = %customer.id, "customer created");
        Ok(pb::CreateCustomerResponse {
            customer: Some(customer_to_pb(&customer, View::Full)),
        })
    }

    #[tracing::instrument(skip_all)]
    pub(super) async fn upsert(
        &self,
        request: pb::UpsertCustomerByExternalRefRequest,
    ) -> Result<pb::UpsertCustomerByExternalRefResponse, ProfilesError> {
        let mut validation = Validation::new();
        let reference = convert::external_ref(
            "external_ref",
            request.external_ref.as_ref(),
            &mut validation,
        );
        let fields = match &request.update_mask {
            Some(mask) if !mask.paths.is_empty() => mask_fields(&mask.paths, &mut validation),
            _ => CORE_BANKING_FIELDS.to_vec(),
        };
        let Some(incoming) = request.customer.as_ref() else {
            validation.add("customer", "is required");
            return Err(validation.into());
        };
        validation.clone().finish()?;
        let reference = reference.ok_or(ProfilesError::Invalid(validation))?;

        // Two callers racing on a new reference: the loser's insert finds the reference taken,
        // rolls back, and the retry updates the winner's customer instead.
        for attempt in 0..2 {
            let mut tx = self.write().await?;
            let now = self.now();
            if let Some(existing) =
                store::customers::id_by_external_ref(&mut tx, &reference).await?
            {
                let mut customer = live_customer(&mut tx, existing).await?;
                let mut validation = Validation::new();
                let values: Vec<Option<FieldValue>> = fields
                    .iter()
                    .map(|f| field_value(*f, incoming, "customer", &mut validation))
                    .collect();
                validation.finish()?;
                let before = customer.profile.clone();
                for value in values.into_iter().flatten() {
                    customer.profile.apply(value);
                }
                ensure_reference(&mut customer.profile, &reference);
                let changed = changed_fields(&before, &customer.profile);
                if !changed.is_empty() {
                    customer.updated_at = now;
                    store::customers::update(&mut tx, &customer).await?;
                    rapport_outbox::append(
                        &mut tx,
                        &ProfileEvent::CustomerUpdated {
                            customer_id: customer.id,
                            fields: changed,
                        },
                        now,
                    )
                    .await?;
                }
                commit(tx).await?;
                let customer = self.reload(customer.id).await?;
                return Ok(pb::UpsertCustomerByExternalRefResponse {
                    customer: Some(customer_to_pb(&customer, View::Full)),
                    created: false,
                });
            }
            let mut validation = Validation::new();
            let profile = self.new_profile(Some(incoming), "customer", &mut validation);
            validation.clone().finish()?;
            let mut profile = profile.ok_or(ProfilesError::Invalid(validation))?;
            ensure_reference(&mut profile, &reference);
            let customer = Customer {
                id: Id::new(),
                profile,
                merged_into: None,
                created_at: now,
                updated_at: now,
                preferences: None,
                vulnerability: None,
            };
            match store::customers::insert(&mut tx, &customer, None).await {
                Err(ProfilesError::AlreadyExists(_)) if attempt == 0 => continue,
                Err(ProfilesError::Storage(e)) if e.is_unique_violation() && attempt == 0 => {
                    continue;
                }
                other => other?,
            }
            rapport_outbox::append(
                &mut tx,
                &ProfileEvent::CustomerCreated {
                    customer_id: customer.id,
                },
                now,
            )
            .await?;
            commit(tx).await?;
            return Ok(pb::UpsertCustomerByExternalRefResponse {
                customer: Some(customer_to_pb(&customer, View::Full)),
                created: true,
            });
        }
        Err(ProfilesError::AlreadyExists(format!(
            "external reference {}/{} is being created concurrently; retry",
            reference.system, reference.external_id
        )))
    }

    async fn reload(&self, customer_id: Id) -> Result<Customer, ProfilesError> {
        let mut conn = self.read().await?;
        store::customers::resolve(&mut conn, customer_id, View::Full)
            .await?
            .ok_or_else(|| not_found(customer_id))
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&request.customer_id)))]
    pub(super) async fn get(
        &self,
        request: pb::GetCustomerRequest,
    ) -> Result<pb::GetCustomerResponse, ProfilesError> {
        let mut validation = Validation::new();
        let customer_id = convert::id("customer_id", &request.customer_id, &mut validation);
        let view = convert::view("view", request.view, &mut validation);
        validation.clone().finish()?;
        let customer_id = customer_id.ok_or(ProfilesError::Invalid(validation))?;
        let customer = self
            .resolved
            .resolve(&self.storage, customer_id, view)
            .await?
            .ok_or_else(|| not_found(customer_id))?;
        Ok(pb::GetCustomerResponse {
            customer: Some(customer_to_pb(&customer, view)),
        })
    }

    #[tracing::instrument(
        skip_all,
        fields(
            customer_id = super::traced_id(request.customer.as_ref().map_or("", |c| &c.customer_id))
        )
    )]
    pub(super) async fn update(
        &self,
        request: pb::UpdateCustomerRequest,
    ) -> Result<pb::UpdateCustomerResponse, ProfilesError> {
        let mut validation = Validation::new();
        let Some(incoming) = request.customer.as_ref() else {
            validation.add("customer", "is required");
            return Err(validation.into());
        };
        let customer_id = convert::id(
            "customer.customer_id",
            &incoming.customer_id,
            &mut validation,
        );
        let fields = match &request.update_mask {
            Some(mask) if !mask.paths.is_empty() => mask_fields(&mask.paths, &mut validation),
            _ => {
                validation.add("update_mask", "must name at least one field to update");
                Vec::new()
            }
        };
        let values: Vec<Option<FieldValue>> = fields
            .iter()
            .map(|f| field_value(*f, incoming, "customer", &mut validation))
            .collect();
        validation.clone().finish()?;
        let customer_id = customer_id.ok_or(ProfilesError::Invalid(validation))?;

        let mut tx = self.write().await?;
        let mut customer = live_customer(&mut tx, customer_id).await?;
        if let Some(FieldValue::CustomerSince(since)) = values
            .iter()
            .flatten()
            .find(|v| matches!(v, FieldValue::CustomerSince(_)))
        {
            let zone = values
                .iter()
                .flatten()
                .find_map(|v| match v {
                    FieldValue::TimeZone(tz) => Some(tz.time_zone()),
                    _ => None,
                })
                .unwrap_or_else(|| customer.profile.time_zone.time_zone());
            if *since > tenure::today_in(&zone, self.now()) {
                return Err(Validation::single(
                    "customer.customer_since",
                    "must not be in the future",
                )
                .into());
            }
        }
        let before = customer.profile.clone();
        for value in values.into_iter().flatten() {
            customer.profile.apply(value);
        }
        let changed = changed_fields(&before, &customer.profile);
        if !changed.is_empty() {
            let now = self.now();
            customer.updated_at = now;
            store::customers::update(&mut tx, &customer).await?;
            rapport_outbox::append(
                &mut tx,
                &ProfileEvent::CustomerUpdated {
                    customer_id: customer.id,
                    fields: changed,
                },
                now,
            )
            .await?;
        }
        commit(tx).await?;
        let customer = self.reload(customer.id).await?;
        Ok(pb::UpdateCustomerResponse {
            customer: Some(customer_to_pb(&customer, View::Full)),
        })
    }

    #[tracing::instrument(skip_all, fields(page_size = request.page.as_ref().map(|p| p.page_size)))]
    pub(super) async fn search(
        &self,
        request: pb::SearchCustomersRequest,
    ) -> Result<pb::SearchCustomersResponse, ProfilesError> {
        let mut validation = Validation::new();
        let page = Page::parse(request.page.as_ref(), &mut validation);
        let view = convert::view("view", request.view, &mut validation);
        let mut criteria = SearchCriteria {
            include_closed: request.include_closed,
            ..SearchCriteria::default()
        };
        if !request.name.trim().is_empty() {
            let folded = crate::domain::names::fold_for_search(&request.name);
            if folded.chars().count() < 2 {
                validation.add("name", "must hold at least 2 letters");
            } else if request.name.chars().count() > crate::domain::customer::MAX_NAME_CHARS {
                validation.add("name", "is too long");
            } else {
                criteria.name = Some(request.name.clone());
            }
        }
        if !request.email.is_empty() {
            criteria.email = validation.field(
                "email",
                crate::domain::contact::Email::parse(&request.email),
            );
        }
        if !request.phone.is_empty() {
            criteria.phone = validation.field(
                "phone",
                crate::domain::contact::Phone::parse(&request.phone),
            );
        }
        if request.external_ref.is_some() {
            criteria.external_ref = convert::external_ref(
                "external_ref",
                request.external_ref.as_ref(),
                &mut validation,
            );
        }
        let after = match &page.after {
            Some(parts) => match parts.as_slice() {
                [last] => validation.field("page.page_token", Id::parse(last)),
                _ => {
                    validation.add("page.page_token", "is not a token this service issued");
                    None
                }
            },
            None => None,
        };
        if validation.is_empty()
            && criteria.name.is_none()
            && criteria.email.is_none()
            && criteria.phone.is_none()
            && criteria.external_ref.is_none()
        {
            validation.add(
                "name",
                "give at least one of name, email, phone or external_ref",
            );
        }
        validation.finish()?;

        let mut conn = self.read().await?;
        let ids = store::customers::search(&mut conn, &criteria, after, page.fetch_limit()).await?;
        let customers = store::customers::load_many(&mut conn, &ids, view).await?;
        let (customers, page) = page.finish(customers, |c| vec![c.id.to_string()]);
        Ok(pb::SearchCustomersResponse {
            customers: customers.iter().map(|c| customer_to_pb(c, view)).collect(),
            page,
        })
    }

    #[tracing::instrument(skip_all, fields(page_size = request.page.as_ref().map(|p| p.page_size)))]
    pub(super) async fn list_anniversaries(
        &self,
        request: pb::ListAnniversariesRequest,
    ) -> Result<pb::ListAnniversariesResponse, ProfilesError> {
        let mut validation = Validation::new();
        let page = Page::parse(request.page.as_ref(), &mut validation);
        let (start, end) = match &request.range {
            None => {
                validation.add("range", "is required");
                (None, None)
            }
            Some(range) => (
                convert::date("range.start", range.start.as_ref(), &mut validation),
                convert::date("range.end", range.end.as_ref(), &mut validation),
            ),
        };
        if let (Some(start), Some(end)) = (start, end) {
            if start > end {
                validation.add("range.end", "must not be before range.start");
            } else if (end - start).get_days() >= MAX_ANNIVERSARY_RANGE_DAYS {
                validation.add(
                    "range",
                    format!("may span at most {MAX_ANNIVERSARY_RANGE_DAYS} days"),
                );
            }
        }
        let after = match &page.after {
            Some(parts) => match parts.as_slice() {
                [date, id] => date
                    .parse::<jiff::civil::Date>()
                    .ok()
                    .zip(Id::parse(id).ok()),
                _ => None,
            }
            .or_else(|| {
                validation.add("page.page_token", "is not a token this service issued");
                None
            }),
            None => None,
        };
        validation.clone().finish()?;
        let (start, end) = start.zip(end).ok_or(ProfilesError::Invalid(validation))?;

        let mut conn = self.read().await?;
        let candidates =
            store::customers::with_start_in(&mut conn, &month_day_ranges(start, end)).await?;
        let mut found: Vec<pb::Anniversary> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut keyed = Vec::new();
        for (customer_id, since, zone) in candidates {
            if !seen.insert(customer_id) {
                continue;
            }
            for anniversary in tenure::anniversaries_between(since, start, end) {
                if after.is_some_and(|(d, i)| (anniversary.date, customer_id) <= (d, i)) {
                    continue;
                }
                keyed.push((
                    anniversary.date,
                    customer_id,
                    anniversary.tenure_years,
                    since,
                    zone.as_str().to_owned(),
                ));
            }
        }
        keyed.sort_by_key(|a| (a.0, a.1));
        keyed.truncate(page.fetch_limit() as usize);
        for (date, customer_id, years, since, zone) in &keyed {
            found.push(pb::Anniversary {
                customer_id: customer_id.to_string(),
                anniversary_date: Some(date_to_pb(*date)),
                tenure_years: *years,
                customer_since: Some(date_to_pb(*since)),
                time_zone: zone.clone(),
            });
        }
        let (anniversaries, page) = page.finish(found, |a| {
            let d = a.anniversary_date.unwrap_or_default();
            vec![
                format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
                a.customer_id.clone(),
            ]
        });
        Ok(pb::ListAnniversariesResponse {
            anniversaries,
            page,
        })
    }
}

/// The MMDD ranges whose tenure starts can have an anniversary between `start` and `end`;
/// 29 February starts are always candidates (their anniversary moves to 28 February).
fn month_day_ranges(start: jiff::civil::Date, end: jiff::civil::Date) -> Vec<(i64, i64)> {
    let md = store::customers::month_day;
    let mut ranges = if end.year() > start.year() {
        if (end - start).get_days() >= 364 {
            vec![(101, 1231)]
        } else {
            vec![(md(start), 1231), (101, md(end))]
        }
    } else {
        vec![(md(start), md(end))]
    };
    ranges.push((229, 229));
    ranges
}

/// Parses mask paths, naming each unknown one.
fn mask_fields(paths: &[String], validation: &mut Validation) -> Vec<CustomerField> {
    let mut fields = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        match CustomerField::parse_path(path) {
            Some(field) if !fields.contains(&field) => fields.push(field),
            Some(_) => {}
            None => validation.add(
                format!("update_mask.paths[{i}]"),
                format!(
                    "unknown path {path:?}; allowed: {}",
                    CustomerField::ALL.map(CustomerField::path).join(", ")
                ),
            ),
        }
    }
    fields
}

fn changed_fields(before: &Profile, after: &Profile) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let checks: [(bool, CustomerField); 10] = [
        (
            before.legal_name != after.legal_name,
            CustomerField::LegalName,
        ),
        (
            before.preferred_name != after.preferred_name,
            CustomerField::PreferredName,
        ),
        (before.locale != after.locale, CustomerField::Locale),
        (before.time_zone != after.time_zone, CustomerField::TimeZone),
        (before.emails != after.emails, CustomerField::Emails),
        (before.phones != after.phones, CustomerField::Phones),
        (
            before.addresses != after.addresses,
            CustomerField::Addresses,
        ),
        (
            before.customer_since != after.customer_since,
            CustomerField::CustomerSince,
        ),
        (before.status != after.status, CustomerField::Status),
        (
            before.external_refs != after.external_refs,
            CustomerField::ExternalRefs,
        ),
    ];
    for (differs, field) in checks {
        if differs {
            changed.push(field.path());
        }
    }
    changed
}

fn ensure_reference(profile: &mut Profile, reference: &ExternalRef) {
    if !profile.external_refs.contains(reference) {
        profile.external_refs.push(reference.clone());
        profile.external_refs.sort();
    }
}
