//! Placeholder module: being written.
