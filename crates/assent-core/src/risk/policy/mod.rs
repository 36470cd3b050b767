//! Policy as data: an ordered list of rules, each a CEL condition and an outcome. The first rule
//! whose condition holds decides what a request needs. A policy is parsed and compiled whole
//! before it replaces the running one, so a bad file never takes effect.

use cel::{Context, Program, Value};
use serde::{Deserialize, Serialize};

/// The policy Assent runs when no file is configured.
pub const DEFAULT_POLICY: &str = include_str!("default.toml");

/// What a rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Approve without a prompt (only where the policy says so explicitly).
    Allow,
    /// Prompt the user's devices.
    Push,
    /// Refuse without a prompt.
    Deny,
}

/// A rule's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub number_matching: bool,
    pub user_verification: bool,
    pub code_length: Option<u8>,
    /// For `deny`: what the relying party is told.
    pub message: Option<String>,
    /// For `push`: the device-signed approvals the request needs in all (1: the user's own).
    /// For a request, the user's approval is the first and the rest come from members of
    /// `approver_groups` other than the user (four eyes); for an access request, all of them
    /// come from those groups.
    pub approvals: u32,
    /// For `push`: where the approvers come from (see `approvals`).
    pub approver_groups: Vec<String>,
    /// For `push` on an access request: the most denials that may be needed to reject it.
    pub denials: Option<u32>,
    /// For `push` and `allow`: the request must show a passkey authentication of the same user
    /// at the application's own origin (`passkey_authentication`).
    pub relying_party_passkey: bool,
}

/// Most approvals a rule may ask for (the user's own included).
pub const MAX_RULE_APPROVALS: u32 = 10;
/// Most approver groups a rule may name.
const MAX_RULE_GROUPS: usize = 32;

/// The rule that decided, and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDecision {
    pub rule: String,
    pub condition: String,
    pub outcome: Outcome,
}

/// Why a policy file was refused: the line and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy line {line}: {reason}")]
pub struct PolicyError {
    pub line: usize,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(rename = "rule", default)]
    rules: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: toml::Spanned<String>,
    when: toml::Spanned<String>,
    outcome: OutcomeKind,
    #[serde(default)]
    number_matching: Option<bool>,
    #[serde(default)]
    user_verification: bool,
    #[serde(default)]
    code_length: Option<u8>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    approvals: Option<u32>,
    #[serde(default)]
    approver_groups: Vec<String>,
    #[serde(default)]
    denials: Option<u32>,
    #[serde(default)]
    relying_party_passkey: bool,
}

impl RuleSpec {
    /// What the quorum and passkey fields allow, beside the outcome: the reason a rule is
    /// refused, if it is.
    fn check_requirements(&self) -> Option<String> {
        let name = self.name.get_ref();
        let approvals = self.approvals.unwrap_or(1);
        let push = self.outcome == OutcomeKind::Push;
        if !(1..=MAX_RULE_APPROVALS).contains(&approvals) {
            return Some(format!(
                "rule {name:?}: approvals must be between 1 and {MAX_RULE_APPROVALS}"
            ));
        }
        if !push && (approvals > 1 || !self.approver_groups.is_empty() || self.denials.is_some()) {
            return Some(format!(
                "rule {name:?}: approvals, approver_groups and denials go with a push outcome"
            ));
        }
        if approvals > 1 && self.approver_groups.is_empty() {
            return Some(format!(
                "rule {name:?}: approvals above 1 need approver_groups to ask"
            ));
        }
        if self.approver_groups.len() > MAX_RULE_GROUPS {
            return Some(format!(
                "rule {name:?}: at most {MAX_RULE_GROUPS} approver_groups"
            ));
        }
        if let Some(bad) = self
            .approver_groups
            .iter()
            .find(|g| !crate::groups::valid_group_name(g))
        {
            return Some(format!("rule {name:?}: {bad:?} is not a group name"));
        }
        if self
            .denials
            .is_some_and(|d| d == 0 || d as usize > crate::access::MAX_APPROVERS)
        {
            return Some(format!(
                "rule {name:?}: denials must be between 1 and {}",
                crate::access::MAX_APPROVERS
            ));
        }
        if self.relying_party_passkey && self.outcome == OutcomeKind::Deny {
            return Some(format!(
                "rule {name:?}: relying_party_passkey goes with a push or allow outcome"
            ));
        }
        None
    }
}

struct Rule {
    name: String,
    condition: String,
    line: usize,
    program: Program,
    outcome: Outcome,
}

