//! Which JSON texts keep their meaning through the canonical form, judged on the text itself.
//!
//! A parser reads every number into an IEEE 754 double, so `9007199254740993`, `0.1000000000000000001`
//! and `1e400` arrive as some other number before any check on the parsed value could see them;
//! and a parsed object keeps one of two members with the same name. The device shows and signs the
//! canonical form (`crate::canonical`, RFC 8785) of what the server parsed, so a text with such a
//! number or name would be approved as something the relying party did not send, and the relying
//! party's own hash of its text would not match. This module reads the text as it was written and
//! names the first part that the round trip would change.
//!
//! **The rule for numbers.** A number is kept when (1) it is finite as a double, (2) its value is
//! at most 2^53 − 1 = 9007199254740991 in magnitude, the integers every I-JSON (RFC 7493) party
//! holds exactly, and (3) its canonical form, ECMAScript's shortest text of the nearest double,
//! has exactly the value written. So `1`, `1.0`, `1.50`, `1e2`, `0.1`, `-0` (which is 0) and
//! `5e-324` are kept; `9007199254740992`, `1e16`, `9007199254740993.0`, `0.10000000000000001`,
//! `1e400` and `1e-400` are not.

use std::collections::HashSet;

/// Largest integer that every I-JSON implementation represents exactly.
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Why a number does not survive the canonical round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberProblem {
    /// Beyond the largest double (`1e400`): it would become infinity, which JSON cannot carry.
    NotFinite,
    /// Its magnitude exceeds 2^53 − 1, where integers stop being exact for every party.
    BeyondSafeInteger,
    /// Its canonical form has another value: what the device would show instead.
    Rounded { canonical: String },
}

/// What in a JSON text would not survive the round trip, and where (an RFC 6901 JSON Pointer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inexact {
    Number {
        pointer: String,
        literal: String,
        problem: NumberProblem,
    },
    /// An object names the same member twice; a parser keeps only one of them.
    DuplicateName { pointer: String },
}

impl Inexact {
    pub fn pointer(&self) -> &str {
        match self {
            Inexact::Number { pointer, .. } | Inexact::DuplicateName { pointer } => pointer,
        }
    }
}

impl std::fmt::Display for Inexact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inexact::Number {
                pointer,
                literal,
                problem,
            } => {
                // The literal is the caller's own text; long ones are cut to keep the answer short.
                let shown: String = literal.chars().take(40).collect();
                let cut = if shown.len() < literal.len() {
                    "…"
                } else {
                    ""
                };
                write!(f, "{pointer}: the number {shown}{cut} ")?;
                match problem {
                    NumberProblem::NotFinite => write!(f, "is beyond the range of a double"),
                    NumberProblem::BeyondSafeInteger => {
                        write!(f, "exceeds 2^53 - 1 = 9007199254740991 in magnitude")
                    }
                    NumberProblem::Rounded { canonical } => {
                        write!(f, "would be changed to {canonical}")
                    }
                }?;
                write!(f, "; send it as a string")
            }
            Inexact::DuplicateName { pointer } => {
                write!(f, "{pointer}: the member name appears twice in its object")
            }
        }
    }
}

/// Whether a JSON number, as written, survives the canonical round trip (see the module's rule).
pub fn check_number(literal: &str) -> Result<(), NumberProblem> {
    let Ok(double) = literal.parse::<f64>() else {
        return Err(NumberProblem::NotFinite);
    };
    if !double.is_finite() {
        return Err(NumberProblem::NotFinite);
    }
    if double.abs() > MAX_SAFE_INTEGER {
        return Err(NumberProblem::BeyondSafeInteger);
    }
    let canonical = if double == 0.0 {
        "0".to_owned()
    } else {
        ryu_js::Buffer::new().format_finite(double).to_owned()
    };
    if Decimal::parse(literal) == Decimal::parse(&canonical) {
        Ok(())
    } else {
        Err(NumberProblem::Rounded { canonical })
    }
}

/// Checks every number and member name of `text`, a JSON text a parser already accepted, whose
/// place is `prefix` (a JSON Pointer, empty for the document itself). Returns the first part
/// that the canonical round trip would change.
pub fn check_text(text: &str, prefix: &str) -> Result<(), Inexact> {
    Walker {
        bytes: text.as_bytes(),
        text,
        at: 0,
        path: Vec::new(),
        prefix,
    }
    .run()
}

/// An exact decimal value: digits `0.d1d2…dn × 10^point`, without leading or trailing zeros;
/// zero has no digits and no sign.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    point: i64,
}

