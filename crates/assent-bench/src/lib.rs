//! `assent-bench`: a load benchmark of a whole Assent deployment. It starts a server (or targets
//! one), enrolls simulated devices with real P-256 keys, and drives complete approval flows over
//! real HTTP on loopback: the relying party creates a request, the device learns of it on its
//! live stream, fetches it, signs the answer with the displayed code, and the relying party's
//! wait returns the final state with its receipt. It reports throughput, latency percentiles,
//! errors, and the server's CPU and memory, as JSON and as an SVG chart.

pub mod calibrate;
pub mod chart;
pub mod ciba;
pub mod cli;
pub mod device;
pub mod error;
pub mod flows;
pub mod http;
pub mod limits;
pub mod machine;
pub mod pending;
pub mod procstat;
pub mod progress;
pub mod push_endpoint;
pub mod report;
pub mod rp;
pub mod run;
pub mod server;
pub mod setup;
pub mod stats;

pub use cli::Args;
pub use error::{BenchError, BenchResult};
pub use report::Report;
pub use run::run;
