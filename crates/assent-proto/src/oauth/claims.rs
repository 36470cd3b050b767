//! Reading JWT claims that every verifier here shares: strings, NumericDates, audiences and
//! `jti`s, each refused with a short name of the defect.

use serde_json::{Map, Value};

/// Longest `jti` accepted: the caller stores it until the token expires, so it is bounded.
pub(crate) const MAX_JTI: usize = 256;

/// A string claim; `Err` when present but not a string.
pub(crate) fn string<'a>(
    claims: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, String> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

/// A NumericDate claim (RFC 7519 §2: seconds, possibly with a fraction, which is dropped).
pub(crate) fn time(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let refuse = || format!("{name} must be a NumericDate (seconds since 1970)");
    if let Some(seconds) = value.as_i64() {
        return Ok(Some(seconds));
    }
    match value.as_f64() {
        // Far beyond any real date; the bound keeps the cast exact and the arithmetic in range.
        Some(seconds) if seconds.is_finite() && seconds.abs() < 1e15 => {
            Ok(Some(seconds.floor() as i64))
        }
        _ => Err(refuse()),
    }
}

/// A NumericDate claim that must be present.
pub(crate) fn required_time(claims: &Map<String, Value>, name: &str) -> Result<i64, String> {
    time(claims, name)?.ok_or_else(|| format!("{name} is required"))
}

/// The `jti`: required, 1 to [`MAX_JTI`] characters.
pub(crate) fn jti(claims: &Map<String, Value>) -> Result<String, String> {
    match string(claims, "jti")? {
        Some(jti) if !jti.is_empty() && jti.chars().count() <= MAX_JTI => Ok(jti.to_owned()),
        Some(_) => Err(format!("jti must be 1 to {MAX_JTI} characters")),
        None => Err("jti is required".into()),
    }
}

/// Whether `aud` (a string or an array of strings, RFC 7519 §4.1.3) names one of `accepted`.
pub(crate) fn audience_matches(
    claims: &Map<String, Value>,
    accepted: &[&str],
) -> Result<(), String> {
    let matches = |candidate: &str| accepted.contains(&candidate);
    let found = match claims.get("aud") {
        Some(Value::String(aud)) => matches(aud),
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str().is_some_and(matches)),
        Some(_) => return Err("aud must be a string or an array of strings".into()),
        None => return Err("aud is required".into()),
    };
    if found {
        Ok(())
    } else {
        Err("aud does not name this server".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn times_accept_integers_and_fractions_only() {
        let claims = map(json!({"a": 10, "b": 10.9, "c": "10", "d": 1e300}));
        assert_eq!(time(&claims, "a"), Ok(Some(10)));
        assert_eq!(time(&claims, "b"), Ok(Some(10)));
        assert!(time(&claims, "c").is_err());
        assert!(time(&claims, "d").is_err());
        assert_eq!(time(&claims, "missing"), Ok(None));
        assert!(required_time(&claims, "missing").is_err());
    }

    #[test]
    fn audiences_as_string_or_array() {
        let accepted = ["https://a", "https://a/token"];
        assert!(audience_matches(&map(json!({"aud": "https://a"})), &accepted).is_ok());
        assert!(
            audience_matches(&map(json!({"aud": ["x", "https://a/token"]})), &accepted).is_ok()
        );
        assert!(audience_matches(&map(json!({"aud": ["x", 1]})), &accepted).is_err());
        assert!(audience_matches(&map(json!({"aud": "https://a/"})), &accepted).is_err());
        assert!(audience_matches(&map(json!({"aud": 1})), &accepted).is_err());
        assert!(audience_matches(&map(json!({})), &accepted).is_err());
    }

    #[test]
    fn jti_is_bounded() {
        assert_eq!(jti(&map(json!({"jti": "a"}))), Ok("a".into()));
        assert!(jti(&map(json!({"jti": ""}))).is_err());
        assert!(jti(&map(json!({"jti": "é".repeat(257)}))).is_err());
        assert!(jti(&map(json!({"jti": "é".repeat(256)}))).is_ok());
        assert!(jti(&map(json!({"jti": 5}))).is_err());
        assert!(jti(&map(json!({}))).is_err());
    }
}
