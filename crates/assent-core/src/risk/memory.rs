//! How long the detectors stay quiet after a pattern alert. What they remember between requests
//! (the prompt turns and when each pattern last alerted) is kept by the store, so that it holds
//! for every node sharing the database.

use time::Duration;

/// After a pattern alert, how long the same pattern for the same user raises no other: the
/// burst window of the risk engine, so a burst that goes on alerts again every ten minutes.
pub const PATTERN_QUIET: Duration = Duration::minutes(10);
