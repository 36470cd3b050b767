//! Whole numbers as JSON Schema defines them: `15.0` is the integer 15 (JSON Schema counts a
//! number with no fractional part as an integer), so a client that writes it so is not refused
//! for the form of a value the OpenAPI description allows.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// An optional whole number in `T`'s range, written as an integer or as a number with no
/// fractional part.
pub(crate) fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    // serde_json writes a whole float with a `.0` (`15.0`), and a large one with an exponent,
    // which is out of every range here anyway.
    let whole = number.as_u64().or_else(|| {
        let text = number.to_string();
        text.strip_suffix(".0").and_then(|t| t.parse::<u64>().ok())
    });
    whole
        .and_then(|w| T::try_from(w).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("{number} is not a whole number in range")))
}

/// A required whole number in `T`'s range, under the rules of [`optional`].
pub(crate) fn required<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    optional(deserializer)?.ok_or_else(|| D::Error::custom("a whole number is required"))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "super::optional")]
        n: Option<u8>,
    }

    fn n(json: &str) -> Result<Option<u8>, serde_json::Error> {
        serde_json::from_str::<T>(json).map(|t| t.n)
    }

    #[test]
    fn whole_numbers_in_either_form() {
        assert_eq!(n(r#"{"n": 7}"#).unwrap(), Some(7));
        assert_eq!(n(r#"{"n": 7.0}"#).unwrap(), Some(7));
        assert_eq!(n(r#"{"n": null}"#).unwrap(), None);
        assert_eq!(n("{}").unwrap(), None);
        assert!(n(r#"{"n": 7.5}"#).is_err());
        assert!(n(r#"{"n": -1}"#).is_err());
        assert!(n(r#"{"n": 256}"#).is_err());
        assert!(n(r#"{"n": "7"}"#).is_err());
    }
}
