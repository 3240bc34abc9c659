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
pub(crate) use table::{NO_POD_BOUND, comparison_columns, none_bound};
pub use table::{comparison_table, run_comparison_table};

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
    let mut bytes = Vec::new();
    write_decisions_jsonl(outputs, &mut bytes).expect("writing to memory does not fail");
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

/// Writes the decision logs of all runs as JSON lines to `out`, as [`decisions_jsonl`] returns
/// them, without holding the text in memory.
pub fn write_decisions_jsonl(outputs: &[RunOutput], out: &mut dyn Write) -> std::io::Result<()> {
    for output in outputs {
        for decision in &output.decisions {
            serde_json::to_writer(&mut *out, decision)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
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
    let mut staged = StagedFiles::begin(dir, files.keys().copied())?;
    for (name, contents) in files {
        staged.stage(name, contents.as_bytes())?;
    }
    staged.commit()
}

/// Files written into a folder all or nothing, one at a time: each goes to a temporary name
/// when it is staged, so that its contents need not stay in memory, and [`StagedFiles::commit`]
/// renames them all into place. Dropped without a commit, it removes the temporary files.
///
/// NOTE: a rename can still fail after others succeeded, on an I/O error between the checks and
/// the renames. The earlier files then stay replaced, and the remaining temporary files are removed.
#[derive(Debug)]
pub struct StagedFiles {
    dir: PathBuf,
    /// Temporary path and target of each staged file, in the order staged.
    staged: Vec<(PathBuf, PathBuf)>,
}

impl StagedFiles {
    /// Creates `dir` if missing and checks the targets of `names`. A target that exists but is
    /// not a regular file fails here, before anything is written.
    pub fn begin<'n>(
        dir: &Path,
        names: impl IntoIterator<Item = &'n str>,
    ) -> Result<Self, WriteError> {
        fs::create_dir_all(dir).map_err(|source| WriteError {
            path: dir.to_path_buf(),
            source,
        })?;
        for name in names {
            let target = dir.join(name);
            if let Ok(metadata) = fs::symlink_metadata(&target)
                && !metadata.is_file()
            {
                return Err(WriteError {
                    path: target,
                    source: std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "exists and is not a regular file",
                    ),
                });
            }
        }
        Ok(StagedFiles {
            dir: dir.to_path_buf(),
            staged: Vec::new(),
        })
    }

    /// Writes `contents` under a temporary name, to become `name` at the commit.
    pub fn stage(&mut self, name: &str, contents: &[u8]) -> Result<(), WriteError> {
        self.stage_with(name, |out| out.write_all(contents))
    }

    /// Writes a file under a temporary name through `write`, buffered, to become `name` at
    /// the commit. On a failure every file staged so far is removed.
    pub fn stage_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), WriteError> {
        let temporary = self.dir.join(format!(".{name}.partial"));
        let result = fs::File::create(&temporary).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            write(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        });
        if let Err(source) = result {
            self.remove_staged();
            let _ = fs::remove_file(&temporary);
            return Err(WriteError {
                path: temporary,
                source,
            });
        }
        self.staged.push((temporary, self.dir.join(name)));
        Ok(())
    }

    /// Moves every staged file into place.
    pub fn commit(mut self) -> Result<(), WriteError> {
        let staged = std::mem::take(&mut self.staged);
        for (index, (temporary, target)) in staged.iter().enumerate() {
            if let Err(source) = fs::rename(temporary, target) {
                for (rest, _) in &staged[index..] {
                    let _ = fs::remove_file(rest);
                }
                return Err(WriteError {
                    path: target.clone(),
                    source,
                });
            }
        }
        Ok(())
    }

    /// Removes the temporary files staged so far.
    fn remove_staged(&mut self) {
        for (path, _) in self.staged.drain(..) {
            let _ = fs::remove_file(path);
        }
    }
}

impl Drop for StagedFiles {
    fn drop(&mut self) {
        self.remove_staged();
    }
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

    /// Lists the names in `dir`, sorted.
    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn failed_stage_removes_staged_files() {
        let dir = std::env::temp_dir().join(format!(
            "autoscale-sim-report-stage-test-{}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).unwrap();
        let mut staged = StagedFiles::begin(&dir, ["a.txt", "b.txt"]).unwrap();
        staged.stage("a.txt", b"one").unwrap();
        assert_eq!(names_in(&dir), [".a.txt.partial"]);

        let error = staged
            .stage_with("b.txt", |out| {
                out.write_all(b"half")?;
                Err(std::io::Error::other("disk full"))
            })
            .unwrap_err();

        assert_eq!(error.path, dir.join(".b.txt.partial"));
        assert!(names_in(&dir).is_empty(), "{:?}", names_in(&dir));
        drop(staged);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dropped_stage_writes_nothing() {
        let dir = std::env::temp_dir().join(format!(
            "autoscale-sim-report-drop-test-{}",
            std::process::id()
        ));
        let mut staged = StagedFiles::begin(&dir, ["a.txt"]).unwrap();
        staged.stage("a.txt", b"one").unwrap();

        drop(staged);

        assert!(names_in(&dir).is_empty(), "{:?}", names_in(&dir));
        fs::remove_dir_all(&dir).unwrap();
    }
}
