//! Integration tests of the `autoscale-sim` binary, run as a user runs it: a child process with
//! scenario files written to temporary folders.
//!
//! Every module but `default_scenario` uses scenarios of six simulated hours or less, so that the
//! suite stays fast on two cores.

mod bad_input;
mod cli_errors;
mod cost;
mod default_scenario;
mod determinism;
mod golden;
mod library_features;
mod outputs;
mod properties;
mod support;
mod sweep;
