//! RFC 8785 JSON Canonicalization Scheme (JCS): one byte sequence per JSON value, so a device and
//! the server hash the same transaction details to the same digest whatever their JSON libraries.

use serde_json::Value;
use std::fmt::Write as _;

/// Why a value has no canonical form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    /// I-JSON (RFC 7493) numbers are IEEE 754 doubles; an integer beyond 2^53 would be rounded
    /// silently by a JavaScript device, so two parties could hash different numbers.
    #[error("number {0} cannot be represented exactly as an IEEE 754 double")]
    InexactNumber(String),
}

/// Largest integer that every I-JSON implementation represents exactly.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Serializes `value` in canonical form.
pub fn to_canonical_string(value: &Value) -> Result<String, CanonicalError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // RFC 8785 section 3.2.3: keys sorted by their UTF-16 code units.
            entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(out: &mut String, n: &serde_json::Number) -> Result<(), CanonicalError> {
    // Beyond 2^53 an integer literal is kept only if it is already the shortest form of its
    // double (what ECMAScript prints for it): then every party reads the same number and the
    // canonical form is a fixed point. Any other (9007199254740993) would be silently rounded.
    let round_trips = |literal: String| {
        n.as_f64()
            .is_some_and(|f| ryu_js::Buffer::new().format_finite(f) == literal)
    };
    let exact = if let Some(u) = n.as_u64() {
        u <= MAX_SAFE_INTEGER || round_trips(u.to_string())
    } else if let Some(i) = n.as_i64() {
        i.unsigned_abs() <= MAX_SAFE_INTEGER || round_trips(i.to_string())
    } else {
        true
    };
    let float = n.as_f64().filter(|f| f.is_finite() && exact);
    let Some(float) = float else {
        return Err(CanonicalError::InexactNumber(n.to_string()));
    };
    // ECMAScript's Number.prototype.toString, which RFC 8785 adopts; -0 serializes as 0.
    if float == 0.0 {
        out.push('0');
    } else {
        let mut buffer = ryu_js::Buffer::new();
        out.push_str(buffer.format_finite(float));
    }
    Ok(())
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_by_utf16_code_units() {
        // RFC 8785 section 3.2.3 example: "\u20ac" sorts before "\ud83d\ude00" in UTF-16 order
        // although its UTF-8 bytes sort after.
        let value: Value =
            serde_json::from_str(r#"{"\u20ac":"Euro","\r":"cr","1":"one","\ud83d\ude00":"smile","\u0080":"ctl","\u00f6":"o"}"#)
                .unwrap();
        assert_eq!(
            to_canonical_string(&value).unwrap(),
            "{\"\\r\":\"cr\",\"1\":\"one\",\"\u{80}\":\"ctl\",\"\u{f6}\":\"o\",\"\u{20ac}\":\"Euro\",\"\u{1f600}\":\"smile\"}"
        );
    }

    #[test]
    fn rfc8785_number_examples() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("1e30", "1e+30"),
            ("4.50", "4.5"),
            ("2e-3", "0.002"),
            ("0.000001", "0.000001"),
            ("1e-7", "1e-7"),
            ("333333333.33333329", "333333333.3333333"),
            ("9007199254740991", "9007199254740991"),
            ("-9007199254740991", "-9007199254740991"),
        ];
        for (input, expected) in cases {
            let value: Value = serde_json::from_str(input).unwrap();
            assert_eq!(to_canonical_string(&value).unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn large_doubles_are_a_fixed_point() {
        // Found by the canonical_json fuzz target: a large double prints as integer digits,
        // which must read back as the same double.
        let value: Value = serde_json::from_str("594590119111951057.991").unwrap();
        let once = to_canonical_string(&value).unwrap();
        assert_eq!(once, "594590119111951100");
        let again: Value = serde_json::from_str(&once).unwrap();
        assert_eq!(to_canonical_string(&again).unwrap(), once);
        assert_eq!(
            to_canonical_string(&json!(9007199254740992u64)).unwrap(),
            "9007199254740992"
        );
    }

    #[test]
    fn refuses_integers_beyond_double_precision() {
        let value = json!(9007199254740993u64);
        assert!(to_canonical_string(&value).is_err());
        let value = json!(-9007199254740993i64);
        assert!(to_canonical_string(&value).is_err());
    }

    #[test]
    fn escapes_like_json_stringify() {
        let value = json!({"a": "\u{1}\u{1f}\"\\/\n\u{7f}é"});
        assert_eq!(
            to_canonical_string(&value).unwrap(),
            "{\"a\":\"\\u0001\\u001f\\\"\\\\/\\n\u{7f}é\"}"
        );
    }

    proptest::proptest! {
        #[test]
        fn canonical_form_is_a_fixed_point(s in "\\PC{0,40}", n in -1_000_000i64..1_000_000, f in -1e9f64..1e9) {
            let value = json!({"s": s, "n": n, "f": f, "nested": [{"z": 1, "a": [s.clone()]}]});
            let once = to_canonical_string(&value).unwrap();
            let reparsed: Value = serde_json::from_str(&once).unwrap();
            proptest::prop_assert_eq!(to_canonical_string(&reparsed).unwrap(), once);
        }
    }
}
