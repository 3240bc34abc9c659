//! Parameter sweeps: byte-identical files whatever the thread count or sharding, merges of shards
//! started as separate processes, shards from array-job variables, re-runs of single points,
//! rejected sweep files, and the Slurm script and Kubernetes manifest under deploy/.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::support::{Outcome, SMALL_WEB_YAML, TempDir, replace_once, run_in, run_ok};

/// Exit code for invalid input.
const INPUT_ERROR: Option<i32> = Some(2);

const CONSOLIDATE_AFTER: &str =
    "policies[karpenter].karpenter.nodePools[default].spec.disruption.consolidateAfter";
const UNNEEDED_TIME: &str =
    "policies[cluster-autoscaler].clusterAutoscaler.flags[--scale-down-unneeded-time]";

/// A sweep over a three-hour version of the small web scenario: two values of a Karpenter
/// setting and two of a Cluster Autoscaler setting, two seeds each, so 8 points of one run each.
fn sweep_yaml(seeds: &str) -> String {
    format!(
        "name: small\nscenario: small-web.yaml\nseeds: {seeds}\naxes:\n  - field: {CONSOLIDATE_AFTER}\n    values: [30s, 5m]\n  - field: {UNNEEDED_TIME}\n    values: [2m, 10m]\n"
    )
}

/// Writes the scenario and the sweep file into a new folder; returns it and the sweep path.
fn setup(label: &str, sweep: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new(label);
    dir.write(
        "small-web.yaml",
        replace_once(SMALL_WEB_YAML, "duration: 6h\n", "duration: 3h\n"),
    );
    let path = dir.write("sweep.yaml", sweep);
    (dir, path)
}

/// Runs `sweep sweep.yaml --quiet` with `args` in `dir`, with none of the array-job variables
/// that would choose a shard.
fn sweep(dir: &Path, args: &[&str]) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_autoscale-sim"))
        .args(["sweep", "sweep.yaml", "--quiet"])
        .args(args)
        .current_dir(dir)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .env_remove("AUTOSCALE_SIM_SHARD_COUNT")
        .output()
        .expect("the autoscale-sim binary starts");
    let outcome = Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !outcome.stderr.contains("panicked"),
        "autoscale-sim sweep {args:?} panicked:\n{}",
        outcome.stderr
    );
    outcome
}

/// Returns every file of `dir` but `timing.json`, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} cannot be listed: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .filter(|(name, _)| name != "timing.json")
        .map(|(name, path)| (name, fs::read(path).unwrap()))
        .collect()
}

/// Asserts that two output folders hold the same files, byte for byte, `timing.json` aside.
fn assert_same_files(expected: &Path, actual: &Path) {
    let (expected_files, actual_files) = (files(expected), files(actual));

    assert_eq!(
        actual_files.keys().collect::<Vec<_>>(),
        expected_files.keys().collect::<Vec<_>>(),
        "{} and {} hold different files",
        expected.display(),
        actual.display()
    );
    for (name, bytes) in &expected_files {
        let other = &actual_files[name];
        if bytes != other {
            let (a, b) = (
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(other),
            );
            let line = a.lines().zip(b.lines()).position(|(x, y)| x != y);
            panic!(
                "{name} differs between {} and {}, first at line {:?}",
                expected.display(),
                actual.display(),
                line.map(|l| l + 1)
            );
        }
    }
    assert!(expected_files.contains_key("results.csv"));
}

/// Returns the lines of `results.jsonl` in `dir`.
fn result_lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("results.jsonl"))
        .expect("results.jsonl is written")
        .lines()
        .map(String::from)
        .collect()
}

/// Returns the `point_index` of each result line.
fn point_indexes(dir: &Path) -> Vec<u64> {
    result_lines(dir)
        .iter()
        .map(|l| {
            let row: serde_json::Value = serde_json::from_str(l).unwrap();
            row["point_index"].as_u64().unwrap()
        })
        .collect()
}

