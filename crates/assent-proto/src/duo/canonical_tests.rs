//! Known answers for the canonical strings. Unless said otherwise, inputs and expected strings
//! are copied from duo_client_python's `tests/test_client.py` (duosecurity/duo_client_python at
//! 6e207eb9), `TestQueryParameters` and `TestCanonicalize`.

use super::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// The four unicode parameters duo_client's `test_unicode_fuzz_keys_and_values`,
/// `test_v1`, `test_v2` and `TestSign` share.
pub(crate) fn unicode_params() -> Vec<(String, String)> {
    pairs(&[
        (
            "\u{469a}\u{287b}\u{35d0}\u{8ef3}\u{6727}\u{502a}\u{0810}\u{d091}\u{c8}\u{c170}",
            "\u{0f45}\u{1a76}\u{341a}\u{654c}\u{c23f}\u{9b09}\u{abe2}\u{8343}\u{1b27}\u{60d0}",
        ),
        (
            "\u{7449}\u{7e4b}\u{ccfb}\u{59ff}\u{fe5f}\u{83b7}\u{adcc}\u{900c}\u{cfd1}\u{7813}",
            "\u{8db7}\u{5022}\u{92d3}\u{42ef}\u{207d}\u{8730}\u{acfe}\u{5617}\u{0946}\u{4e30}",
        ),
        (
            "\u{7470}\u{9314}\u{901c}\u{9eae}\u{40d8}\u{4201}\u{82d8}\u{8c70}\u{1d31}\u{a042}",
            "\u{17d9}\u{0ba8}\u{9358}\u{aadf}\u{a42a}\u{48be}\u{fb96}\u{6fe9}\u{b7ff}\u{32f3}",
        ),
        (
            "\u{c2c5}\u{2c1d}\u{2620}\u{3617}\u{96b3}F\u{8605}\u{20e8}\u{ac21}\u{5934}",
            "\u{fba9}\u{41aa}\u{bd83}\u{840b}\u{2615}\u{3e6e}\u{652d}\u{a8b5}\u{d56b}U",
        ),
    ])
}

pub(crate) const UNICODE_CANON: &str = "%E4%9A%9A%E2%A1%BB%E3%97%90%E8%BB%B3%E6%9C%A7%E5%80%AA%E0%A0%90%ED%82%91%C3%88%EC%85%B0=%E0%BD%85%E1%A9%B6%E3%90%9A%E6%95%8C%EC%88%BF%E9%AC%89%EA%AF%A2%E8%8D%83%E1%AC%A7%E6%83%90&%E7%91%89%E7%B9%8B%EC%B3%BB%E5%A7%BF%EF%B9%9F%E8%8E%B7%EA%B7%8C%E9%80%8C%EC%BF%91%E7%A0%93=%E8%B6%B7%E5%80%A2%E9%8B%93%E4%8B%AF%E2%81%BD%E8%9C%B0%EA%B3%BE%E5%98%97%E0%A5%86%E4%B8%B0&%E7%91%B0%E9%8C%94%E9%80%9C%E9%BA%AE%E4%83%98%E4%88%81%E8%8B%98%E8%B1%B0%E1%B4%B1%EA%81%82=%E1%9F%99%E0%AE%A8%E9%8D%98%EA%AB%9F%EA%90%AA%E4%A2%BE%EF%AE%96%E6%BF%A9%EB%9F%BF%E3%8B%B3&%EC%8B%85%E2%B0%9D%E2%98%A0%E3%98%97%E9%9A%B3F%E8%98%85%E2%83%A8%EA%B0%A1%E5%A4%B4=%EF%AE%A9%E4%86%AA%EB%B6%83%E8%90%8B%E2%98%95%E3%B9%AE%E6%94%AD%EA%A2%B5%ED%95%ABU";

/// duo_client's `JSON_STRING`: `canon_json(JSON_BODY)`.
pub(crate) const JSON_STRING: &str =
    r#"{"alpha":["a","b","c","d"],"data":"abc123","info":{"another":2,"test":1}}"#;

