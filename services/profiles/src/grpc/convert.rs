//! Prost messages in, domain types out (and back). Every check names the field it failed on,
//! using the request's own field paths, and all of a request's violations are reported at once.

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use rapport_errors::Validation;
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as pb;
pub(crate) use rapport_wire::{
    MAX_CODE_CHARS, MAX_TEXT_CHARS, actor, actor_to_pb, date, date_to_pb, id, known_enum,
    optional_date, optional_enum, optional_text, past_instant, request_id, required_text,
    timestamp, timestamp_to_pb,
};

use crate::domain::commitment::Commitment;
use crate::domain::consent::Consent;
use crate::domain::contact::{Email, Locale, Phone, TimeZoneName};
use crate::domain::customer::{
    ContactPoint, Customer, CustomerField, CustomerStatus, ExternalRef, FieldValue, MAX_NAME_CHARS,
    PostalAddress, View,
};
use crate::domain::interaction::Interaction;
use crate::domain::preferences::{ContactPreferences, QuietHours};
use crate::domain::vulnerability::{Vulnerability, VulnerabilityFactor, VulnerabilityRecord};

pub fn external_ref(
    field: &str,
    reference: Option<&pb::ExternalRef>,
    validation: &mut Validation,
) -> Option<ExternalRef> {
    let Some(reference) = reference else {
        validation.add(field, "is required");
        return None;
    };
    let system = required_text(
        &format!("{field}.system"),
        &reference.system,
        MAX_CODE_CHARS,
        validation,
    );
    let external_id = required_text(
        &format!("{field}.external_id"),
        &reference.external_id,
        MAX_CODE_CHARS,
        validation,
    );
    Some(ExternalRef {
        system: system?,
        external_id: external_id?,
    })
}

/// The new value of one customer field, read from `customer` (paths under `prefix`).
/// `customer_since` may be absent only where the caller supplies a default.
pub fn field_value(
    field: CustomerField,
    customer: &pb::Customer,
    prefix: &str,
    validation: &mut Validation,
) -> Option<FieldValue> {
    let path = format!("{prefix}.{}", field.path());
    match field {
        CustomerField::LegalName => {
            required_text(&path, &customer.legal_name, MAX_NAME_CHARS, validation)
                .map(FieldValue::LegalName)
        }
        CustomerField::PreferredName => {
            optional_text(&path, &customer.preferred_name, MAX_NAME_CHARS, validation)
                .map(FieldValue::PreferredName)
        }
        CustomerField::Locale => validation
            .field(&path, Locale::parse(&customer.locale))
            .map(FieldValue::Locale),
        CustomerField::TimeZone => validation
            .field(&path, TimeZoneName::parse(&customer.time_zone))
            .map(FieldValue::TimeZone),
        CustomerField::Emails => {
            let mut emails = Vec::new();
            for (i, email) in customer.emails.iter().enumerate() {
                if let Some(value) = validation.field(
                    &format!("{path}[{i}].address"),
                    Email::parse(&email.address),
                ) {
                    emails.push(ContactPoint {
                        value,
                        verified: email.verified,
                        primary: email.primary,
                    });
                }
            }
            at_most_one_primary(
                &path,
                customer.emails.iter().filter(|e| e.primary).count(),
                validation,
            );
            Some(FieldValue::Emails(emails))
        }
        CustomerField::Phones => {
            let mut phones = Vec::new();
            for (i, phone) in customer.phones.iter().enumerate() {
                if let Some(value) =
                    validation.field(&format!("{path}[{i}].e164"), Phone::parse(&phone.e164))
                {
                    phones.push(ContactPoint {
                        value,
                        verified: phone.verified,
                        primary: phone.primary,
                    });
                }
            }
            at_most_one_primary(
                &path,
                customer.phones.iter().filter(|p| p.primary).count(),
                validation,
            );
            Some(FieldValue::Phones(phones))
        }
        CustomerField::Addresses => {
            let mut addresses = Vec::new();
            for (i, address) in customer.addresses.iter().enumerate() {
                let item = format!("{path}[{i}].address");
                let Some(postal) = &address.address else {
                    validation.add(item, "is required");
                    continue;
                };
                if postal.lines.iter().all(|line| line.trim().is_empty()) {
                    validation.add(format!("{item}.lines"), "must hold at least one line");
                }
                let country = &postal.country_code;
                if !(country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase())) {
                    validation.add(
                        format!("{item}.country_code"),
                        "must be an ISO 3166-1 alpha-2 code, e.g. RO",
                    );
                }
                addresses.push(PostalAddress {
                    lines: postal.lines.clone(),
                    locality: postal.locality.clone(),
                    region: postal.region.clone(),
                    postal_code: postal.postal_code.clone(),
                    country_code: postal.country_code.clone(),
                    verified: address.verified,
                    primary: address.primary,
                });
            }
            at_most_one_primary(
                &path,
                customer.addresses.iter().filter(|a| a.primary).count(),
                validation,
            );
            Some(FieldValue::Addresses(addresses))
        }
        CustomerField::CustomerSince => {
            date(&path, customer.customer_since.as_ref(), validation).map(FieldValue::CustomerSince)
        }
        CustomerField::Status => match pb::CustomerStatus::try_from(customer.status) {
            Ok(pb::CustomerStatus::Unspecified | pb::CustomerStatus::Active) => {
                Some(FieldValue::Status(CustomerStatus::Active))
            }
            Ok(pb::CustomerStatus::Closed) => Some(FieldValue::Status(CustomerStatus::Closed)),
            Ok(pb::CustomerStatus::Merged | pb::CustomerStatus::Erased) => {
                validation.add(
                    path,
                    "is set by MergeCustomers and EraseCustomer, not directly",
                );
                None
            }
            Err(_) => {
                validation.add(path, format!("has no value {}", customer.status));
                None
            }
        },
        CustomerField::ExternalRefs => {
            let mut refs = Vec::new();
            for (i, reference) in customer.external_refs.iter().enumerate() {
                if let Some(r) = external_ref(&format!("{path}[{i}]"), Some(reference), validation)
                {
                    if refs.contains(&r) {
                        validation.add(format!("{path}[{i}]"), "is listed twice");
                    } else {
                        refs.push(r);
                    }
                }
            }
            refs.sort();
            Some(FieldValue::ExternalRefs(refs))
        }
    }
}