#[test]
fn one_thread_in_singular() {
    let (dir, _) = setup("sweep-one-thread", &sweep_yaml("2"));

    // Without --quiet, so that the counts of runs and threads are printed.
    let outcome = run_in(
        dir.path(),
        ["sweep", "sweep.yaml", "--threads", "1", "--out", "one"],
    );

    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains(", 8 runs on 1 thread\n"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains(" wall time on 1 thread\n"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn thread_count_changes_no_byte() {
    let (dir, _) = setup("sweep-threads", &sweep_yaml("2"));

    sweep(dir.path(), &["--threads", "1", "--out", "one"]);
    let four = sweep(dir.path(), &["--threads", "4", "--out", "four"]);

    assert_eq!(four.code, Some(0), "{}", four.stderr);
    assert_same_files(&dir.join("one"), &dir.join("four"));
    // 8 points, one policy each, in index order.
    assert_eq!(point_indexes(&dir.join("one")), (0..8).collect::<Vec<_>>());
    let csv = fs::read_to_string(dir.join("one/results.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with(
            "point_index,point_id,config_id,seed,consolidateAfter,scale-down-unneeded-time,policy,total_cost_usd,"
        ),
        "{header}"
    );
    assert_eq!(csv.lines().count(), 9);
    let timing: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("four/timing.json")).unwrap()).unwrap();
    assert_eq!(timing["threads"], 4);
    assert_eq!(timing["runs"].as_array().unwrap().len(), 8);

    // No more threads start than there are runs, and an absurd count is rejected.
    let many = sweep(dir.path(), &["--threads", "64", "--out", "many"]);
    assert_eq!(many.code, Some(0), "{}", many.stderr);
    assert_same_files(&dir.join("one"), &dir.join("many"));
    let timing: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("many/timing.json")).unwrap()).unwrap();
    assert_eq!(timing["threads"], 8);
    let absurd = sweep(dir.path(), &["--threads", "1025", "--out", "absurd"]);
    assert_eq!(absurd.code, INPUT_ERROR, "{}", absurd.stderr);
    assert!(
        absurd.stderr.contains("1025 is not in 1..=1024"),
        "{}",
        absurd.stderr
    );
    assert!(!dir.join("absurd").exists());
}

#[test]
fn shards_merge_to_single_run() {
    let (dir, _) = setup("sweep-shards", &sweep_yaml("2"));
    let single = sweep(dir.path(), &["--out", "single"]);
    assert_eq!(single.code, Some(0), "{}", single.stderr);

    // Four separate processes at once, as an array job starts them.
    let children: Vec<_> = (0..4)
        .map(|index| {
            Command::new(env!("CARGO_BIN_EXE_autoscale-sim"))
                .args(["sweep", "sweep.yaml", "--quiet", "--out", "shards"])
                .args(["--shard", &format!("{index}/4")])
                .current_dir(dir.path())
                .env_remove("JOB_COMPLETION_INDEX")
                .env_remove("SLURM_ARRAY_TASK_ID")
                .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the binary starts")
        })
        .collect();
    for (index, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "shard {index}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let merged = run_ok(
        dir.path(),
        ["merge", "shards", "--out", "merged", "--quiet"],
    );

    for index in 0..4u64 {
        let shard = dir.join(&format!("shards/shard-{index}-of-4"));
        assert_eq!(point_indexes(&shard), [index, index + 4], "shard {index}");
    }
    assert_same_files(&dir.join("single"), &dir.join("merged"));
    assert!(merged.contains("merged 8 rows from 4 folders"), "{merged}");
    assert!(merged.contains("Paired differences"), "{merged}");
}