impl Decimal {
    /// Reads a JSON number's text. Exponents are capped far beyond any double's (10^12), where
    /// every value is refused or zero anyway.
    fn parse(text: &str) -> Decimal {
        const CAP: i64 = 1_000_000_000_000;
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, "0"),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let exponent_negative = exponent.starts_with('-');
        let magnitude = exponent
            .trim_start_matches(['+', '-'])
            .bytes()
            .fold(0i64, |n, d| {
                (n * 10 + i64::from(d.wrapping_sub(b'0')).min(9)).min(CAP)
            });
        let exponent = if exponent_negative {
            -magnitude
        } else {
            magnitude
        };
        let all: String = whole.chars().chain(fraction.chars()).collect();
        let leading = all.len() - all.trim_start_matches('0').len();
        let digits = all.trim_matches('0').to_owned();
        if digits.is_empty() {
            return Decimal {
                negative: false,
                digits,
                point: 0,
            };
        }
        let whole_len = i64::try_from(whole.len()).unwrap_or(CAP);
        let leading = i64::try_from(leading).unwrap_or(CAP);
        Decimal {
            negative,
            digits,
            point: whole_len + exponent - leading,
        }
    }
}

/// One step of the path to the value being read.
enum Step {
    /// In an object: the names seen so far, and the current member's name.
    Object {
        names: HashSet<String>,
        current: Option<String>,
    },
    Array {
        index: usize,
    },
}

struct Walker<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
    path: Vec<Step>,
    prefix: &'a str,
}

impl Walker<'_> {
    fn run(mut self) -> Result<(), Inexact> {
        // Inside an object, whether the next string is a member name.
        let mut expect_name = false;
        while let Some(&byte) = self.bytes.get(self.at) {
            match byte {
                b'{' => {
                    self.path.push(Step::Object {
                        names: HashSet::new(),
                        current: None,
                    });
                    expect_name = true;
                    self.at += 1;
                }
                b'[' => {
                    self.path.push(Step::Array { index: 0 });
                    expect_name = false;
                    self.at += 1;
                }
                b'}' | b']' => {
                    self.path.pop();
                    expect_name = false;
                    self.at += 1;
                }
                b',' => {
                    match self.path.last_mut() {
                        Some(Step::Array { index }) => *index += 1,
                        Some(Step::Object { .. }) => expect_name = true,
                        None => {}
                    }
                    self.at += 1;
                }
                b'"' => {
                    let start = self.at;
                    self.skip_string();
                    if expect_name {
                        expect_name = false;
                        let raw = self.text.get(start..self.at).unwrap_or("\"\"");
                        let name: String = serde_json::from_str(raw).unwrap_or_default();
                        self.name(name)?;
                    }
                }
                b'-' | b'0'..=b'9' => {
                    let start = self.at;
                    while self.bytes.get(self.at).is_some_and(|&b| {
                        matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    }) {
                        self.at += 1;
                    }
                    let literal = self.text.get(start..self.at).unwrap_or_default();
                    if let Err(problem) = check_number(literal) {
                        return Err(Inexact::Number {
                            pointer: self.pointer(),
                            literal: literal.to_owned(),
                            problem,
                        });
                    }
                }
                // Whitespace, `:`, and the letters of true, false and null.
                _ => self.at += 1,
            }
        }
        Ok(())
    }

    /// Moves past a string that starts at the current byte, escapes included.
    fn skip_string(&mut self) {
        self.at += 1;
        while let Some(&byte) = self.bytes.get(self.at) {
            self.at += match byte {
                b'\\' => 2,
                b'"' => {
                    self.at += 1;
                    return;
                }
                _ => 1,
            };
        }
    }

    /// A member name of the innermost object: refused if the object already has it.
    fn name(&mut self, name: String) -> Result<(), Inexact> {
        let Some(Step::Object { names, current }) = self.path.last_mut() else {
            return Ok(());
        };
        let fresh = names.insert(name.clone());
        *current = Some(name);
        if fresh {
            Ok(())
        } else {
            Err(Inexact::DuplicateName {
                pointer: self.pointer(),
            })
        }
    }

    /// The RFC 6901 JSON Pointer of the value being read.
    fn pointer(&self) -> String {
        let mut out = self.prefix.to_owned();
        for step in &self.path {
            out.push('/');
            match step {
                Step::Object { current, .. } => {
                    let name = current.as_deref().unwrap_or_default();
                    out.push_str(&name.replace('~', "~0").replace('/', "~1"));
                }
                Step::Array { index } => out.push_str(&index.to_string()),
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "exact_json_tests.rs"]
mod tests;