fn at_most_one_primary(path: &str, primaries: usize, validation: &mut Validation) {
    if primaries > 1 {
        validation.add(path, "may have at most one primary entry");
    }
}

pub fn view(field: &str, value: i32, validation: &mut Validation) -> View {
    match pb::CustomerView::try_from(value) {
        Ok(pb::CustomerView::Unspecified | pb::CustomerView::Basic) => View::Basic,
        Ok(pb::CustomerView::Full) => View::Full,
        Ok(pb::CustomerView::WithVulnerability) => View::WithVulnerability,
        Err(_) => {
            validation.add(field, format!("has no value {value}"));
            View::Basic
        }
    }
}

pub fn customer_to_pb(customer: &Customer, view: View) -> pb::Customer {
    let p = &customer.profile;
    let mut message = pb::Customer {
        customer_id: customer.id.to_string(),
        legal_name: p.legal_name.clone(),
        preferred_name: p.preferred_name.clone(),
        locale: p.locale.as_str().to_owned(),
        time_zone: p.time_zone.as_str().to_owned(),
        customer_since: Some(date_to_pb(p.customer_since)),
        status: match p.status {
            CustomerStatus::Active => pb::CustomerStatus::Active,
            CustomerStatus::Closed => pb::CustomerStatus::Closed,
            CustomerStatus::Merged => pb::CustomerStatus::Merged,
            CustomerStatus::Erased => pb::CustomerStatus::Erased,
        } as i32,
        external_refs: p
            .external_refs
            .iter()
            .map(|r| pb::ExternalRef {
                system: r.system.clone(),
                external_id: r.external_id.clone(),
            })
            .collect(),
        merged_into_customer_id: customer
            .merged_into
            .map(|id| id.to_string())
            .unwrap_or_default(),
        created_at: Some(timestamp_to_pb(customer.created_at)),
        updated_at: Some(timestamp_to_pb(customer.updated_at)),
        ..pb::Customer::default()
    };
    if view >= View::Full {
        message.emails = p
            .emails
            .iter()
            .map(|e| pb::EmailAddress {
                address: e.value.as_str().to_owned(),
                verified: e.verified,
                primary: e.primary,
            })
            .collect();
        message.phones = p
            .phones
            .iter()
            .map(|e| pb::PhoneNumber {
                e164: e.value.as_str().to_owned(),
                verified: e.verified,
                primary: e.primary,
            })
            .collect();
        message.addresses = p
            .addresses
            .iter()
            .map(|a| pb::Address {
                address: Some(common::PostalAddress {
                    lines: a.lines.clone(),
                    locality: a.locality.clone(),
                    region: a.region.clone(),
                    postal_code: a.postal_code.clone(),
                    country_code: a.country_code.clone(),
                }),
                verified: a.verified,
                primary: a.primary,
            })
            .collect();
        message.contact_preferences = customer.preferences.as_ref().map(preferences_to_pb);
    }
    if view >= View::WithVulnerability {
        message.vulnerability = customer.vulnerability.as_ref().map(vulnerability_to_pb);
    }
    message
}

