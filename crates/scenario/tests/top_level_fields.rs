//! Required top-level fields that a scenario leaves out: the error points at the file's first
//! top-level key, where the field belongs, and not at the line where the parser stopped.

use std::path::Path;

use autoscale_sim_scenario::{Overrides, load_str};

/// Builds a static scenario with a comment on its first line and everything but `seed` and
/// `duration`, with the lines `extra` after `name`.
fn scenario(extra: &str) -> String {
    format!(
        "# A static cluster.\nname: static-only\n{extra}workloads: []\npolicies:\n  - name: static\n    static: {{instanceType: m5.large, count: 1}}\nsnapshots: []\n"
    )
}

fn error(yaml: &str) -> String {
    match load_str(yaml, Path::new("scenario.yaml"), &Overrides::default()) {
        Ok(_) => panic!("the scenario loads, but it should be rejected"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_seed_at_top_level() {
    let message = error(&scenario("duration: 1h\n"));

    assert_eq!(
        message,
        "scenario.yaml:2:1: field seed: the file has no top-level `seed`, which is required\n  \
         fix: add seed: 42 (any whole number 0 or more; the same seed gives the same run) at the \
         top level of the file"
    );
}

#[test]
fn missing_duration_at_top_level() {
    let message = error(&scenario("seed: 1\n"));

    assert_eq!(
        message,
        "scenario.yaml:2:1: field duration: the file has no top-level `duration`, which is \
         required\n  fix: add duration: 7d at the top level of the file"
    );
}

#[test]
fn nested_missing_field_keeps_position() {
    // A field missing from a nested mapping is reported where that mapping is.
    let yaml = scenario("seed: 1\nduration: 1h\n").replace("instanceType: m5.large, ", "");

    let message = error(&yaml);

    assert!(
        message.starts_with(
            "scenario.yaml:8:14: field policies[0].static, value \"count: 1\": missing field \
             `instanceType`"
        ),
        "{message}"
    );
}