/// A compiled policy.
pub struct Policy {
    rules: Vec<Rule>,
    /// CEL's standard functions, built once: building them for every decision (a fresh
    /// `Context::default()`) was half the cost of deciding, about 3 % of the server's CPU.
    /// Each decision binds its facts in a child scope of this one.
    stdlib: Context<'static, 'static>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.rules.iter().map(|r| &r.name))
            .finish()
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Policy {
    /// Parses and compiles a policy file; every error names its line.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| PolicyError {
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            reason: e.message().to_owned(),
        })?;
        if file.rules.is_empty() {
            return Err(PolicyError {
                line: 1,
                reason: "the policy has no [[rule]]".into(),
            });
        }
        let mut rules = Vec::with_capacity(file.rules.len());
        for spec in file.rules {
            let line = line_of(text, spec.when.span().start);
            let condition = spec.when.get_ref().clone();
            let program = Program::compile(&condition).map_err(|e| PolicyError {
                line,
                reason: format!(
                    "rule {:?}: the condition is not valid CEL: {e}",
                    spec.name.get_ref()
                ),
            })?;
            let fail = |reason: String| PolicyError {
                line: line_of(text, spec.name.span().start),
                reason,
            };
            if spec.outcome == OutcomeKind::Deny && spec.message.is_none() {
                return Err(fail(format!(
                    "rule {:?}: a deny outcome needs a message",
                    spec.name.get_ref()
                )));
            }
            if spec.code_length.is_some_and(|l| !(4..=10).contains(&l)) {
                return Err(fail(format!(
                    "rule {:?}: code_length must be between 4 and 10",
                    spec.name.get_ref()
                )));
            }
            if let Some(reason) = spec.check_requirements() {
                return Err(fail(reason));
            }
            rules.push(Rule {
                name: spec.name.into_inner(),
                condition,
                line,
                program,
                outcome: Outcome {
                    kind: spec.outcome,
                    number_matching: spec
                        .number_matching
                        .unwrap_or(spec.outcome == OutcomeKind::Push),
                    user_verification: spec.user_verification,
                    code_length: spec.code_length,
                    message: spec.message,
                    approvals: spec.approvals.unwrap_or(1),
                    approver_groups: spec.approver_groups,
                    denials: spec.denials,
                    relying_party_passkey: spec.relying_party_passkey,
                },
            });
        }
        Ok(Policy {
            rules,
            stdlib: Context::default(),
        })
    }

    /// The built-in default policy.
    pub fn default_policy() -> Policy {
        // The embedded file is checked by a unit test; an empty policy would deny nothing wrongly,
        // so a failure here falls back to "push with number matching" for everything.
        Policy::parse(DEFAULT_POLICY).unwrap_or_else(|_| Policy {
            rules: Vec::new(),
            stdlib: Context::default(),
        })
    }

    /// The rules, in order: name, condition, line.
    pub fn rules(&self) -> Vec<(String, String, usize)> {
        self.rules
            .iter()
            .map(|r| (r.name.clone(), r.condition.clone(), r.line))
            .collect()
    }

    /// Decides a request from its facts (a JSON object with `request`, `context`, `risk` and
    /// `user`). A condition that cannot be evaluated (a wrong type, a missing key) does not match,
    /// and says so in the log; when no rule matches, the request gets a push with number matching.
    pub fn decide(&self, facts: &serde_json::Value) -> PolicyDecision {
        let mut context = self.stdlib.new_inner_scope();
        for name in ["request", "context", "risk", "user"] {
            let value = facts.get(name).cloned().unwrap_or(serde_json::Value::Null);
            if let Err(e) = context.add_variable(name, value) {
                tracing::error!(variable = name, error = %e, "policy facts could not be bound");
            }
        }
        for rule in &self.rules {
            match rule.program.execute(&context) {
                Ok(Value::Bool(true)) => {
                    return PolicyDecision {
                        rule: rule.name.clone(),
                        condition: rule.condition.clone(),
                        outcome: rule.outcome.clone(),
                    };
                }
                Ok(Value::Bool(false)) => {}
                Ok(other) => {
                    tracing::warn!(rule = %rule.name, value = ?other, "policy condition is not a boolean; skipped")
                }
                Err(e) => {
                    tracing::warn!(rule = %rule.name, error = %e, "policy condition failed; skipped")
                }
            }
        }
        PolicyDecision {
            rule: "(no rule matched)".into(),
            condition: String::new(),
            outcome: Outcome {
                kind: OutcomeKind::Push,
                number_matching: true,
                user_verification: false,
                code_length: None,
                message: None,
                approvals: 1,
                approver_groups: Vec::new(),
                denials: None,
                relying_party_passkey: false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(kind: &str, amount: f64, score: u8) -> serde_json::Value {
        json!({
            "request": {"kind": kind, "amount": amount, "application": "Acme", "user": "alice"},
            "context": {"ip": "203.0.113.7", "country": "FR"},
            "risk": {"score": score, "reasons": []},
            "user": {"devices": 1}
        })
    }

    #[test]
    fn the_default_policy_compiles_and_decides() {
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        let d = policy.decide(&facts("login", 0.0, 0));
        assert_eq!(
            (
                d.outcome.kind,
                d.outcome.number_matching,
                d.outcome.user_verification
            ),
            (OutcomeKind::Push, true, false)
        );
        assert!(
            policy
                .decide(&facts("login", 0.0, 55))
                .outcome
                .user_verification
        );
        assert_eq!(
            policy.decide(&facts("login", 0.0, 85)).outcome.kind,
            OutcomeKind::Deny
        );
        assert!(
            policy
                .decide(&facts("transaction", 1000.01, 0))
                .outcome
                .user_verification
        );
        assert!(
            !policy
                .decide(&facts("transaction", 1000.0, 0))
                .outcome
                .user_verification
        );
        assert!(
            policy
                .decide(&facts("access", 0.0, 0))
                .outcome
                .user_verification
        );
        assert_eq!(
            policy.decide(&facts("login", 0.0, 85)).rule,
            "very high risk is refused"
        );
    }

    #[test]
    fn errors_name_their_line() {
        let bad_cel = "[[rule]]\nname = \"x\"\nwhen = \"risk.score >= \"\noutcome = \"push\"\n";
        let err = Policy::parse(bad_cel).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.reason.contains("not valid CEL"), "{err}");

        let bad_toml = "[[rule]]\nname = \"x\"\nwhen = \"true\"\noutcome = \"maybe\"\n";
        assert_eq!(Policy::parse(bad_toml).unwrap_err().line, 4);
        let deny_without_message = "[[rule]]\nname = \"x\"\nwhen = \"true\"\noutcome = \"deny\"\n";
        assert!(
            Policy::parse(deny_without_message)
                .unwrap_err()
                .reason
                .contains("message")
        );
        assert!(Policy::parse("").is_err());
        let unknown_key =
            "[[rule]]\nname = \"x\"\nwhen = \"true\"\noutcome = \"push\"\nnumber_matchin = true\n";
        assert_eq!(Policy::parse(unknown_key).unwrap_err().line, 5);
    }

    #[test]
    fn quorum_and_passkey_fields_are_parsed_and_checked() {
        let text = r#"
[[rule]]
name = "large payments need a second approver"
when = "request.kind == 'transaction' && request.amount > 10000.0"
outcome = "push"
approvals = 2
approver_groups = ["treasury"]

[[rule]]
name = "elevations need two SREs and the passkey"
when = "request.kind == 'access_request' && request.passkey"
outcome = "push"
approvals = 2
approver_groups = ["sre", "security"]
denials = 1
relying_party_passkey = true

[[rule]]
name = "rest"
when = "true"
outcome = "push"
"#;
        let policy = Policy::parse(text).unwrap();
        let d = policy.decide(&facts("transaction", 20_000.0, 0));
        assert_eq!(
            (d.outcome.approvals, d.outcome.approver_groups.clone()),
            (2, vec!["treasury".to_owned()])
        );
        assert!(!d.outcome.relying_party_passkey);
        let mut f = facts("access_request", 0.0, 0);
        f["request"]["passkey"] = json!(true);
        let d = policy.decide(&f);
        assert_eq!(d.rule, "elevations need two SREs and the passkey");
        assert!(d.outcome.relying_party_passkey);
        assert_eq!(d.outcome.denials, Some(1));
        let rest = policy.decide(&facts("login", 0.0, 0)).outcome;
        assert_eq!((rest.approvals, rest.approver_groups.len()), (1, 0));

        let rule = |extra: &str, outcome: &str| {
            format!(
                "[[rule]]\nname = \"x\"\nwhen = \"true\"\noutcome = \"{outcome}\"\nmessage = \"m\"\n{extra}"
            )
        };
        for (extra, outcome, reason) in [
            ("approvals = 2", "push", "need approver_groups"),
            ("approvals = 0", "push", "between 1 and 10"),
            (
                "approvals = 11\napprover_groups = [\"a\"]",
                "push",
                "between 1 and 10",
            ),
            (
                "approvals = 2\napprover_groups = [\"a\"]",
                "allow",
                "go with a push",
            ),
            ("approver_groups = [\"a\"]", "deny", "go with a push"),
            ("denials = 0", "push", "denials must be"),
            (
                "approver_groups = [\"not a group!\"]",
                "push",
                "not a group name",
            ),
            ("relying_party_passkey = true", "deny", "push or allow"),
        ] {
            let err = Policy::parse(&rule(extra, outcome)).unwrap_err();
            assert!(err.reason.contains(reason), "{extra}: {err}");
            assert_eq!(err.line, 2, "{extra}: the rule's name line");
        }
        assert!(Policy::parse(&rule("relying_party_passkey = true", "allow")).is_ok());
    }

    #[test]
    fn first_match_wins_and_failing_conditions_are_skipped() {
        let text = r#"
[[rule]]
name = "broken"
when = "request.missing.deeper > 1"
outcome = "deny"
message = "no"

[[rule]]
name = "agents are allowed"
when = "request.kind == 'agent_action' && request.application.startsWith('trusted')"
outcome = "allow"

[[rule]]
name = "rest"
when = "true"
outcome = "push"
"#;
        let policy = Policy::parse(text).unwrap();
        let mut f = facts("agent_action", 0.0, 0);
        f["request"]["application"] = json!("trusted-bot");
        assert_eq!(policy.decide(&f).outcome.kind, OutcomeKind::Allow);
        assert_eq!(policy.decide(&facts("login", 0.0, 0)).rule, "rest");
    }
}
