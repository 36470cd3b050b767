//! Form and query parsing: what Duo's clients send, and the refusals.

use super::*;

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn reads_what_clients_send() {
    // duo_client 5.7.0's urlencode of a GET with a repeated name (captured, see
    // signature_tests.rs): `+` for a space, `%2B` for a plus, `~` left as is.
    assert_eq!(
        parse_query("txid=t~x+y&x=b&x=a+a&x=a%2Bb").unwrap(),
        owned(&[("txid", "t~x y"), ("x", "b"), ("x", "a a"), ("x", "a+b")])
    );
    // duo_unix's encoder: `%20`, upper-case escapes.
    assert_eq!(
        parse_form(b"ipaddr=10.0.0.1&user=a%20b%C3%A9").unwrap(),
        owned(&[("ipaddr", "10.0.0.1"), ("user", "a b\u{e9}")])
    );
    assert_eq!(parse_form(b"").unwrap(), owned(&[]));
    // Lower-case escapes, empty pieces, a name without `=`, an empty name and value.
    assert_eq!(
        parse_form(b"a=%c3%a9&&b&=&c=x=y&").unwrap(),
        owned(&[("a", "\u{e9}"), ("b", ""), ("", ""), ("c", "x=y")])
    );
}

#[test]
fn refuses_malformed_and_oversized_input() {
    assert_eq!(parse_form(b"a=%"), Err(DuoSigError::BadPercentEscape));
    assert_eq!(parse_form(b"a=%4"), Err(DuoSigError::BadPercentEscape));
    assert_eq!(parse_form(b"a=%zz"), Err(DuoSigError::BadPercentEscape));
    assert_eq!(parse_form(b"%g1=a"), Err(DuoSigError::BadPercentEscape));
    assert_eq!(parse_form(b"a=%ff"), Err(DuoSigError::NotUtf8));
    assert_eq!(parse_form(b"a=\xff"), Err(DuoSigError::NotUtf8));
    let big = vec![b'a'; MAX_PARAMS_LEN + 1];
    assert_eq!(
        parse_form(&big),
        Err(DuoSigError::ParamsTooLarge {
            limit: MAX_PARAMS_LEN
        })
    );
    assert!(parse_form(&big[..MAX_PARAMS_LEN]).is_ok());
    let many = vec!["a=1"; MAX_PARAMS + 1].join("&");
    assert_eq!(
        parse_query(&many),
        Err(DuoSigError::TooManyParams { limit: MAX_PARAMS })
    );
    let enough = vec!["a=1"; MAX_PARAMS].join("&");
    assert_eq!(parse_query(&enough).map(|p| p.len()), Ok(MAX_PARAMS));
}

#[test]
fn encoding_round_trips() {
    let params = owned(&[
        ("a b", "c+d"),
        ("", ""),
        ("x", "&=%~"),
        ("\u{2603}", "\u{e9}\n"),
        ("x", "again"),
    ]);
    assert_eq!(parse_form(encode_form(&params).as_bytes()).unwrap(), params);
}