#[test]
fn shard_index_from_environment() {
    let (dir, _) = setup("sweep-environment", &sweep_yaml("2"));

    let output = Command::new(env!("CARGO_BIN_EXE_autoscale-sim"))
        .args(["sweep", "sweep.yaml", "--out", "out"])
        .current_dir(dir.path())
        .env("JOB_COMPLETION_INDEX", "1")
        .env("AUTOSCALE_SIM_SHARD_COUNT", "2")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .output()
        .unwrap();
    let missing_count = Command::new(env!("CARGO_BIN_EXE_autoscale-sim"))
        .args(["sweep", "sweep.yaml", "--out", "never"])
        .current_dir(dir.path())
        .env("AWS_BATCH_JOB_ARRAY_INDEX", "0")
        .env_remove("AUTOSCALE_SIM_SHARD_COUNT")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("shard 1/2, from a Kubernetes Indexed Job: JOB_COMPLETION_INDEX=1, AUTOSCALE_SIM_SHARD_COUNT=2"),
        "{stderr}"
    );
    assert_eq!(point_indexes(&dir.join("out/shard-1-of-2")), [1, 3, 5, 7]);
    assert_eq!(missing_count.status.code(), INPUT_ERROR);
    let stderr = String::from_utf8_lossy(&missing_count.stderr);
    assert!(
        stderr.contains("AWS_BATCH_JOB_ARRAY_INDEX is set (an AWS Batch array job) but the number of shards is not"),
        "{stderr}"
    );
    assert!(!dir.join("never").exists());
}