#[test]
fn canon_params_matches_duo_client() {
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (vec![], ""),
        (
            pairs(&[("realname", "First Last")]),
            "realname=First%20Last",
        ),
        (
            pairs(&[("realname", "First Last"), ("username", "root")]),
            "realname=First%20Last&username=root",
        ),
        (
            pairs(&[("words", "First Last"), ("success", "true"), ("digit", "5")]),
            "digit=5&success=true&words=First%20Last",
        ),
        (
            pairs(&[
                ("words", "First Last"),
                ("success", "false"),
                ("digit", "5"),
            ]),
            "digit=5&success=false&words=First%20Last",
        ),
        (
            pairs(&[
                ("digits", "0123456789"),
                (
                    "letters",
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                ),
                ("punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
                ("whitespace", "\t\n\x0b\x0c\r "),
            ]),
            "digits=0123456789&letters=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ&punctuation=%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~&whitespace=%09%0A%0B%0C%0D%20",
        ),
        (
            pairs(&[
                (
                    "bar",
                    "\u{2815}\u{aaa3}\u{37cf}\u{4bb7}\u{36e9}\u{cc05}\u{668e}\u{8162}\u{c2bd}\u{a1f1}",
                ),
                (
                    "baz",
                    "\u{0df3}\u{84bd}\u{5669}\u{9985}\u{b8a4}\u{ac3a}\u{7be7}\u{6f69}\u{934a}\u{b91c}",
                ),
                (
                    "foo",
                    "\u{d4ce}\u{d6d6}\u{7938}\u{50c0}\u{8a20}\u{8f15}\u{fd0b}\u{8024}\u{5cb3}\u{c655}",
                ),
                (
                    "qux",
                    "\u{8b97}\u{c846}-\u{828e}\u{831a}\u{ccca}\u{a2d4}\u{8c3e}\u{b8b2}\u{99be}",
                ),
            ]),
            "bar=%E2%A0%95%EA%AA%A3%E3%9F%8F%E4%AE%B7%E3%9B%A9%EC%B0%85%E6%9A%8E%E8%85%A2%EC%8A%BD%EA%87%B1&baz=%E0%B7%B3%E8%92%BD%E5%99%A9%E9%A6%85%EB%A2%A4%EA%B0%BA%E7%AF%A7%E6%BD%A9%E9%8D%8A%EB%A4%9C&foo=%ED%93%8E%ED%9B%96%E7%A4%B8%E5%83%80%E8%A8%A0%E8%BC%95%EF%B4%8B%E8%80%A4%E5%B2%B3%EC%99%95&qux=%E8%AE%97%EC%A1%86-%E8%8A%8E%E8%8C%9A%EC%B3%8A%EA%8B%94%E8%B0%BE%EB%A2%B2%E9%A6%BE",
        ),
        (unicode_params(), UNICODE_CANON),
        (pairs(&[("foo_bar", "2"), ("foo", "1")]), "foo=1&foo_bar=2"),
    ];
    for (params, expected) in cases {
        assert_eq!(canon_params(&params), expected);
        // The order the parameters arrive in never matters.
        let mut reversed = params.clone();
        reversed.reverse();
        assert_eq!(canon_params(&reversed), expected);
    }
}

#[test]
fn canonical_v1_and_its_signature_match_duo_client() {
    // Generated with duo_client 5.7.0's `canonicalize(..., sig_version=1)` and `sign(...,
    // digestmod=hashlib.sha1)`: the legacy v1 form duo_unix 1.11 signs, with no date line.
    let params = pairs(&[
        ("user", "alice"),
        ("ipaddr", "203.0.113.7"),
        ("hostname", "bastion"),
        ("failmode", "closed"),
        ("pushinfo", "Server+IP=10.0.0.1&Command=ls%20-l"),
    ]);
    let canonical = canonical_v1(
        "POST",
        "API-Example.duosecurity.com",
        "/rest/v1/auth.bson",
        &params,
    );
    assert_eq!(
        canonical,
        "POST\napi-example.duosecurity.com\n/rest/v1/auth.bson\nfailmode=closed&hostname=bastion&ipaddr=203.0.113.7&pushinfo=Server%2BIP%3D10.0.0.1%26Command%3Dls%2520-l&user=alice"
    );
    let skey = b"Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
    let signature = "bd24f57eca426079e3cae4898f3eef8b2a2558b1";
    assert_eq!(
        crate::duo::signature::sign(skey, &canonical, crate::duo::signature::Digest::Sha1),
        signature
    );
    assert!(crate::duo::signature::verify(
        skey,
        crate::duo::signature::SigVersion::V1,
        &canonical,
        signature
    ));
}

#[test]
fn canonical_v2_matches_duo_client() {
    // test_v2: the method is upper-cased, the host lower-cased, the path kept.
    let expected = format!(
        "Fri, 07 Dec 2012 17:18:00 -0000\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n{UNICODE_CANON}"
    );
    assert_eq!(
        canonical_v2(
            "Fri, 07 Dec 2012 17:18:00 -0000",
            "PoSt",
            "foO.BAr52.cOm",
            "/Foo/BaR2/qux",
            &unicode_params()
        ),
        expected
    );
}

