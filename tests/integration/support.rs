//! Shared helpers: temporary folders, running the `autoscale-sim` binary, and small scenarios.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The two policies of [`SMALL_WEB_YAML`] and of the built-in scenario, in scenario order.
pub const TWO_POLICIES: [&str; 2] = ["cluster-autoscaler", "karpenter"];

/// A six-hour scenario, 16:00 to 22:00, with both autoscalers. The load falls from its 14:00 peak
/// and carries noise, and launch latency is log-normal, so the seed changes the results. With
/// seed 7, Karpenter launches, consolidates (cordon, evict, delete) and terminates nodes, and
/// Cluster Autoscaler scales up and down.
pub const SMALL_WEB_YAML: &str = r#"name: small-web
seed: 7
start: 2026-01-05T16:00:00Z
duration: 6h
cloud:
  launchLatency: {distribution: logNormal, mean: 45s, stddev: 10s, min: 20s}
loads:
  web:
    diurnal: {base: 50, peak: 800, peakHour: 14, troughHour: 5, noise: 0.1}
workloads:
  - kind: Deployment
    metadata: {name: api}
    hpa: {load: web, targetPerReplica: 50, minReplicas: 1, maxReplicas: 30}
    startupLatency: 10s
    template:
      spec:
        containers:
          - name: api
            resources:
              requests: {cpu: 1500m, memory: 2Gi}
  - kind: DaemonSet
    metadata: {name: kube-proxy}
    template:
      spec:
        tolerations: [{operator: Exists}]
        containers: [{name: kube-proxy, resources: {requests: {cpu: 100m}}}]
policies:
  - name: cluster-autoscaler
    clusterAutoscaler:
      flags: ["--scale-down-unneeded-time=10m"]
      nodeGroups:
        - name: general
          instanceType: m5.xlarge
          minSize: 1
          maxSize: 10
  - name: karpenter
    karpenter:
      nodePools:
        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {name: default}
          spec:
            template:
              spec:
                requirements:
                  - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m]}
                  - {key: kubernetes.io/arch, operator: In, values: [amd64]}
            disruption: {consolidationPolicy: WhenEmptyOrUnderutilized, consolidateAfter: 30s}
snapshots:
  - {label: "hour 2", at: 2h}
"#;

/// Returns a scenario of one `static` m5.large node for `duration`, with a fixed 10 s launch latency and
/// one pod that requests 500m CPU and 1Gi memory.
pub fn static_m5_large_yaml(duration: &str) -> String {
    format!(
        r#"name: one-m5-large
seed: 1
duration: {duration}
cloud:
  launchLatency: {{distribution: fixed, mean: 10s}}
workloads:
  - kind: Deployment
    metadata: {{name: web}}
    replicas: 1
    template:
      spec:
        containers: [{{name: web, resources: {{requests: {{cpu: 500m, memory: 1Gi}}}}}}]
policies:
  - name: fixed
    static: {{instanceType: m5.large, count: 1}}
"#
    )
}

/// Returns `text` with the only occurrence of `from` replaced by `to`.
///
/// Panics when `from` does not occur exactly once, so that a bad-input case cannot silently
/// turn into a valid scenario after [`SMALL_WEB_YAML`] changes.
pub fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} must occur exactly once in the scenario text"
    );
    text.replacen(from, to, 1)
}

/// A folder under `std::env::temp_dir()` that is removed, with its contents, when dropped.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates an empty folder whose name contains `label`, the process id and a counter, so that
    /// tests running in parallel, and runs of the suite at the same time, never share one.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let number = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "autoscale-sim-integration-{}-{number}-{label}",
            std::process::id()
        );
        let path = std::env::temp_dir().join(name);
        if path.exists() {
            fs::remove_dir_all(&path).expect("a stale temporary folder can be removed");
        }
        fs::create_dir_all(&path).expect("the temporary folder can be created");
        TempDir { path }
    }

    /// Returns the folder's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the path of `name` inside the folder, without creating anything.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `contents` to `name` inside the folder, creating parent folders, and returns the
    /// file's path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("the parent folder can be created");
        }
        fs::write(&path, contents).expect("the file can be written");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Exit code and output of one run of the binary.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code, or `None` when a signal ended the process.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `autoscale-sim` with `args` in the folder `working_dir` and waits for it to exit.
///
/// Panics when standard error contains "panicked", so that every test also checks that the
/// program reports problems as messages and never as a Rust panic.
pub fn run_in<I, S>(working_dir: &Path, args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let output = Command::new(env!("CARGO_BIN_EXE_autoscale-sim"))
        .args(&args)
        .current_dir(working_dir)
        .output()
        .expect("the autoscale-sim binary starts");
    let outcome = Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !outcome.stderr.contains("panicked"),
        "autoscale-sim {args:?} panicked:\n{}",
        outcome.stderr
    );
    outcome
}

/// Runs `autoscale-sim` with `args`, expects exit code 0, and returns standard output.
pub fn run_ok<I, S>(working_dir: &Path, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let outcome = run_in(working_dir, &args);
    assert_eq!(
        outcome.code,
        Some(0),
        "autoscale-sim {args:?} failed:\n{}",
        outcome.stderr
    );
    outcome.stdout
}

/// Parses `text` as JSON, naming `source` in the panic message when it is not JSON.
pub fn parse_json(text: &str, source: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{source} is not JSON: {e}\n{text}"))
}

/// Finds the `results` entry of `policy` in a summary document.
pub fn result_of<'a>(summary: &'a serde_json::Value, policy: &str) -> &'a serde_json::Value {
    summary["results"]
        .as_array()
        .expect("the summary has a results array")
        .iter()
        .find(|r| r["policy"] == policy)
        .unwrap_or_else(|| panic!("the summary has no result for {policy}"))
}

/// Returns the policy names of a summary's `results`, in order.
pub fn policy_names(summary: &serde_json::Value) -> Vec<String> {
    summary["results"]
        .as_array()
        .expect("the summary has a results array")
        .iter()
        .map(|r| r["policy"].as_str().unwrap_or_default().to_string())
        .collect()
}