#[test]
fn merge_names_missing_points() {
    let (dir, _) = setup("sweep-missing", &sweep_yaml("2"));
    for index in [0, 1, 2] {
        let shard = format!("{index}/4");
        let outcome = sweep(dir.path(), &["--shard", &shard, "--out", "shards"]);
        assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    }

    let outcome = run_in(dir.path(), ["merge", "shards", "--out", "merged"]);

    assert_eq!(outcome.code, INPUT_ERROR, "{}", outcome.stderr);
    assert!(
        outcome
            .stderr
            .contains("2 of the sweep's 8 points have no results in the folders given"),
        "{}",
        outcome.stderr
    );
    for point in [3, 7] {
        assert!(
            outcome.stderr.contains(&format!("point {point} (id ")),
            "{}",
            outcome.stderr
        );
    }
    assert!(
        outcome.stderr.contains(", in shard 3/4"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("fix: run the shards"),
        "{}",
        outcome.stderr
    );
    assert!(
        !dir.join("merged").exists(),
        "a failed merge creates no folder"
    );
}

#[test]
fn merge_rejects_out_in_input() {
    let (dir, _) = setup("sweep-merge-into-input", &sweep_yaml("2"));
    for shard in ["0/2", "1/2"] {
        let outcome = sweep(dir.path(), &["--shard", shard, "--out", "shards"]);
        assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    }
    let shard_results = fs::read_to_string(dir.join("shards/shard-0-of-2/results.csv")).unwrap();
    let fix = "  fix: give an --out folder outside the folders being merged, such as a new folder beside them\n";
    let cases = [
        (
            "shards/shard-0-of-2",
            "is one of the folders being merged (shards/shard-0-of-2), so merging would replace its files",
        ),
        (
            "shards/./shard-1-of-2/new/..",
            "is one of the folders being merged (shards/shard-1-of-2), so merging would replace its files",
        ),
        (
            "shards",
            "is one of the folders being merged (shards), so merging would replace its files",
        ),
        (
            "shards/shard-1-of-2/merged",
            "is inside shards/shard-1-of-2, one of the folders being merged, so the merged files would be mixed with a shard's",
        ),
    ];

    for (out, problem) in cases {
        let outcome = run_in(dir.path(), ["merge", "shards", "--out", out]);

        assert_eq!(outcome.code, INPUT_ERROR, "--out {out}: {}", outcome.stderr);
        assert_eq!(
            outcome.stderr,
            format!("error: --out {out} {problem}\n{fix}"),
            "--out {out}"
        );
    }
    assert!(!dir.join("shards/shard-1-of-2/merged").exists());
    assert!(!dir.join("shards/shard-1-of-2/new").exists());
    assert!(!dir.join("shards/points.json").exists());
    assert_eq!(
        fs::read_to_string(dir.join("shards/shard-0-of-2/results.csv")).unwrap(),
        shard_results,
        "the shard's results are unchanged"
    );

    // A folder beside the shard folders, as deploy/k8s-merge-job.yaml uses, is allowed.
    let merged = run_ok(
        dir.path(),
        ["merge", "shards", "--out", "shards/merged", "--quiet"],
    );
    assert!(merged.contains("merged 8 rows from 2 folders"), "{merged}");
}

#[test]
fn merge_rejects_two_sweeps() {
    let (dir, _) = setup("sweep-two", &sweep_yaml("2"));
    dir.write("other.yaml", sweep_yaml("[1, 2, 3]"));
    sweep(dir.path(), &["--shard", "0/2", "--out", "a"]);
    run_ok(
        dir.path(),
        [
            "sweep",
            "other.yaml",
            "--quiet",
            "--shard",
            "1/2",
            "--out",
            "a",
        ],
    );

    let outcome = run_in(dir.path(), ["merge", "a", "--out", "merged"]);

    assert_eq!(outcome.code, INPUT_ERROR);
    assert!(
        outcome
            .stderr
            .contains("come from different sweeps: the seeds differ"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn point_rerun_matches_full_run() {
    let (dir, _) = setup("sweep-point", &sweep_yaml("2"));
    sweep(dir.path(), &["--out", "full"]);
    let full = result_lines(&dir.join("full"));
    let row: serde_json::Value = serde_json::from_str(&full[5]).unwrap();
    let id = row["point_id"].as_str().unwrap().to_string();
    let config = row["config_id"].as_str().unwrap().to_string();

    let single = sweep(dir.path(), &["--point", &id, "--out", "one"]);
    let seeds = sweep(dir.path(), &["--point", &config, "--out", "seeds"]);
    let unknown = sweep(
        dir.path(),
        &["--point", "0123456789abcdef", "--out", "none"],
    );

    assert_eq!(single.code, Some(0), "{}", single.stderr);
    assert_eq!(result_lines(&dir.join("one")), [full[5].clone()]);
    assert_eq!(seeds.code, Some(0), "{}", seeds.stderr);
    assert_eq!(
        result_lines(&dir.join("seeds")),
        [full[4].clone(), full[5].clone()]
    );
    assert_eq!(unknown.code, INPUT_ERROR);
    assert!(
        unknown
            .stderr
            .contains("no point of the sweep has the id 0123456789abcdef")
    );
}

#[test]
fn stats_of_two_seeds() {
    let (dir, _) = setup("sweep-stats", &sweep_yaml("2"));
    sweep(dir.path(), &["--out", "out"]);
    let lines = result_lines(&dir.join("out"));
    let cost = |line: usize| -> f64 {
        let row: serde_json::Value = serde_json::from_str(&lines[line]).unwrap();
        row["total_cost_usd"].as_f64().unwrap()
    };
    let (a, b) = (cost(0), cost(1));
    assert_ne!(
        a, b,
        "the two seeds give different costs, so the spread is not 0"
    );

    let stats = fs::read_to_string(dir.join("out/stats.csv")).unwrap();
    let row: Vec<&str> = stats
        .lines()
        .find(|l| l.contains(",total_cost_usd,"))
        .expect("stats.csv has the cost of the first configuration")
        .split(',')
        .collect();

    // Two seeds: mean (a + b) / 2, s = |a - b| / sqrt(2), half-width t(0.975, 1) s / sqrt(2)
    // with t(0.975, 1) = tan(0.475 pi).
    let mean = (a + b) / 2.0;
    let s = (a - b).abs() / 2f64.sqrt();
    let half = (std::f64::consts::PI * 0.475).tan() * s / 2f64.sqrt();
    let number = |i: usize| row[i].parse::<f64>().unwrap();
    assert_eq!(row[1], "cluster-autoscaler");
    assert_eq!(row[5], "2");
    assert!((number(6) - mean).abs() < 1e-9, "{row:?}");
    assert!((number(7) - s).abs() < 1e-9, "{row:?}");
    assert!((number(8) - (mean - half)).abs() < 1e-6, "{row:?}");
    assert!((number(9) - (mean + half)).abs() < 1e-6, "{row:?}");
}

#[test]
fn bad_sweep_files_exit_2() {
    let base = sweep_yaml("2");
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "unknown field",
            base.replace("consolidateAfter\n", "consolidateAftr\n"),
            vec![],
            "sweep.yaml:5:12: field axes[0].field, value \"policies[karpenter].karpenter.nodePools[default].spec.disruption.consolidateAftr\": the scenario has no such field",
        ),
        (
            "empty values",
            base.replace("values: [30s, 5m]", "values: []"),
            vec![],
            "sweep.yaml:6:13: field axes[0].values: the list of values is empty",
        ),
        (
            "step 0",
            base.replace("values: [30s, 5m]", "range: {from: 30s, to: 5m, step: 0s}"),
            vec![],
            "sweep.yaml:6:38: field axes[0].range.step, value \"0s\": a step of 0 never reaches to",
        ),
        (
            "from above to",
            base.replace("values: [30s, 5m]", "range: {from: 10m, to: 5m, step: 1m}"),
            vec![],
            "sweep.yaml:6:19: field axes[0].range.from, value \"10m\": from 10m is after to 5m",
        ),
        (
            "negative seeds",
            sweep_yaml("-3"),
            vec![],
            "sweep.yaml:3:8: field seeds, value \"-3\": the count of seeds is negative",
        ),
        (
            "rejected value",
            base.replace("values: [2m, 10m]", "values: [2m, ten]"),
            vec![],
            "sweep.yaml:8:18: field axes[1].values[1], value \"ten\": the scenario rejects this value",
        ),
        (
            "unknown sweep key",
            base.replace("seeds: 2\n", "seeds: 2\nsedes: 3\n"),
            vec![],
            "sweep.yaml:4:1: field sedes: unknown field `sedes`",
        ),
        (
            "shard out of range",
            base.clone(),
            vec!["--shard", "4/4"],
            "--shard 4/4: shard index 4 is not below the number of shards 4",
        ),
    ];
    for (name, text, args, expected) in cases {
        let (dir, _) = setup("sweep-bad", &text);
        let mut all = args.clone();
        all.extend(["--out", "out"]);

        let outcome = sweep(dir.path(), &all);

        assert_eq!(outcome.code, INPUT_ERROR, "{name}: {}", outcome.stderr);
        assert!(
            outcome.stderr.contains(expected),
            "{name}: expected {expected:?} in:\n{}",
            outcome.stderr
        );
        assert!(
            outcome.stderr.contains("fix: "),
            "{name}: {}",
            outcome.stderr
        );
        assert!(
            !dir.join("out").exists(),
            "{name}: an output folder was written"
        );
    }
}

/// Path of a file under deploy/.
fn deploy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name)
}

