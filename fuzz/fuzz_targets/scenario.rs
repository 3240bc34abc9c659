//! Fuzzes the scenario loader: any UTF-8 text gives a scenario or a `ScenarioError`, never a panic.
//!
//! The path points into a folder that does not exist, so relative trace and catalog paths in
//! the input fail to load. Absolute paths are read as written, which only reads files.

#![no_main]

use std::path::Path;

use autoscale_sim::Simulation;
use autoscale_sim::scenario::{Overrides, load_str};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent-autoscale-sim-fuzz/scenario.yaml");

    let Ok(scenario) = load_str(text, path, &Overrides::default()) else {
        return;
    };

    // `validate` also checks the loaded configuration with `Simulation::new`.
    let _ = Simulation::new(scenario.config);
});
