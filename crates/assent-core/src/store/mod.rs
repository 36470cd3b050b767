//! The storage port: small traits by capability, implemented by the SQLite and PostgreSQL
//! adapters and checked by one shared behavioural suite. Every write that changes security state
//! takes the audit event to append in the same transaction. [`Store`] is all of them together,
//! what the service holds as `Arc<dyn Store>`.

mod access;
mod alerts;
mod approvals;
mod audit;
mod broadcasts;
mod ciba;
mod console;
mod devices;
mod duo;
mod enrollments;
mod factors;
mod groups;
mod identity;
mod passkeys;
mod pushes;
mod signals;
mod turns;
mod webhooks;

pub use access::AccessStore;
pub use alerts::AlertStore;
pub use approvals::ApprovalStore;
pub use audit::AuditStore;
pub use broadcasts::BroadcastStore;
pub use ciba::CibaStore;
pub use console::ConsoleStore;
pub use devices::DeviceStore;
pub use duo::DuoStore;
pub use enrollments::EnrollmentStore;
pub use factors::FactorStore;
pub use groups::GroupStore;
pub use identity::IdentityStore;
pub use passkeys::RpPasskeyStore;
pub use pushes::PushStore;
pub use signals::SignalStore;
pub use turns::{KeyedGate, Turn};
pub use webhooks::WebhookStore;

/// Everything Assent persists: every capability, implemented for any type that implements them
/// all.
pub trait Store:
    IdentityStore
    + EnrollmentStore
    + DeviceStore
    + AlertStore
    + FactorStore
    + SignalStore
    + WebhookStore
    + PushStore
    + ApprovalStore
    + AuditStore
    + CibaStore
    + DuoStore
    + GroupStore
    + AccessStore
    + RpPasskeyStore
    + BroadcastStore
    + ConsoleStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: IdentityStore
        + EnrollmentStore
        + DeviceStore
        + AlertStore
        + FactorStore
        + SignalStore
        + WebhookStore
        + PushStore
        + ApprovalStore
        + AuditStore
        + CibaStore
        + DuoStore
        + GroupStore
        + AccessStore
        + RpPasskeyStore
        + BroadcastStore
        + ConsoleStore
        + Send
        + Sync
        + 'static
{
}
