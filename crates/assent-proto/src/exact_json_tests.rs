use super::*;
use crate::canonical::to_canonical_string;

fn kept(literal: &str) -> bool {
    check_number(literal).is_ok()
}

#[test]
fn spellings_of_the_same_value_are_kept() {
    for literal in [
        "0",
        "-0",
        "-0.0",
        "0e400",
        "0.0e-99999999999999999999",
        "1",
        "1.0",
        "1.000",
        "1e0",
        "10e-1",
        "1e2",
        "1E+2",
        "100",
        "0.1",
        "0.50",
        "-4.50",
        "2.5E-3",
        "0.000001",
        "1e-7",
        "5e-324",
        "2.2250738585072014e-308",
        "4503599627370495.5",
        "9007199254740991",
        "-9007199254740991",
        "9007199254740991.0",
        "900719925474099.1e1",
        "1.5e15",
        "123456789.125",
    ] {
        assert!(kept(literal), "{literal} should be kept");
    }
}

#[test]
fn integers_beyond_2_pow_53_minus_1_are_refused_in_any_spelling() {
    for literal in [
        "9007199254740992",
        "-9007199254740992",
        "9007199254740993",
        "9007199254740993.0",
        "9007199254740992e0",
        "12345678901234567890e0",
        "12345678901234567890",
        "1e16",
        "1E+21",
        "1.7976931348623157e308",
    ] {
        assert_eq!(
            check_number(literal),
            Err(NumberProblem::BeyondSafeInteger),
            "{literal}"
        );
    }
}

#[test]
fn values_the_canonical_form_would_change_are_refused_with_that_form() {
    let cases = [
        ("0.10000000000000001", "0.1"),
        ("333333333.33333329", "333333333.3333333"),
        ("9007199254740990.5", "9007199254740990"),
        ("4.9e-324", "5e-324"),
        ("1e-400", "0"),
        ("-1e-400", "0"),
        ("0.30000000000000000444", "0.3"),
        ("1.00000000000000000001", "1"),
    ];
    for (literal, canonical) in cases {
        assert_eq!(
            check_number(literal),
            Err(NumberProblem::Rounded {
                canonical: canonical.into()
            }),
            "{literal}"
        );
    }
}

#[test]
fn numbers_beyond_the_doubles_are_refused() {
    for literal in ["1e400", "-1e400", "1e99999999999999999999"] {
        assert_eq!(
            check_number(literal),
            Err(NumberProblem::NotFinite),
            "{literal}"
        );
    }
}

#[test]
fn a_kept_number_hashes_as_its_value() {
    // What is kept canonicalizes to a text with the value written, and that text is a fixed point.
    for literal in [
        "1.0",
        "1e2",
        "-0",
        "0.50",
        "5e-324",
        "9007199254740991",
        "1.5e15",
    ] {
        let value: serde_json::Value = serde_json::from_str(literal).unwrap();
        let canonical = to_canonical_string(&value).unwrap();
        assert_eq!(
            Decimal::parse(&canonical),
            Decimal::parse(literal),
            "{literal}"
        );
        assert_eq!(check_number(&canonical), Ok(()), "{canonical}");
    }
}

#[test]
fn the_first_inexact_number_is_named_by_its_pointer() {
    let text =
        r#"[{"type":"a","n":1.0,"ok":[1,2.5]},{"type":"b","a/b":{"c~d":[0,9007199254740993]}}]"#;
    let err = check_text(text, "/authorization_details").unwrap_err();
    assert_eq!(err.pointer(), "/authorization_details/1/a~1b/c~0d/1");
    assert_eq!(
        err,
        Inexact::Number {
            pointer: "/authorization_details/1/a~1b/c~0d/1".into(),
            literal: "9007199254740993".into(),
            problem: NumberProblem::BeyondSafeInteger,
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("/authorization_details/1/a~1b/c~0d/1"),
        "{message}"
    );
    assert!(message.contains("9007199254740993"), "{message}");
    assert!(message.contains("send it as a string"), "{message}");
}

#[test]
fn names_are_read_unescaped_and_counted_per_object() {
    // "\u0061" is "a": the same name twice.
    let err = check_text(r#"{"a":1,"b":{"a":2},"\u0061":3}"#, "").unwrap_err();
    assert_eq!(
        err,
        Inexact::DuplicateName {
            pointer: "/a".into()
        }
    );
    // The same name in sibling objects and at other depths is fine; strings that look like
    // numbers, names with escaped quotes and structural characters in strings change nothing.
    check_text(
        r#"[{"a":1,"n":"9007199254740993"},{"a":[{"a":1}],"q\"[{,":"]}\\","x":[true,false,null]}]"#,
        "",
    )
    .unwrap();
    let err = check_text(r#"{"q\"":{"x,y":[1,{"z":1e400}]}}"#, "").unwrap_err();
    assert_eq!(err.pointer(), "/q\"/x,y/1/z");
}

#[test]
fn a_long_literal_is_cut_in_the_message() {
    let literal = format!("1{}", "0".repeat(500));
    let err = check_text(&format!("[{literal}]"), "/d").unwrap_err();
    let message = err.to_string();
    assert!(message.len() < 200, "{message}");
    assert!(message.starts_with("/d/0: the number 1000"), "{message}");
}

proptest::proptest! {
    /// Whatever the text, the walk ends without a panic.
    #[test]
    fn never_panics(text in "\\PC{0,80}") {
        let _ = check_text(&text, "");
    }

    /// Every double's canonical form is kept when it is within the safe range, and JSON text
    /// written by serde_json from such doubles passes whole.
    #[test]
    fn canonical_forms_are_kept(f in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
        let value = serde_json::json!({"type": "t", "n": f, "list": [f, -f]});
        let canonical = to_canonical_string(&value).unwrap();
        let kept = check_text(&canonical, "");
        proptest::prop_assert_eq!(kept.is_ok(), f.abs() <= MAX_SAFE_INTEGER, "{}", canonical);
        let written = serde_json::to_string(&value).unwrap();
        proptest::prop_assert_eq!(check_text(&written, "").is_ok(), f.abs() <= MAX_SAFE_INTEGER, "{}", written);
    }
}