#[test]
fn slurm_script_shards_and_merges() {
    let (dir, _) = setup("sweep-slurm", &sweep_yaml("2"));
    sweep(dir.path(), &["--out", "single"]);
    let script = deploy("slurm-sweep.sh");

    // The tasks of `sbatch --array=1-3`, run one after the other as Slurm would on nodes.
    for task in 1..=3 {
        let output = Command::new("bash")
            .arg(&script)
            .args(["run", "sweep.yaml", "slurm"])
            .current_dir(dir.path())
            .env("AUTOSCALE_SIM", env!("CARGO_BIN_EXE_autoscale-sim"))
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_MAX", "3")
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .env("SLURM_CPUS_PER_TASK", "2")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
            .output()
            .expect("bash runs the script");
        assert!(
            output.status.success(),
            "task {task}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let merge = Command::new("bash")
        .arg(&script)
        .args(["merge", "sweep.yaml", "slurm"])
        .current_dir(dir.path())
        .env("AUTOSCALE_SIM", env!("CARGO_BIN_EXE_autoscale-sim"))
        .output()
        .unwrap();

    assert!(
        merge.status.success(),
        "{}",
        String::from_utf8_lossy(&merge.stderr)
    );
    assert_eq!(point_indexes(&dir.join("slurm/shard-0-of-3")), [0, 3, 6]);
    assert_same_files(&dir.join("single"), &dir.join("slurm/merged"));
}

#[test]
fn slurm_submit_chains_merge() {
    let (dir, _) = setup("sweep-submit", &sweep_yaml("2"));
    // A stand-in for sbatch that logs its arguments and prints a job id.
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let sbatch = dir.write(
        "bin/sbatch",
        "#!/usr/bin/env bash\necho \"$*\" >> \"$SBATCH_LOG\"\necho $((4200 + $(wc -l < \"$SBATCH_LOG\")))\n",
    );
    Command::new("chmod")
        .arg("+x")
        .arg(&sbatch)
        .status()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let output = Command::new("bash")
        .arg(deploy("slurm-sweep.sh"))
        .args(["submit", "sweep.yaml", "results", "3"])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("SBATCH_LOG", dir.join("sbatch.log"))
        .env("AUTOSCALE_SIM", env!("CARGO_BIN_EXE_autoscale-sim"))
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("submitted array job 4201 (3 shards) and merge job 4202"),
        "{stdout}"
    );
    let log = fs::read_to_string(dir.join("sbatch.log")).unwrap();
    let calls: Vec<&str> = log.lines().collect();
    assert_eq!(calls.len(), 2, "{log}");
    assert!(calls[0].starts_with("--parsable --array=0-2 "), "{log}");
    assert!(
        calls[0].ends_with("slurm-sweep.sh run sweep.yaml results"),
        "{log}"
    );
    assert!(
        calls[1].starts_with("--parsable --dependency=afterok:4201 "),
        "{log}"
    );
    assert!(
        calls[1].ends_with("slurm-sweep.sh merge sweep.yaml results"),
        "{log}"
    );
}

#[test]
fn kubernetes_job_count_matches_completions() {
    let manifest = fs::read_to_string(deploy("k8s-indexed-job.yaml")).unwrap();
    let value_after = |key: &str| -> String {
        let start = manifest
            .find(key)
            .unwrap_or_else(|| panic!("{key} is missing"))
            + key.len();
        manifest[start..]
            .lines()
            .next()
            .unwrap()
            .trim()
            .trim_matches('"')
            .to_string()
    };

    let completions = value_after("completions:");
    let parallelism = value_after("parallelism:");
    let count_at = manifest.find("name: AUTOSCALE_SIM_SHARD_COUNT").unwrap();
    let count = manifest[count_at..]
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .trim_start_matches("value:")
        .trim()
        .trim_matches('"');

    assert_eq!(value_after("completionMode:"), "Indexed");
    assert_eq!(count, completions);
    assert_eq!(parallelism, completions);
    assert!(manifest.contains("args: [sweep, /sweep/sweep.yaml, --out, /results/sweep"));
    let merge = fs::read_to_string(deploy("k8s-merge-job.yaml")).unwrap();
    assert!(merge.contains("args: [merge, /results/sweep, --out, /results/sweep/merged"));
}

#[test]
fn point_list_needs_no_out() {
    let (dir, _) = setup("sweep-point-list", &sweep_yaml("1"));
    let listed = sweep(dir.path(), &["--list"]);
    let id = listed
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();

    let list = sweep(dir.path(), &["--point", &id, "--list"]);
    let run = sweep(dir.path(), &["--point", &id]);
    let malformed = sweep(dir.path(), &["--point", "xyz", "--list"]);

    assert_eq!(list.code, Some(0), "{}", list.stderr);
    assert!(
        list.stdout.starts_with("small: 1 point listed of 4"),
        "{}",
        list.stdout
    );
    assert!(list.stdout.contains(&id), "{}", list.stdout);
    assert_eq!(run.code, INPUT_ERROR);
    assert!(run.stderr.contains("--point needs --out"), "{}", run.stderr);
    assert_eq!(malformed.code, INPUT_ERROR);
    assert!(
        malformed
            .stderr
            .contains("\"xyz\" is not a point id: ids are 16 hexadecimal digits"),
        "{}",
        malformed.stderr
    );
    assert!(!dir.join("small-results").exists());
}

#[test]
fn reused_out_drops_old_axis_plots() {
    let (dir, _) = setup("sweep-stale-plots", &sweep_yaml("1"));
    sweep(dir.path(), &["--out", "out"]);
    let one_axis = format!(
        "name: small\nscenario: small-web.yaml\nseeds: 1\naxes:\n  - field: {UNNEEDED_TIME}\n    name: unneeded\n    values: [2m]\n"
    );
    dir.write("sweep.yaml", one_axis);

    let second = sweep(dir.path(), &["--out", "out"]);

    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("note: removed 10 plots from an earlier sweep"),
        "{}",
        second.stderr
    );
    let plots: Vec<String> = files(&dir.join("out"))
        .into_keys()
        .filter(|name| name.ends_with(".svg"))
        .collect();
    assert_eq!(plots.len(), 6, "{plots:?}");
    assert!(
        plots
            .iter()
            .all(|name| name.starts_with("unneeded-vs-") || name == "cost-vs-p95-pending.svg"),
        "{plots:?}"
    );
}

