//! The policy loader (TOML rules with CEL conditions) and the decision over request facts.
//! Files are built from rules whose conditions come from a small CEL grammar over the real facts
//! (comparisons, arithmetic, membership, string functions, macros) or from arbitrary text, then
//! decided over arbitrary facts. Loading and deciding never panic; a loaded policy lists its
//! rules in order; a decision names one of its rules or the fallback.
#![no_main]

use arbitrary::Arbitrary;
use assent_core::risk::policy::{OutcomeKind, Policy};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const FACTS: &[&str] = &[
    "request.kind",
    "request.application",
    "request.user",
    "request.binding_message",
    "request.authorization_details",
    "request.amount",
    "request.passkey",
    "context.ip",
    "context.user_agent",
    "context.device_id",
    "context.country",
    "context.city",
    "risk.score",
    "risk.reasons",
    "user.devices",
    "user.groups",
    "user.approvals",
    "user.denials",
    "user.frauds",
];

#[derive(Arbitrary, Debug)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    And,
    Or,
    In,
}

#[derive(Arbitrary, Debug)]
enum Expr {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Double(f64),
    Str(String),
    Fact(u8),
    Field(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(Op, Box<Expr>, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Has(u8),
    Call(u8, Box<Expr>, Vec<Expr>),
    Macro(u8, Box<Expr>, Box<Expr>),
    Raw(String),
}

const METHODS: &[&str] = &[
    "size",
    "startsWith",
    "endsWith",
    "contains",
    "matches",
    "int",
    "uint",
    "double",
    "string",
    "type",
    "duration",
    "timestamp",
    "max",
    "min",
    "exists",
];
const MACROS: &[&str] = &["all", "exists", "exists_one", "map", "filter"];

fn string_literal(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

fn render(e: &Expr, depth: u32, out: &mut String) {
    if depth > 24 {
        out.push_str("true");
        return;
    }
    let d = depth + 1;
    match e {
        Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Expr::Int(i) => out.push_str(&i.to_string()),
        Expr::Uint(u) => out.push_str(&format!("{u}u")),
        Expr::Double(f) if f.is_finite() => out.push_str(&format!("{f:?}")),
        Expr::Double(_) => out.push_str("double(\"NaN\")"),
        Expr::Str(s) => out.push_str(&string_literal(s)),
        Expr::Fact(i) => out.push_str(FACTS[usize::from(*i) % FACTS.len()]),
        Expr::Field(x, name) => {
            render(x, d, out);
            out.push('.');
            out.push_str(name);
        }
        Expr::Index(x, i) => {
            render(x, d, out);
            out.push('[');
            render(i, d, out);
            out.push(']');
        }
        Expr::Not(x) => {
            out.push_str("!(");
            render(x, d, out);
            out.push(')');
        }
        Expr::Neg(x) => {
            out.push_str("-(");
            render(x, d, out);
            out.push(')');
        }
        Expr::Binary(op, a, b) => {
            let op = match op {
                Op::Eq => "==",
                Op::Ne => "!=",
                Op::Lt => "<",
                Op::Le => "<=",
                Op::Gt => ">",
                Op::Ge => ">=",
                Op::Add => "+",
                Op::Sub => "-",
                Op::Mul => "*",
                Op::Div => "/",
                Op::Rem => "%",
                Op::And => "&&",
                Op::Or => "||",
                Op::In => "in",
            };
            out.push('(');
            render(a, d, out);
            out.push_str(&format!(" {op} "));
            render(b, d, out);
            out.push(')');
        }
        Expr::Ternary(c, a, b) => {
            out.push('(');
            render(c, d, out);
            out.push_str(" ? ");
            render(a, d, out);
            out.push_str(" : ");
            render(b, d, out);
            out.push(')');
        }
        Expr::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, d, out);
            }
            out.push(']');
        }
        Expr::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(k, d, out);
                out.push_str(": ");
                render(v, d, out);
            }
            out.push('}');
        }
        Expr::Has(i) => out.push_str(&format!("has({})", FACTS[usize::from(*i) % FACTS.len()])),
        Expr::Call(m, target, args) => {
            render(target, d, out);
            out.push('.');
            out.push_str(METHODS[usize::from(*m) % METHODS.len()]);
            out.push('(');
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(arg, d, out);
            }
            out.push(')');
        }
        Expr::Macro(m, target, body) => {
            render(target, d, out);
            out.push('.');
            out.push_str(MACROS[usize::from(*m) % MACROS.len()]);
            out.push_str("(x, ");
            render(body, d, out);
            out.push(')');
        }
        Expr::Raw(text) => out.push_str(text),
    }
}

#[derive(Arbitrary, Debug)]
enum Outcome {
    Allow,
    Push,
    Deny,
    Other(String),
}

#[derive(Arbitrary, Debug)]
struct Rule {
    name: String,
    when: Expr,
    outcome: Outcome,
    number_matching: Option<bool>,
    user_verification: Option<bool>,
    code_length: Option<i64>,
    message: Option<String>,
    approvals: Option<i64>,
    approver_groups: Option<Vec<String>>,
    denials: Option<i64>,
    relying_party_passkey: Option<bool>,
    extra: Option<(String, String)>,
}

/// A JSON value for the facts, kept shallow.
#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Double(f64),
    Str(String),
    List(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn value(&self, depth: u32) -> Value {
        if depth > 8 {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => json!(b),
            Json::Int(i) => json!(i),
            Json::Uint(u) => json!(u),
            Json::Double(f) => json!(f),
            Json::Str(s) => json!(s),
            Json::List(items) => items.iter().map(|i| i.value(depth + 1)).collect(),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.value(depth + 1)))
                    .collect(),
            ),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Facts {
    kind: String,
    amount: f64,
    score: u8,
    reasons: Vec<String>,
    devices: u32,
    approvals: u32,
    details: Vec<Json>,
    country: String,
    passkey: bool,
    /// Replaces a fact with any JSON value.
    replace: Option<(u8, Json)>,
}

