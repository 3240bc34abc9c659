//! The library without its default features: a dependency with `default-features = false`
//! leaves out the program's and the report writers' dependencies.

use std::process::Command;

/// Dependencies that only the program (`cli`), `sweep` and `report` features bring.
const OPTIONAL_DEPENDENCIES: [&str; 5] =
    ["clap", "clap_complete", "indicatif", "rayon", "plotters"];

/// Lists the names of the packages the library's normal dependencies build, with `features`
/// passed to `cargo tree`. Runs offline, from the lock file and the local package cache.
fn dependency_names(features: &[&str]) -> Vec<String> {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--manifest-path",
            manifest,
            "-p",
            "autoscale-sim",
        ])
        .args(["-e", "normal", "--prefix", "none"])
        .args(features)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn no_default_features_skip_cli_deps() {
    let names = dependency_names(&["--no-default-features"]);

    for optional in OPTIONAL_DEPENDENCIES {
        assert!(
            !names.iter().any(|name| name == optional),
            "{optional} is built without the default features"
        );
    }
    assert!(names.iter().any(|name| name == "autoscale-sim-sim"));
}

#[test]
fn default_features_bring_cli_deps() {
    let names = dependency_names(&[]);

    for optional in OPTIONAL_DEPENDENCIES {
        assert!(
            names.iter().any(|name| name == optional),
            "{optional} is missing from the default features"
        );
    }
}
