//! The names of states and kinds that the wire, the domain and the stores share: what an
//! approval is for, where it is in its life, how a new device becomes able to answer, and
//! whether a device can still answer.

use serde::{Deserialize, Serialize};

/// What the approval is for; policy treats each kind differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    #[default]
    Login,
    Transaction,
    Access,
    AgentAction,
}

impl ApprovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::Login => "login",
            ApprovalKind::Transaction => "transaction",
            ApprovalKind::Access => "access",
            ApprovalKind::AgentAction => "agent_action",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Login,
            Self::Transaction,
            Self::Access,
            Self::AgentAction,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Where an approval request is in its life. `Pending` is the only state that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    Pending,
    Approved,
    Denied,
    Fraud,
    Expired,
    Cancelled,
}

impl ApprovalState {
    pub const ALL: [ApprovalState; 6] = [
        Self::Pending,
        Self::Approved,
        Self::Denied,
        Self::Fraud,
        Self::Expired,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalState::Pending => "pending",
            ApprovalState::Approved => "approved",
            ApprovalState::Denied => "denied",
            ApprovalState::Fraud => "fraud",
            ApprovalState::Expired => "expired",
            ApprovalState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Final states never change again.
    pub fn is_final(self) -> bool {
        self != ApprovalState::Pending
    }
}

/// How a newly enrolled device becomes able to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Immediate,
    DeviceApproval,
}

impl Activation {
    pub fn as_str(self) -> &'static str {
        match self {
            Activation::Immediate => "immediate",
            Activation::DeviceApproval => "device_approval",
        }
    }
}

/// Whether a device can still answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Active,
    /// Enrolled, but it can answer nothing until an active device of the same user approves it.
    PendingActivation,
    Revoked,
}

impl DeviceState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Active => "active",
            DeviceState::PendingActivation => "pending_activation",
            DeviceState::Revoked => "revoked",
        }
    }
}
