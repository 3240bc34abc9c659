//! Reports of autoscale-sim runs: the comparison table, `summary.json`, `timeseries.csv`,
//! `decisions.jsonl`, the SVG plots ([`plots`]) and the self-contained `report.html` ([`html`]).
//!
//! ```
//! use autoscale_sim_report::comparison_table;
//! use autoscale_sim_sim::RunReport;
//!
//! let report = RunReport { policy: "karpenter".into(), total_cost_usd: 12.5, ..Default::default() };
//! let table = comparison_table(&[report]);
//! assert!(table.contains("karpenter"));
//! assert!(table.contains("12.50"));
//! ```

#![deny(missing_docs)]

pub mod html;
pub mod plots;
mod table;

pub use html::{HtmlReport, report_html};
pub use plots::{Plot, PlotError, all_plots};
pub(crate) use table::comparison_columns;
pub use table::comparison_table;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use autoscale_sim_sim::{RunOutput, RunReport};
use serde::Serialize;

/// The `summary.json` document: the scenario, the seed, and one result per policy.
#[derive(Clone, Debug, Serialize)]
pub struct Summary<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Seed of the run.
    pub seed: u64,
    /// Simulated duration in seconds.
    pub duration_seconds: u64,
    /// One report per policy, in scenario order.
    pub results: Vec<&'a RunReport>,
}

/// Serialises the summary as pretty JSON with a trailing newline.
pub fn summary_json(summary: &Summary<'_>) -> String {
    let mut text = serde_json::to_string_pretty(summary).expect("reports serialise");
    text.push('\n');
    text
}

/// Time series of all runs as CSV, one header line then one row per sample.
pub fn timeseries_csv(outputs: &[RunOutput]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for output in outputs {
        for sample in &output.samples {
            writer.serialize(sample).expect("samples serialise");
        }
    }
    String::from_utf8(writer.into_inner().expect("in-memory writer flushes")).expect("CSV is UTF-8")
}

/// Decision logs of all runs as JSON lines.
pub fn decisions_jsonl(outputs: &[RunOutput]) -> String {
    let mut text = String::new();
    for output in outputs {
        for decision in &output.decisions {
            text.push_str(&serde_json::to_string(decision).expect("decisions serialise"));
            text.push('\n');
        }
    }
    text
}

/// A failure to write the output folder.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}; check that path or choose another folder with --out")]
pub struct WriteError {
    /// The path that failed.
    pub path: PathBuf,
    /// The operating system's error.
    #[source]
    pub source: std::io::Error,
}

/// Writes `files` (name → contents) into `dir` all or nothing: each file goes to a temporary
/// name first, and only when all are written are they renamed into place. A target that exists
/// but is not a regular file fails the write before anything is written.
///
/// NOTE: a rename can still fail after others succeeded, on an I/O error between the checks and
/// the renames. The earlier files then stay replaced, and the remaining temporary files are removed.
pub fn write_all_or_nothing(dir: &Path, files: &BTreeMap<&str, String>) -> Result<(), WriteError> {
    fn fail(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
        move |source| WriteError {
            path: path.to_path_buf(),
            source,
        }
    }
    fs::create_dir_all(dir).map_err(fail(dir))?;

    // Check the targets first, so that a folder in the way stops the write before it starts.
    for name in files.keys() {
        let target = dir.join(name);
        if let Ok(metadata) = fs::symlink_metadata(&target) {
            if !metadata.is_file() {
                return Err(WriteError {
                    path: target,
                    source: std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "exists and is not a regular file",
                    ),
                });
            }
        }
    }

    // Stage every file under a temporary name.
    let mut staged = Vec::new();
    for (name, contents) in files {
        let temporary = dir.join(format!(".{name}.partial"));
        let result = fs::File::create(&temporary)
            .and_then(|mut f| f.write_all(contents.as_bytes()).and_then(|_| f.sync_all()));
        if let Err(source) = result {
            for (path, _) in &staged {
                let _ = fs::remove_file(path);
            }
            let _ = fs::remove_file(&temporary);
            return Err(WriteError {
                path: temporary,
                source,
            });
        }
        staged.push((temporary, dir.join(name)));
    }

    // Move them into place.
    for (index, (temporary, target)) in staged.iter().enumerate() {
        if let Err(source) = fs::rename(temporary, target) {
            for (rest, _) in &staged[index..] {
                let _ = fs::remove_file(rest);
            }
            return Err(fail(target)(source));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_is_all_or_nothing() {
        let dir =
            std::env::temp_dir().join(format!("autoscale-sim-report-test-{}", std::process::id()));
        let files = BTreeMap::from([("a.txt", "one".to_string()), ("b.txt", "two".to_string())]);
        write_all_or_nothing(&dir, &files).unwrap();
        assert_eq!(fs::read_to_string(dir.join("b.txt")).unwrap(), "two");
        assert!(fs::read_dir(&dir).unwrap().all(|e| {
            !e.unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".partial")
        }));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_stops_at_folder_in_way() {
        let dir = std::env::temp_dir().join(format!(
            "autoscale-sim-report-folder-test-{}",
            std::process::id()
        ));
        fs::create_dir_all(dir.join("b.txt")).unwrap();
        let files = BTreeMap::from([("a.txt", "one".to_string()), ("b.txt", "two".to_string())]);

        let error = write_all_or_nothing(&dir, &files).unwrap_err();

        assert_eq!(error.path, dir.join("b.txt"));
        let names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["b.txt"], "nothing was written");
        fs::remove_dir_all(&dir).unwrap();
    }
}
