//! A temporary folder for the scenario tests that need files, such as traces and manifests,
//! beside a scenario.

// Each test file compiles this module on its own and uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use autoscale_sim_scenario::{Overrides, Scenario, ScenarioError, load_str};

/// Loads scenario `text` as if it were the file `file`, and panics with the error if it fails.
pub fn load_as(text: &str, file: &str) -> Scenario {
    load_str(text, Path::new(file), &Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Returns the error of scenario `text`, loaded as the file `file`, which should be rejected
/// for `case`.
pub fn rejection_of(text: &str, file: &str, case: &str) -> ScenarioError {
    match load_str(text, Path::new(file), &Overrides::default()) {
        Ok(_) => panic!("the scenario loads, but it should be rejected for {case}"),
        Err(error) => error,
    }
}

/// A folder under `std::env::temp_dir()` that is removed, with its contents, when dropped, so
/// also when a test fails.
pub struct TempFolder(PathBuf);

impl TempFolder {
    /// Creates an empty folder whose name contains `label`, the process id and a counter, so
    /// that tests running in parallel never share one.
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let number = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "autoscale-sim-scenario-{}-{number}-{label}",
            std::process::id()
        ));
        if path.exists() {
            std::fs::remove_dir_all(&path).unwrap();
        }
        std::fs::create_dir_all(&path).unwrap();
        TempFolder(path)
    }

    /// Returns the folder's path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` to `name` inside the folder, creating parent folders, and returns the
    /// file's path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
