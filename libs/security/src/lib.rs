//! Who may call what (DESIGN.md, Operations: security).
//!
//! - [`policy`]: the roles, and the one table of which permission each RPC needs — read it to
//!   know who can do what;
//! - [`token`]: bearer tokens (JWT): RS256/ES256 against a JWKS file, HS256 for development;
//!   issuer, audience, expiry and not-before checked with a small clock skew;
//! - [`rate_limit`]: a token bucket per caller;
//! - [`actors`]: where a request names who acts, that person is the caller.
//!
//! The tower layer that applies them to every call lives in `rapport-server` (`guard`), beside
//! the audit trail it writes.

pub mod actors;
#[cfg(feature = "dev")]
pub mod dev;
pub mod policy;
pub mod rate_limit;
pub mod settings;
pub mod token;

pub use policy::{Access, Permission, Role};
pub use settings::{AuthMode, AuthSettings, RateLimit, RateLimitSettings};
pub use token::{Caller, TokenError, Verifier};