pub fn interaction_to_pb(i: &Interaction) -> pb::Interaction {
    pb::Interaction {
        interaction_id: i.id.to_string(),
        customer_id: i.customer_id.to_string(),
        channel: i.channel as i32,
        direction: i.direction as i32,
        topic: i.topic.clone(),
        outcome: i.outcome as i32,
        agent_id: i.agent_id.clone(),
        sentiment: i.sentiment as i32,
        occurred_at: Some(timestamp_to_pb(i.occurred_at)),
        summary: i.summary.clone(),
        account_id: i.account_id.clone(),
        source_system: i.source_system.clone(),
    }
}

pub fn commitment_to_pb(c: &Commitment, today: Date) -> pb::Commitment {
    pb::Commitment {
        commitment_id: c.id.to_string(),
        customer_id: c.customer_id.to_string(),
        description: c.description.clone(),
        promised_by: Some(actor_to_pb(&c.promised_by)),
        due_date: Some(date_to_pb(c.due_date)),
        status: c.status_on(today) as i32,
        interaction_id: c.interaction_id.clone(),
        created_at: Some(timestamp_to_pb(c.created_at)),
        resolved_at: c.resolution.as_ref().map(|r| timestamp_to_pb(r.at)),
        resolved_by: c.resolution.as_ref().map(|r| actor_to_pb(&r.by)),
        resolution_note: c
            .resolution
            .as_ref()
            .map(|r| r.note.clone())
            .unwrap_or_default(),
    }
}

pub fn consent_to_pb(c: &Consent) -> pb::Consent {
    pb::Consent {
        consent_id: c.id.to_string(),
        customer_id: c.customer_id.to_string(),
        purpose: c.purpose as i32,
        channel: c.channel as i32,
        status: c.status as i32,
        source: c.source as i32,
        source_detail: c.source_detail.clone(),
        decided_at: Some(timestamp_to_pb(c.decided_at)),
        recorded_at: Some(timestamp_to_pb(c.recorded_at)),
    }
}

pub fn preferences(
    field: &str,
    p: Option<&pb::ContactPreferences>,
    now: Timestamp,
    validation: &mut Validation,
) -> Option<ContactPreferences> {
    let Some(p) = p else {
        validation.add(field, "is required");
        return None;
    };
    let channels =
        |name: &str, values: &[i32], validation: &mut Validation| -> Vec<common::Channel> {
            let mut channels = Vec::new();
            for (i, value) in values.iter().enumerate() {
                let path = format!("{field}.{name}[{i}]");
                if let Some(channel) = known_enum(
                    &path,
                    *value,
                    |v| common::Channel::try_from(v).ok(),
                    common::Channel::Unspecified,
                    validation,
                ) {
                    if channels.contains(&channel) {
                        validation.add(path, "is listed twice");
                    } else {
                        channels.push(channel);
                    }
                }
            }
            channels
        };
    let preferred_channels = channels("preferred_channels", &p.preferred_channels, validation);
    let do_not_contact_channels = channels(
        "do_not_contact_channels",
        &p.do_not_contact_channels,
        validation,
    );
    let mut quiet_hours = Vec::new();
    for (i, q) in p.quiet_hours.iter().enumerate() {
        let path = format!("{field}.quiet_hours[{i}]");
        let start = time_of_day(&format!("{path}.start"), q.start.as_ref(), validation);
        let end = time_of_day(&format!("{path}.end"), q.end.as_ref(), validation);
        let mut days = Vec::new();
        for (j, day) in q.days.iter().enumerate() {
            let day_path = format!("{path}.days[{j}]");
            match common::DayOfWeek::try_from(*day) {
                Ok(common::DayOfWeek::Unspecified) | Err(_) => {
                    validation.add(day_path, "is not a day of the week")
                }
                Ok(d) => match Weekday::from_monday_one_offset(d as i8) {
                    Ok(weekday) => days.push(weekday),
                    Err(_) => validation.add(day_path, "is not a day of the week"),
                },
            }
        }
        if let (Some(start), Some(end)) = (start, end) {
            if start == end {
                validation.add(path, "start and end must differ");
            }
            quiet_hours.push(QuietHours { start, end, days });
        }
    }
    Some(ContactPreferences {
        preferred_channels,
        quiet_hours,
        do_not_contact_channels,
        do_not_contact: p.do_not_contact,
        updated_at: now,
    })
}

