//! Paging for every List/Search RPC: page sizes within limits, and opaque page tokens carrying the keyset
//! position of the last item returned (stable while rows are added).

use rapport_errors::Validation;
use rapport_proto::common::v1::{PageRequest, PageResponse};

/// Items per page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: i64 = 25;
/// The most items one page may hold.
pub const MAX_PAGE_SIZE: i64 = 100;

/// A validated page request: how many, and after which position (the decoded token parts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub size: i64,
    pub after: Option<Vec<String>>,
}

impl Page {
    /// Reads `page` (absent = first page of the default size), recording violations under
    /// `page.page_size` / `page.page_token`.
    pub fn parse(page: Option<&PageRequest>, validation: &mut Validation) -> Page {
        let Some(page) = page else {
            return Page {
                size: DEFAULT_PAGE_SIZE,
                after: None,
            };
        };
        let size = match i64::from(page.page_size) {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                validation.add("page.page_size", "must not be negative");
                DEFAULT_PAGE_SIZE
            }
            n if n > MAX_PAGE_SIZE => {
                validation.add("page.page_size", format!("must be at most {MAX_PAGE_SIZE}"));
                DEFAULT_PAGE_SIZE
            }
            n => n,
        };
        let after = if page.page_token.is_empty() {
            None
        } else {
            match decode(&page.page_token) {
                Some(parts) => Some(parts),
                None => {
                    validation.add("page.page_token", "is not a token this service issued");
                    None
                }
            }
        };
        Page { size, after }
    }

    /// The first `size` of `items` (fetched with `size + 1`), and the token of the next page
    /// when there is one, from the last item's key.
    pub fn finish<T>(
        &self,
        mut items: Vec<T>,
        key: impl Fn(&T) -> Vec<String>,
    ) -> (Vec<T>, Option<PageResponse>) {
        let more = items.len() as i64 > self.size;
        items.truncate(self.size.max(0) as usize);
        let next_page_token = match items.last() {
            Some(last) if more => encode(&key(last)),
            _ => String::new(),
        };
        (items, Some(PageResponse { next_page_token }))
    }

    /// The key after which the page starts, for lists keyed by one value (an id): `None` on the
    /// first page; a token whose key does not parse records a `page.page_token` violation
    /// rather than silently starting over.
    pub fn after_one<T: std::str::FromStr>(&self, validation: &mut Validation) -> Option<T> {
        let parts = self.after.as_ref()?;
        let key = match parts.as_slice() {
            [one] => one.parse().ok(),
            _ => None,
        };
        if key.is_none() {
            validation.add("page.page_token", "is not a token this service issued");
        }
        key
    }

    /// The key after which the page starts, for lists keyed by two values (e.g. a time and an id
    /// to break ties); like [`Page::after_one`], a token that does not parse is a violation.
    pub fn after_pair<A: std::str::FromStr, B: std::str::FromStr>(
        &self,
        validation: &mut Validation,
    ) -> Option<(A, B)> {
        let parts = self.after.as_ref()?;
        let key = match parts.as_slice() {
            [a, b] => a.parse().ok().zip(b.parse().ok()),
            _ => None,
        };
        if key.is_none() {
            validation.add("page.page_token", "is not a token this service issued");
        }
        key
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.size + 1
    }
}

const VERSION: &str = "p1";

/// Hex of the parts joined by a unit separator, behind a version: opaque to callers, cheap to check.
fn encode(parts: &[String]) -> String {
    let joined = parts.join("\u{1f}");
    let mut token = String::from(VERSION);
    for byte in joined.as_bytes() {
        token.push_str(&format!("{byte:02x}"));
    }
    token
}

fn decode(token: &str) -> Option<Vec<String>> {
    let hex = token.strip_prefix(VERSION)?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let joined = String::from_utf8(bytes).ok()?;
    Some(joined.split('\u{1f}').map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let parts = vec![
            "2026-03-01".to_owned(),
            "0190f0c8-7a1e-7c3b-9a4e-1d2c3b4a5f60".to_owned(),
        ];
        assert_eq!(decode(&encode(&parts)), Some(parts));
        assert_eq!(decode("nonsense"), None);
        assert_eq!(decode("p1zz"), None);
    }

    #[test]
    fn sizes_are_bounded() {
        let mut validation = Validation::new();
        let page = Page::parse(
            Some(&PageRequest {
                page_size: 101,
                page_token: String::new(),
            }),
            &mut validation,
        );
        assert_eq!(page.size, DEFAULT_PAGE_SIZE);
        assert_eq!(validation.violations()[0].field, "page.page_size");
        let page = Page::parse(None, &mut validation);
        assert_eq!(page.size, DEFAULT_PAGE_SIZE);
    }

    #[test]
    fn a_single_key_that_does_not_parse_is_refused_not_ignored() {
        let mut validation = Validation::new();
        let first = Page {
            size: 2,
            after: None,
        };
        assert_eq!(first.after_one::<u32>(&mut validation), None);
        assert!(validation.is_empty());
        let next = Page {
            size: 2,
            after: Some(vec!["7".to_owned()]),
        };
        assert_eq!(next.after_one::<u32>(&mut validation), Some(7));
        assert!(validation.is_empty());
        let foreign = Page {
            size: 2,
            after: Some(vec!["seven".to_owned()]),
        };
        assert_eq!(foreign.after_one::<u32>(&mut validation), None);
        assert_eq!(validation.violations()[0].field, "page.page_token");
    }

    #[test]
    fn a_pair_key_must_be_two_parts_that_parse() {
        let page = |parts: &[&str]| Page {
            size: 2,
            after: Some(parts.iter().map(|p| (*p).to_owned()).collect()),
        };
        let mut validation = Validation::new();
        assert_eq!(
            page(&["7", "x"]).after_pair::<i64, String>(&mut validation),
            Some((7, "x".to_owned()))
        );
        assert!(validation.is_empty());
        for bad in [&["seven", "x"][..], &["7"][..], &["7", "x", "y"][..]] {
            let mut validation = Validation::new();
            assert_eq!(page(bad).after_pair::<i64, String>(&mut validation), None);
            assert_eq!(validation.violations()[0].field, "page.page_token");
        }
    }

    #[test]
    fn finish_emits_a_token_only_when_more_follow() {
        let page = Page {
            size: 2,
            after: None,
        };
        let (items, response) = page.finish(vec![1, 2, 3], |n| vec![n.to_string()]);
        assert_eq!(items, vec![1, 2]);
        let token = response.expect("page").next_page_token;
        assert_eq!(decode(&token), Some(vec!["2".to_owned()]));
        let (_, response) = page.finish(vec![1, 2], |n| vec![n.to_string()]);
        assert!(response.expect("page").next_page_token.is_empty());
    }
}
