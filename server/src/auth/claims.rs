//! Reading JWT claims the way the official OpenTok server SDKs write them.
//!
//! The six SDKs (Node, Python, Ruby, PHP, Java, .NET) do not agree on JSON
//! types, so both verifiers (client tokens in [`super::token`], project
//! JWTs in [`crate::rest::auth`]) read the claims that vary through these
//! functions instead of typed fields that would refuse a real token:
//!
//! * `iss`: a string, or a number (PHP, when the key was an integer);
//! * `exp`, `iat`, `nbf`: integers, floats (Node's `expire_time` option,
//!   Python's float lifetimes, PHP's pass-through) or numeric strings
//!   (PHP): RFC 7519's NumericDate allows fractions;
//! * `ist`: in the claims, or in the JOSE header (Ruby's project JWTs);
//! * `nonce`: float (Node, Ruby), negative integer (Java): never read.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// How far in the future a `nbf` ("not before") may be and still count as
/// now: the application server's clock may be ahead of ours.
pub const CLOCK_SKEW_SECS: u64 = 300;

/// An API key claim (`iss`) as text: a string, or an integer.
pub fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

/// A NumericDate (seconds since the epoch) from an integer, a float or a
/// numeric string; fractions are cut. `None` for anything else, negative
/// or not finite.
pub fn numeric_date(v: &Value) -> Option<u64> {
    let f = match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                return Some(u);
            }
            n.as_f64()?
        }
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    // Below 2^63 the cast is exact enough; beyond, a date is meaningless.
    (0.0..9.2e18).contains(&f).then_some(f as u64)
}

/// The JOSE header of a compact JWT as JSON, without verifying anything.
pub fn header_json(token: &str) -> Option<serde_json::Map<String, Value>> {
    let head = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(head.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_in_every_sdk_shape() {
        assert_eq!(numeric_date(&json!(1_700_000_000u64)), Some(1_700_000_000));
        assert_eq!(numeric_date(&json!(1_700_000_000.75)), Some(1_700_000_000));
        assert_eq!(numeric_date(&json!("1700000000")), Some(1_700_000_000));
        assert_eq!(numeric_date(&json!(" 1700000000.5 ")), Some(1_700_000_000));
        for bad in [
            json!(-1),
            json!(-0.5),
            json!("soon"),
            json!(null),
            json!([1]),
            json!(1e300),
        ] {
            assert_eq!(numeric_date(&bad), None, "{bad}");
        }
    }

    #[test]
    fn keys_as_string_or_integer() {
        assert_eq!(key_text(&json!("100000")).as_deref(), Some("100000"));
        assert_eq!(key_text(&json!(100000)).as_deref(), Some("100000"));
        assert_eq!(key_text(&json!(1.5)), None);
        assert_eq!(key_text(&json!(null)), None);
    }

    #[test]
    fn header_is_read_without_trusting_it() {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","ist":"project"}"#);
        let m = header_json(&format!("{h}.e30.sig")).expect("header");
        assert_eq!(m.get("ist"), Some(&json!("project")));
        assert!(header_json("!!.e30.x").is_none());
        assert!(header_json(&format!("{}.e30.x", URL_SAFE_NO_PAD.encode("[1]"))).is_none());
    }
}