impl Facts {
    fn value(&self) -> Value {
        let mut facts = json!({
            "request": {
                "kind": self.kind, "application": "Acme", "user": "alice", "binding_message": "",
                "authorization_details": self.details.iter().map(|d| d.value(0)).collect::<Vec<_>>(),
                "amount": self.amount, "passkey": self.passkey,
            },
            "context": {"ip": "203.0.113.7", "user_agent": "", "device_id": "", "country": self.country, "city": ""},
            "risk": {"score": self.score, "reasons": self.reasons},
            "user": {"devices": self.devices, "groups": [], "approvals": self.approvals, "denials": 0, "frauds": 0},
        });
        if let Some((i, value)) = &self.replace {
            let path = FACTS[usize::from(*i) % FACTS.len()];
            let (root, key) = path.split_once('.').expect("facts are root.key");
            facts[root][key] = value.value(0);
        }
        facts
    }
}

/// Rules built from the grammar with facts to decide, or a file as text (the seed corpus holds
/// the default policy and the documentation's examples) decided over a few fixed requests.
#[derive(Arbitrary, Debug)]
enum Input {
    Rules { rules: Vec<Rule>, facts: Vec<Facts> },
    Raw(String),
}

fn fixed_facts() -> Vec<Value> {
    [("login", 0.0, 0), ("login", 0.0, 55), ("transaction", 1500.0, 10), ("access", 0.0, 90)]
        .into_iter()
        .map(|(kind, amount, score)| {
            json!({
                "request": {"kind": kind, "amount": amount, "application": "Acme", "user": "alice",
                            "binding_message": "", "authorization_details": [], "passkey": false},
                "context": {"ip": "203.0.113.7", "user_agent": "", "device_id": "", "country": "FR", "city": ""},
                "risk": {"score": score, "reasons": ["new_network"]},
                "user": {"devices": 1, "groups": [], "approvals": 3, "denials": 0, "frauds": 0},
            })
        })
        .collect()
}

fn file_text(rules: &[Rule]) -> String {
    let mut text = String::new();
    for rule in rules {
        let mut when = String::new();
        render(&rule.when, 0, &mut when);
        let mut table = toml::Table::new();
        table.insert("name".into(), rule.name.clone().into());
        table.insert("when".into(), when.into());
        let outcome = match &rule.outcome {
            Outcome::Allow => "allow".to_owned(),
            Outcome::Push => "push".to_owned(),
            Outcome::Deny => "deny".to_owned(),
            Outcome::Other(s) => s.clone(),
        };
        table.insert("outcome".into(), outcome.into());
        if let Some(b) = rule.number_matching {
            table.insert("number_matching".into(), b.into());
        }
        if let Some(b) = rule.user_verification {
            table.insert("user_verification".into(), b.into());
        }
        if let Some(l) = rule.code_length {
            table.insert("code_length".into(), l.into());
        }
        if let Some(m) = &rule.message {
            table.insert("message".into(), m.clone().into());
        }
        if let Some(n) = rule.approvals {
            table.insert("approvals".into(), n.into());
        }
        if let Some(groups) = &rule.approver_groups {
            table.insert("approver_groups".into(), groups.clone().into());
        }
        if let Some(n) = rule.denials {
            table.insert("denials".into(), n.into());
        }
        if let Some(b) = rule.relying_party_passkey {
            table.insert("relying_party_passkey".into(), b.into());
        }
        if let Some((k, v)) = &rule.extra {
            table.insert(k.clone(), v.clone().into());
        }
        text.push_str("[[rule]]\n");
        text.push_str(&toml::to_string(&table).expect("a table serializes"));
        text.push('\n');
    }
    text
}

fuzz_target!(|input: Input| {
    let (text, facts) = match &input {
        Input::Rules { rules, facts } => {
            (file_text(rules), facts.iter().map(Facts::value).collect())
        }
        Input::Raw(text) => (text.clone(), fixed_facts()),
    };
    let policy = match Policy::parse(&text) {
        Ok(policy) => policy,
        Err(e) => {
            assert!(
                e.line >= 1 && e.line <= text.matches('\n').count() + 1,
                "{e}"
            );
            return;
        }
    };
    let rules = policy.rules();
    assert!(!rules.is_empty());
    if let Input::Rules { rules: specs, .. } = &input {
        let names: Vec<&str> = specs.iter().map(|r| r.name.as_str()).collect();
        let loaded: Vec<&str> = rules.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(loaded, names);
    }
    for facts in &facts {
        let decision = policy.decide(facts);
        let named = rules
            .iter()
            .any(|r| r.0 == decision.rule && r.1 == decision.condition);
        let fallback = decision.rule == "(no rule matched)" && decision.condition.is_empty();
        assert!(named || fallback, "{decision:?}");
        let outcome = &decision.outcome;
        if outcome.kind == OutcomeKind::Deny {
            assert!(outcome.message.is_some());
            assert!(!outcome.relying_party_passkey);
        }
        // What a parsed rule may ask: a quorum only on a push, always with groups to ask.
        assert!((1..=10).contains(&outcome.approvals), "{outcome:?}");
        if outcome.approvals > 1 {
            assert_eq!(outcome.kind, OutcomeKind::Push);
            assert!(!outcome.approver_groups.is_empty());
        }
        if outcome.kind != OutcomeKind::Push {
            assert!(outcome.approver_groups.is_empty() && outcome.denials.is_none());
        }
        assert!(outcome.denials.is_none_or(|d| (1..=50).contains(&d)));
    }
});
