//! Determinism: the same scenario and seed give byte-identical output files, and another seed
//! gives other results.

use std::ffi::OsString;
use std::fs;
use std::path::Path;

use super::support::{SMALL_WEB_YAML, TempDir, parse_json, result_of, run_ok};

/// The output files whose bytes depend only on the scenario and the seed.
const SEEDED_FILES: [&str; 3] = ["summary.json", "timeseries.csv", "decisions.jsonl"];

/// Runs `compare SCENARIO --out DIR --seed SEED` in `work`.
fn compare_into(work: &Path, scenario: &Path, out: &Path, seed: u64) {
    let args: Vec<OsString> = vec![
        "compare".into(),
        scenario.into(),
        "--out".into(),
        out.into(),
        "--seed".into(),
        seed.to_string().into(),
    ];
    run_ok(work, &args);
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn same_seed_identical_files() {
    let temp = TempDir::new("same-seed");
    let scenario = temp.write("small-web.yaml", SMALL_WEB_YAML);
    let first = temp.join("first");
    let second = temp.join("second");

    compare_into(temp.path(), &scenario, &first, 11);
    compare_into(temp.path(), &scenario, &second, 11);

    for name in SEEDED_FILES {
        let bytes = read(&first.join(name));
        assert!(!bytes.is_empty(), "{name} is empty");
        assert!(
            bytes == read(&second.join(name)),
            "{name} differs between two runs with seed 11"
        );
    }
}

#[test]
fn other_seed_other_summary() {
    let temp = TempDir::new("other-seed");
    let scenario = temp.write("small-web.yaml", SMALL_WEB_YAML);
    let seed_11 = temp.join("seed-11");
    let seed_12 = temp.join("seed-12");

    compare_into(temp.path(), &scenario, &seed_11, 11);
    compare_into(temp.path(), &scenario, &seed_12, 12);

    let summary_11 = parse_json(
        &String::from_utf8_lossy(&read(&seed_11.join("summary.json"))),
        "summary.json",
    );
    let summary_12 = parse_json(
        &String::from_utf8_lossy(&read(&seed_12.join("summary.json"))),
        "summary.json",
    );
    assert_eq!(summary_11["seed"], 11);
    assert_eq!(summary_12["seed"], 12);
    // The noise of the diurnal load and the log-normal launch latency both draw from the seed,
    // so the simulated results themselves differ, not only the seed field.
    assert_ne!(
        summary_11["results"], summary_12["results"],
        "seeds 11 and 12 gave the same results"
    );
}

#[test]
fn run_matches_compare_entry() {
    // Under compare the policies run in parallel threads, and under run a policy runs alone. The
    // results must not depend on that.
    let temp = TempDir::new("run-vs-compare");
    let scenario = temp.write("small-web.yaml", SMALL_WEB_YAML);

    let compared = run_ok(
        temp.path(),
        [
            OsString::from("compare"),
            scenario.clone().into(),
            "--format".into(),
            "json".into(),
        ],
    );
    let alone = run_ok(
        temp.path(),
        [
            OsString::from("run"),
            scenario.into(),
            "--policy".into(),
            "karpenter".into(),
            "--format".into(),
            "json".into(),
        ],
    );

    let compared = parse_json(&compared, "compare output");
    let alone = parse_json(&alone, "run output");
    assert_eq!(
        alone["results"].as_array().map(Vec::len),
        Some(1),
        "run --policy karpenter returned other than one result"
    );
    assert_eq!(
        &alone["results"][0],
        result_of(&compared, "karpenter"),
        "karpenter alone differs from karpenter under compare"
    );
}

#[test]
fn decision_log_off_same_results() {
    // A run without its decision log gives the same summary, time series and pending times.
    let temp = TempDir::new("no-decision-log");
    let path = temp.write("small-web.yaml", SMALL_WEB_YAML);
    let scenario =
        autoscale_sim::scenario::load(&path, &Default::default()).expect("the scenario loads");
    let simulation = autoscale_sim::Simulation::new(scenario.config.clone()).unwrap();
    let without = simulation.clone().keep_decision_log(false);

    for policy in &scenario.policies {
        let mut full = simulation.run(policy);
        let lean = without.run(policy);

        assert!(!full.decisions.is_empty(), "{}", policy.name());
        assert!(lean.decisions.is_empty(), "{}", policy.name());
        full.decisions.clear();
        assert_eq!(lean, full, "{}", policy.name());
    }
}
