//! The scenario fuzzer's seeds load as the fuzz target loads them, so that libFuzzer starts from
//! inputs that reach every check of the loader and not only the first failing file read.

use std::fs;
use std::path::{Path, PathBuf};

use autoscale_sim_scenario::{Overrides, load_str};
use autoscale_sim_sim::Simulation;

/// The path that `fuzz/fuzz_targets/scenario.rs` gives the loader: a folder that does not
/// exist, so that a seed may name no trace or catalog file by a relative path.
const FUZZ_PATH: &str = "/nonexistent-autoscale-sim-fuzz/scenario.yaml";

fn seeds() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/scenario");
    let mut seeds: Vec<PathBuf> = fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn scenario_seeds_load() {
    let seeds = seeds();
    assert!(seeds.len() >= 7, "{seeds:?}");

    for seed in seeds {
        let text = fs::read_to_string(&seed).unwrap();

        let scenario = load_str(&text, Path::new(FUZZ_PATH), &Overrides::default())
            .unwrap_or_else(|e| panic!("{}: {e}", seed.display()));

        let simulation = Simulation::new(scenario.config);
        assert!(simulation.is_ok(), "{}", seed.display());
    }
}
