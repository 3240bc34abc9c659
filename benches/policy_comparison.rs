//! Every policy on every scenario under `scenarios/`: the wall time of one run, and the cost and
//! service comparison a researcher reads, written to `target/policy-comparison/` as
//! `SCENARIO.md` and `SCENARIO.json` (the run reports, without wall-clock times).
//!
//! Scenarios whose trace files live in the reference data folder beside the repository are
//! skipped with a message when that folder is absent. The 30-day scale scenarios (`bench-*`)
//! take far longer than a criterion sample; they are skipped unless
//! `AUTOSCALE_SIM_BENCH_SCALE=1` is set, and docs/benchmarks.md records their wall times from
//! the command line instead.

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use autoscale_sim::report::comparison_table;
use autoscale_sim::scenario::{Overrides, Scenario, load};
use autoscale_sim::{RunReport, Simulation};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// Scenario files under `scenarios/`, in name order.
fn scenario_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root.join("scenarios"))
        .expect("scenarios/ is readable")
        .map(|entry| entry.expect("scenarios/ entry is readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

/// Loads `path`, or returns why it is skipped. A scenario that fails to load for any other
/// reason than missing reference data is a bug in the shipped files, so it panics.
fn load_or_skip(path: &Path, include_scale: bool) -> Result<Scenario, String> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    if name.starts_with("sweep-") {
        return Err(format!(
            "{name} is a sweep file; run it with `autoscale-sim sweep`"
        ));
    }
    if name.starts_with("bench-") && !include_scale {
        return Err(format!(
            "{name} is a scale scenario; set AUTOSCALE_SIM_BENCH_SCALE=1 to include it"
        ));
    }
    let text = fs::read_to_string(path).expect("scenario is readable");
    match load(path, &Overrides::default()) {
        Ok(scenario) => Ok(scenario),
        Err(error) if text.contains("shared/data/") => Err(format!(
            "{name} needs the reference data beside the repository: {error}"
        )),
        Err(error) => panic!("shipped scenario {} is invalid: {error}", path.display()),
    }
}

/// Folder the comparison files go to: `policy-comparison` in Cargo's target folder.
fn output_folder(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("policy-comparison")
}

/// Writes the comparison of `reports` as markdown and JSON.
fn write_comparison(folder: &Path, scenario: &Scenario, reports: &[RunReport]) {
    fs::create_dir_all(folder).expect("the output folder can be created");
    let title = format!(
        "# {} (seed {}, {} simulated)\n\n",
        scenario.name, scenario.config.seed, scenario.config.duration
    );
    let markdown = title + &comparison_table(reports);
    fs::write(folder.join(format!("{}.md", scenario.name)), markdown)
        .expect("the markdown table can be written");
    let json = serde_json::json!({
        "scenario": scenario.name,
        "seed": scenario.config.seed,
        "duration_seconds": scenario.config.duration.as_millis() / 1000,
        "results": reports,
    });
    let mut text = serde_json::to_string_pretty(&json).expect("reports serialise");
    text.push('\n');
    fs::write(folder.join(format!("{}.json", scenario.name)), text)
        .expect("the JSON summary can be written");
}

fn policy_comparison(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folder = output_folder(root);
    let include_scale = std::env::var_os("AUTOSCALE_SIM_BENCH_SCALE").is_some();

    for path in scenario_files(root) {
        let scenario = match load_or_skip(&path, include_scale) {
            Ok(scenario) => scenario,
            Err(reason) => {
                eprintln!("policy_comparison: skipped {reason}");
                continue;
            }
        };
        let simulation = Simulation::new(scenario.config.clone()).expect("scenario is valid");

        // The comparison: one run of each policy, outside the timing.
        let mut reports = Vec::new();
        for policy in &scenario.policies {
            let started = Instant::now();
            let report = simulation.run(policy).report;
            eprintln!(
                "policy_comparison: {} / {}: {} events in {:.2} s",
                scenario.name,
                report.policy,
                report.events_processed,
                started.elapsed().as_secs_f64()
            );
            reports.push(report);
        }
        write_comparison(&folder, &scenario, &reports);
        println!("{}", comparison_table(&reports));

        // The timing: each policy's run, a few samples.
        let mut group = c.benchmark_group(format!("policy_comparison/{}", scenario.name));
        group.sample_size(10);
        for policy in &scenario.policies {
            group.bench_function(BenchmarkId::from_parameter(policy.name()), |b| {
                b.iter(|| black_box(simulation.run(policy).report.total_cost_micro_usd))
            });
        }
        group.finish();
    }
    eprintln!("policy_comparison: tables written to {}", folder.display());
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = policy_comparison
}
criterion_main!(benches);
