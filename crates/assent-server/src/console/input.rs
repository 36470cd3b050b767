//! The console's parsers of what a browser sends, kept free of HTTP types so the fuzz target
//! can drive them: a cookie out of `Cookie` headers, and a URL-encoded form.

use std::collections::HashMap;

/// The value of cookie `name` in the `Cookie` header values, if present and not empty.
pub fn cookie<'a>(values: impl IntoIterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    values
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Why a form was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormError {
    /// A field appears twice: which one counts would be a guess.
    Repeated,
}

/// The fields of a URL-encoded form body.
pub fn form(body: &[u8]) -> Result<HashMap<String, String>, FormError> {
    let mut fields = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if fields.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(FormError::Repeated);
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let headers = ["a=1; __Host-x=two", "b=3"];
        assert_eq!(cookie(headers, "__Host-x"), Some("two"));
        assert_eq!(cookie(headers, "b"), Some("3"));
        assert_eq!(cookie(headers, "__Host"), None);
        assert_eq!(cookie(["x="], "x"), None, "an empty value is no cookie");
    }

    #[test]
    fn a_repeated_field_is_refused() {
        assert_eq!(form(b"csrf=a&csrf=b"), Err(FormError::Repeated));
        let fields = form(b"csrf=a%2Bb&name=x+y").unwrap();
        assert_eq!(fields["csrf"], "a+b");
        assert_eq!(fields["name"], "x y");
    }
}