fn time_of_day(
    field: &str,
    t: Option<&common::TimeOfDay>,
    validation: &mut Validation,
) -> Option<Time> {
    let Some(t) = t else {
        validation.add(field, "is required");
        return None;
    };
    let parsed = i8::try_from(t.hours)
        .ok()
        .zip(i8::try_from(t.minutes).ok())
        .and_then(|(h, m)| Time::new(h, m, 0, 0).ok());
    if parsed.is_none() {
        validation.add(field, "must be a time of day (hours 0–23, minutes 0–59)");
    }
    parsed
}

pub fn preferences_to_pb(p: &ContactPreferences) -> pb::ContactPreferences {
    pb::ContactPreferences {
        preferred_channels: p.preferred_channels.iter().map(|c| *c as i32).collect(),
        quiet_hours: p
            .quiet_hours
            .iter()
            .map(|q| pb::QuietHours {
                start: Some(common::TimeOfDay {
                    hours: i32::from(q.start.hour()),
                    minutes: i32::from(q.start.minute()),
                }),
                end: Some(common::TimeOfDay {
                    hours: i32::from(q.end.hour()),
                    minutes: i32::from(q.end.minute()),
                }),
                days: q
                    .days
                    .iter()
                    .map(|d| i32::from(d.to_monday_one_offset()))
                    .collect(),
            })
            .collect(),
        do_not_contact_channels: p
            .do_not_contact_channels
            .iter()
            .map(|c| *c as i32)
            .collect(),
        do_not_contact: p.do_not_contact,
        updated_at: Some(timestamp_to_pb(p.updated_at)),
    }
}

pub fn vulnerability(
    field: &str,
    v: Option<&pb::Vulnerability>,
    validation: &mut Validation,
) -> Option<Vulnerability> {
    let Some(v) = v else {
        validation.add(field, "is required");
        return None;
    };
    if v.factors.is_empty() && v.needs.is_empty() {
        validation.add(
            field,
            "must name at least one factor or need (use ClearVulnerability to remove it)",
        );
    }
    let mut factors = Vec::new();
    for (i, f) in v.factors.iter().enumerate() {
        let path = format!("{field}.factors[{i}]");
        let driver = known_enum(
            &format!("{path}.driver"),
            f.driver,
            |d| pb::VulnerabilityDriver::try_from(d).ok(),
            pb::VulnerabilityDriver::Unspecified,
            validation,
        );
        let detail = optional_text(
            &format!("{path}.detail"),
            &f.detail,
            MAX_TEXT_CHARS,
            validation,
        );
        if let (Some(driver), Some(detail)) = (driver, detail) {
            factors.push(VulnerabilityFactor {
                driver,
                detail,
                temporary: f.temporary,
            });
        }
    }
    for (i, need) in v.needs.iter().enumerate() {
        required_text(
            &format!("{field}.needs[{i}]"),
            need,
            MAX_CODE_CHARS,
            validation,
        );
    }
    let notes = optional_text(
        &format!("{field}.notes"),
        &v.notes,
        MAX_TEXT_CHARS,
        validation,
    );
    let review_date = optional_date(
        &format!("{field}.review_date"),
        v.review_date.as_ref(),
        validation,
    );
    Some(Vulnerability {
        factors,
        needs: v.needs.clone(),
        notes: notes.unwrap_or_default(),
        review_date,
        customer_consented: v.customer_consented,
    })
}

pub fn vulnerability_to_pb(record: &VulnerabilityRecord) -> pb::Vulnerability {
    let v = &record.vulnerability;
    pb::Vulnerability {
        factors: v
            .factors
            .iter()
            .map(|f| pb::VulnerabilityFactor {
                driver: f.driver as i32,
                detail: f.detail.clone(),
                temporary: f.temporary,
            })
            .collect(),
        needs: v.needs.clone(),
        notes: v.notes.clone(),
        review_date: v.review_date.map(date_to_pb),
        customer_consented: v.customer_consented,
        recorded_by: Some(actor_to_pb(&record.recorded_by)),
        recorded_at: Some(timestamp_to_pb(record.recorded_at)),
    }
}