#[test]
fn run_and_sweep_results_never_mix() {
    let (dir, _) = setup("sweep-run-out", &sweep_yaml("1"));
    let run = run_in(
        dir.path(),
        [
            "run",
            "small-web.yaml",
            "--policy",
            "karpenter",
            "--quiet",
            "--out",
            "run",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run_files = files(&dir.join("run"));

    let into_run = sweep(dir.path(), &["--out", "run"]);

    assert_eq!(into_run.code, INPUT_ERROR, "{}", into_run.stderr);
    assert!(
        into_run.stderr.contains(
            "--out run contains files of `run` or `compare` (summary.json, report.html, timeseries.csv, decisions.jsonl), and the files of a sweep would mix with them"
        ),
        "{}",
        into_run.stderr
    );
    assert_eq!(
        files(&dir.join("run")),
        run_files,
        "the run's folder is unchanged"
    );

    let swept = sweep(dir.path(), &["--out", "sweep"]);
    assert_eq!(swept.code, Some(0), "{}", swept.stderr);
    let sweep_files = files(&dir.join("sweep"));

    let into_sweep = run_in(
        dir.path(),
        ["compare", "small-web.yaml", "--quiet", "--out", "sweep"],
    );
    let merged = run_in(dir.path(), ["merge", "sweep", "--out", "run"]);

    assert_eq!(into_sweep.code, INPUT_ERROR, "{}", into_sweep.stderr);
    assert!(
        into_sweep.stderr.contains(
            "--out sweep contains files of `sweep` or `merge` (points.json, results.jsonl, paired.csv), and the files of a run would mix with them"
        ),
        "{}",
        into_sweep.stderr
    );
    assert_eq!(
        files(&dir.join("sweep")),
        sweep_files,
        "the sweep's folder is unchanged"
    );
    assert_eq!(merged.code, INPUT_ERROR, "{}", merged.stderr);
    assert_eq!(
        files(&dir.join("run")),
        run_files,
        "the run's folder is unchanged"
    );
}

#[test]
fn scenario_and_sweep_files_swapped() {
    let (dir, _) = setup("sweep-swapped", &sweep_yaml("1"));

    let as_sweep = run_in(dir.path(), ["sweep", "small-web.yaml", "--list"]);
    let as_scenario = run_in(dir.path(), ["compare", "sweep.yaml"]);

    assert_eq!(as_sweep.code, INPUT_ERROR);
    assert!(
        as_sweep.stderr.contains("this is a scenario file"),
        "{}",
        as_sweep.stderr
    );
    assert!(
        as_sweep
            .stderr
            .contains("autoscale-sim compare small-web.yaml"),
        "{}",
        as_sweep.stderr
    );
    assert_eq!(as_scenario.code, INPUT_ERROR);
    assert!(
        as_scenario.stderr.contains("this is a sweep file"),
        "{}",
        as_scenario.stderr
    );
    assert!(
        as_scenario
            .stderr
            .contains("autoscale-sim sweep sweep.yaml"),
        "{}",
        as_scenario.stderr
    );
}
