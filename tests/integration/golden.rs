//! Golden outputs: the shipped scenarios' decisions are pinned, so that a speed-up or a refactoring
//! that changes a single decision fails here.
//!
//! For each scenario under `scenarios/` that runs in seconds, the test runs `compare` and checks
//! `summary.json` field by field against `tests/golden/NAME.summary.json`, and the length and
//! FNV-1a digest of `decisions.jsonl` and `timeseries.csv` against `tests/golden/NAME.digests`.
//! `events_processed` is left out of the comparison: it counts the simulator's internal events,
//! which an optimisation may legitimately remove, and does not describe decisions.
//!
//! After a change that is meant to change decisions, rewrite the golden files with
//! `UPDATE_GOLDEN=1 cargo test --test integration golden` and commit them with the reason.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use super::support::{TempDir, run_ok};

/// Files whose length and digest are pinned.
const DIGESTED: [&str; 2] = ["decisions.jsonl", "timeseries.csv"];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    repo_root().join("tests").join("golden")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0")
}

/// FNV-1a, 64 bits: enough to notice any change, and stable across platforms and versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Returns the summary without the fields that do not describe decisions.
fn decisions_only(mut summary: serde_json::Value) -> serde_json::Value {
    if let Some(results) = summary
        .get_mut("results")
        .and_then(serde_json::Value::as_array_mut)
    {
        for result in results {
            if let Some(object) = result.as_object_mut() {
                object.remove("events_processed");
            }
        }
    }
    summary
}

fn digests_of(out: &Path) -> String {
    let mut text = String::new();
    for name in DIGESTED {
        let bytes = fs::read(out.join(name))
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", out.join(name).display()));
        let lines = bytes.iter().filter(|&&b| b == b'\n').count();
        text.push_str(&format!(
            "{name} {} bytes {lines} lines fnv1a {:016x}\n",
            bytes.len(),
            fnv1a(&bytes)
        ));
    }
    text
}

/// Runs `compare scenarios/NAME.yaml --out DIR` from the repository root and checks the outputs
/// against the golden files, or rewrites them when `UPDATE_GOLDEN` is set.
fn check(name: &str) {
    let temp = TempDir::new(&format!("golden-{name}"));
    let out = temp.join("out");
    let scenario = repo_root().join("scenarios").join(format!("{name}.yaml"));
    let args: Vec<OsString> = vec![
        "compare".into(),
        scenario.into(),
        "--out".into(),
        out.clone().into(),
        "--quiet".into(),
    ];
    run_ok(&repo_root(), &args);

    let summary_text = fs::read_to_string(out.join("summary.json")).expect("summary.json exists");
    let summary: serde_json::Value =
        serde_json::from_str(&summary_text).expect("summary.json is JSON");
    let summary = decisions_only(summary);
    let digests = digests_of(&out);

    let summary_path = golden_dir().join(format!("{name}.summary.json"));
    let digests_path = golden_dir().join(format!("{name}.digests"));
    if updating() {
        fs::create_dir_all(golden_dir()).expect("tests/golden can be created");
        let pretty = serde_json::to_string_pretty(&summary).expect("summary serialises");
        fs::write(&summary_path, pretty + "\n").expect("golden summary is writable");
        fs::write(&digests_path, &digests).expect("golden digests are writable");
        return;
    }

    let golden_text = fs::read_to_string(&summary_path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; create it with UPDATE_GOLDEN=1",
            summary_path.display()
        )
    });
    let golden: serde_json::Value =
        serde_json::from_str(&golden_text).expect("the golden summary is JSON");
    assert_fields_equal(name, &golden, &summary, "");

    let golden_digests = fs::read_to_string(&digests_path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; create it with UPDATE_GOLDEN=1",
            digests_path.display()
        )
    });
    assert_eq!(
        golden_digests, digests,
        "{name}: decisions.jsonl or timeseries.csv changed; a decision differs from the golden run"
    );
}

/// Compares two JSON trees and names the first field that differs.
fn assert_fields_equal(
    scenario: &str,
    golden: &serde_json::Value,
    actual: &serde_json::Value,
    at: &str,
) {
    use serde_json::Value;
    match (golden, actual) {
        (Value::Object(g), Value::Object(a)) => {
            let g_keys: Vec<&String> = g.keys().collect();
            let a_keys: Vec<&String> = a.keys().collect();
            assert_eq!(g_keys, a_keys, "{scenario}: fields of {at} differ");
            for (key, value) in g {
                assert_fields_equal(scenario, value, &a[key], &format!("{at}.{key}"));
            }
        }
        (Value::Array(g), Value::Array(a)) => {
            assert_eq!(g.len(), a.len(), "{scenario}: length of {at} differs");
            for (index, (gv, av)) in g.iter().zip(a).enumerate() {
                let label = gv
                    .get("policy")
                    .and_then(Value::as_str)
                    .map_or_else(|| index.to_string(), str::to_string);
                assert_fields_equal(scenario, gv, av, &format!("{at}[{label}]"));
            }
        }
        _ => assert_eq!(
            golden, actual,
            "{scenario}: {at} differs from the golden run"
        ),
    }
}

#[test]
fn diurnal_web_decisions_unchanged() {
    check("diurnal-web");
}

#[test]
fn zones_pdb_decisions_unchanged() {
    check("zones-pdb");
}

#[test]
fn spot_diurnal_decisions_unchanged() {
    check("spot-diurnal");
}

#[test]
fn nasa_replay_decisions_unchanged() {
    let trace = repo_root().join("../shared/data/traces/nasa_http_jul1995_per_minute.csv");
    if !trace.exists() {
        eprintln!(
            "skipped: {} is absent (the reference data folder is not beside the repository)",
            trace.display()
        );
        return;
    }
    check("nasa-replay");
}
