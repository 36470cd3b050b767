//! Enrollments: a one-time code that becomes a device. Completing one is a conditional write
//! that creates the device only if the enrollment is still unused, so a code enrolls once.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::EnrollmentId;
use crate::model::{Device, Enrollment};
use async_trait::async_trait;

/// Enrollments and their single use.
#[async_trait]
pub trait EnrollmentStore: Send + Sync {
    async fn insert_enrollment(
        &self,
        enrollment: &Enrollment,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn enrollment_by_code_hash(&self, hash: &[u8]) -> Result<Option<Enrollment>, StoreError>;
    /// Marks the enrollment used and creates the device, only if the enrollment is still unused:
    /// returns `false` (and writes nothing) when another use won.
    async fn complete_enrollment(
        &self,
        enrollment: &EnrollmentId,
        device: &Device,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
}