#[test]
fn canonical_v5_matches_duo_client() {
    // test_v5_with_json: a JSON body, no parameters, one X-Duo header.
    let body_digest =
        hex_lower(ring::digest::digest(&ring::digest::SHA512, JSON_STRING.as_bytes()).as_ref());
    let expected = format!(
        "Tue, 17 Nov 2020 14:12:00\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n\n{body_digest}\n630b4bfe7e9abd03da2eee8f0a5d4e60a254ec880a839bcc2223bb5b9443e8ef24d58f0254f1f5934bf8c017ebd0fd5b1acf86766bdbe74185e712a4092df3ed"
    );
    let actual = canonical_v5(
        "Tue, 17 Nov 2020 14:12:00",
        "POST",
        "foO.BaR52.cOm",
        "/Foo/BaR2/qux",
        &[],
        JSON_STRING.as_bytes(),
        &pairs(&[("X-Duo-Header-1", "header_value_1")]),
    );
    assert_eq!(actual, expected);

    // test_signature_v5_lowers_and_then_sorts_headers.
    let expected = format!(
        "Tue, 17 Nov 2020 14:12:00\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n\n{body_digest}\n60be11a30e0756f2ee2afdce1db849b987dcf86c1133394bd7bbbc9877920330c4d78aceacbb377ab8cbd9a8efe6a410fed4047376635ac71226ab46ca10d2b1"
    );
    for headers in [
        pairs(&[("x-duo-A", "header_value_1"), ("X-Duo-B", "header_value_2")]),
        pairs(&[("X-Duo-B", "header_value_2"), ("x-duo-A", "header_value_1")]),
    ] {
        let actual = canonical_v5(
            "Tue, 17 Nov 2020 14:12:00",
            "POST",
            "foO.BaR52.cOm",
            "/Foo/BaR2/qux",
            &[],
            JSON_STRING.as_bytes(),
            &headers,
        );
        assert_eq!(actual, expected);
    }
}

/// Made by calling duo_client 5.7.0's own `canonicalize` and `canon_x_duo_headers` (pip
/// `duo_client`), pinned here: names and values sorted by their encoded form, repeated names,
/// a non-ASCII name, and headers with a non-ASCII and an empty value.
#[test]
fn extra_vectors_from_duo_client_5_7_0() {
    let params = pairs(&[
        ("a/b", "2"),
        ("a/b", "10"),
        ("a/b", "1"),
        ("a-b", "x"),
        ("a", "-"),
        ("a", "/"),
        ("\u{e9}", "\u{fc}"),
    ]);
    assert_eq!(
        canonical_v2(
            "Tue, 21 Aug 2012 17:29:18 -0000",
            "get",
            "Api-ABC.DuoSecurity.com",
            "/auth/v2/preauth",
            &params
        ),
        "Tue, 21 Aug 2012 17:29:18 -0000\nGET\napi-abc.duosecurity.com\n/auth/v2/preauth\n%C3%A9=%C3%BC&a=%2F&a=-&a%2Fb=1&a%2Fb=10&a%2Fb=2&a-b=x"
    );
    let empty = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
    assert_eq!(canon_duo_headers(&[]), empty);
    assert_eq!(
        canon_duo_headers(&pairs(&[("X-Duo-B", "\u{fc}"), ("x-duo-a", "")])),
        "ed565d32f66e3acb6f7caa5c985a7a2a6f3e454d7796866186f6f17fe22454c483066e2d8c4139dc5d8b446a51f5e91ed5fc9b133ad5120b383c1538891830f8"
    );
}

#[test]
fn only_x_duo_headers_are_signed() {
    let signed = pairs(&[("X-Duo-Trace", "abc")]);
    let with_others = pairs(&[
        ("X-Duo-Trace", "abc"),
        ("Date", "Tue, 21 Aug 2012 17:29:18 -0000"),
        ("Authorization", "Basic x"),
        ("X-Duo", "not a prefix match"),
    ]);
    assert_eq!(canon_duo_headers(&signed), canon_duo_headers(&with_others));
    // A repeated header, which no client signs, changes the digest.
    let repeated = pairs(&[("X-Duo-Trace", "abc"), ("x-duo-trace", "abc")]);
    assert_ne!(canon_duo_headers(&signed), canon_duo_headers(&repeated));
}

#[test]
fn every_part_changes_the_canonical_string() {
    let params = pairs(&[("username", "alice"), ("factor", "push")]);
    let base = canonical_v5("D", "POST", "h", "/p", &params, b"{}", &[]);
    let changed = [
        canonical_v5("E", "POST", "h", "/p", &params, b"{}", &[]),
        canonical_v5("D", "GET", "h", "/p", &params, b"{}", &[]),
        canonical_v5("D", "POST", "g", "/p", &params, b"{}", &[]),
        canonical_v5("D", "POST", "h", "/P", &params, b"{}", &[]),
        canonical_v5("D", "POST", "h", "/p", &params[..1], b"{}", &[]),
        canonical_v5("D", "POST", "h", "/p", &params, b"{ }", &[]),
        canonical_v5(
            "D",
            "POST",
            "h",
            "/p",
            &params,
            b"{}",
            &pairs(&[("X-Duo-A", "")]),
        ),
    ];
    for other in changed {
        assert_ne!(base, other);
    }
    // The value of a repeated name is part of what is signed.
    let one = pairs(&[("x", "a"), ("x", "b")]);
    let other = pairs(&[("x", "a"), ("x", "c")]);
    assert_ne!(canon_params(&one), canon_params(&other));
    assert_eq!(canon_params(&one), "x=a&x=b");
}
