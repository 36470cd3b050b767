//! The parameters of one Auth API call, wherever the client put them: the query string of a
//! `GET`, the form body of a version 2 `POST`, or the JSON object of a version 5 `POST`.

use serde_json::Value;

/// Longest `pushinfo`, in bytes as sent (URL-encoded). Duo allows more; Assent shows every
/// pair on the device and signs them into the decision, so it keeps them to what a person can
/// read on a phone.
pub const MAX_PUSHINFO_LEN: usize = 2048;
/// Most pairs in `pushinfo`.
pub const MAX_PUSHINFO_PAIRS: usize = 16;

/// A parameter that could not be read: the name is Duo's `message_detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// The parameter's name.
    pub param: String,
    /// Why, in a sentence for the integrator.
    pub reason: String,
}

impl ParamError {
    pub fn new(param: &str, reason: impl Into<String>) -> Self {
        ParamError {
            param: param.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A call's parameters as name/value pairs, in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DuoParams(Vec<(String, String)>);

impl DuoParams {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        DuoParams(pairs)
    }

    /// Reads a version 5 JSON body: one object whose values are strings, numbers or booleans
    /// (duo_client sends `True` as `true`); `null` is an absent parameter. Anything else is
    /// refused: no Auth API parameter is a list or an object.
    pub fn from_json(body: &[u8]) -> Result<Self, ParamError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| ParamError::new("body", "the JSON body is not valid JSON"))?;
        let Value::Object(map) = value else {
            return Err(ParamError::new("body", "the JSON body is not an object"));
        };
        if map.len() > super::params::MAX_PARAMS {
            return Err(ParamError::new("body", "too many parameters"));
        }
        let mut pairs = Vec::with_capacity(map.len());
        for (name, value) in map {
            let text = match value {
                Value::Null => continue,
                Value::String(text) => text,
                Value::Bool(true) => "1".to_owned(),
                Value::Bool(false) => "0".to_owned(),
                Value::Number(n) => n.to_string(),
                Value::Array(_) | Value::Object(_) => {
                    return Err(ParamError::new(&name, "must be a string"));
                }
            };
            pairs.push((name, text));
        }
        Ok(DuoParams(pairs))
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The one value of `name`; a parameter sent twice is refused, since two readers could
    /// take different ones.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ParamError> {
        let mut found = self.0.iter().filter(|(n, _)| n == name);
        let first = found.next().map(|(_, v)| v.as_str());
        if found.next().is_some() {
            return Err(ParamError::new(name, "is given more than once"));
        }
        Ok(first)
    }

    /// The value of a required parameter.
    pub fn required(&self, name: &str) -> Result<&str, ParamError> {
        self.get(name)?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ParamError::new(name, "is required"))
    }

    /// A yes/no parameter: `1`/`true` or `0`/`false`; absent is no.
    pub fn flag(&self, name: &str) -> Result<bool, ParamError> {
        match self.get(name)? {
            None | Some("0" | "false" | "") => Ok(false),
            Some("1" | "true") => Ok(true),
            Some(_) => Err(ParamError::new(name, "must be 0 or 1")),
        }
    }
}

/// Reads `pushinfo`: URL-encoded `key=value` pairs (Duo's format: `from=login&domain=example.com`)
/// that the device shows as the transaction's details. Refused: more than
/// [`MAX_PUSHINFO_LEN`] bytes or [`MAX_PUSHINFO_PAIRS`] pairs, a key given twice, an empty key,
/// a malformed escape.
pub fn parse_pushinfo(text: &str) -> Result<Vec<(String, String)>, ParamError> {
    if text.len() > MAX_PUSHINFO_LEN {
        return Err(ParamError::new(
            "pushinfo",
            format!("is longer than {MAX_PUSHINFO_LEN} bytes"),
        ));
    }
    let pairs =
        super::params::parse_query(text).map_err(|e| ParamError::new("pushinfo", e.to_string()))?;
    if pairs.len() > MAX_PUSHINFO_PAIRS {
        return Err(ParamError::new(
            "pushinfo",
            format!("has more than {MAX_PUSHINFO_PAIRS} pairs"),
        ));
    }
    for (index, (key, _)) in pairs.iter().enumerate() {
        if key.is_empty() {
            return Err(ParamError::new("pushinfo", "has an empty key"));
        }
        if pairs[..index].iter().any(|(k, _)| k == key) {
            return Err(ParamError::new(
                "pushinfo",
                format!("gives the key {key:?} more than once"),
            ));
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_become_pairs() {
        let p = DuoParams::from_json(br#"{"async":"1","factor":"push","n":5,"v":true,"x":null}"#)
            .unwrap();
        assert_eq!(p.get("async").unwrap(), Some("1"));
        assert_eq!(p.get("n").unwrap(), Some("5"));
        assert!(p.flag("v").unwrap());
        assert_eq!(p.get("x").unwrap(), None);
        assert!(DuoParams::from_json(br#"{"a":[1]}"#).is_err());
        assert!(DuoParams::from_json(b"[1]").is_err());
        assert!(DuoParams::from_json(b"{").is_err());
    }

    #[test]
    fn a_repeated_parameter_is_refused() {
        let p = DuoParams::from_pairs(vec![
            ("username".into(), "a".into()),
            ("username".into(), "b".into()),
        ]);
        assert_eq!(p.get("username").unwrap_err().param, "username");
        assert!(p.flag("async").is_ok_and(|f| !f));
        assert!(p.required("factor").is_err());
    }

    #[test]
    fn pushinfo_is_bounded_and_unambiguous() {
        assert_eq!(
            parse_pushinfo("Server+IP=10.0.0.1&Command=ls%20-l").unwrap(),
            vec![
                ("Server IP".to_owned(), "10.0.0.1".to_owned()),
                ("Command".to_owned(), "ls -l".to_owned())
            ]
        );
        assert!(parse_pushinfo("a=1&a=2").is_err());
        assert!(parse_pushinfo("=1").is_err());
        assert!(parse_pushinfo(&format!("a={}", "x".repeat(2047))).is_err());
        let many: Vec<String> = (0..17).map(|i| format!("k{i}=v")).collect();
        assert!(parse_pushinfo(&many.join("&")).is_err());
    }
}
