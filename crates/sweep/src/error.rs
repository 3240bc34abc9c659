//! Errors of sweeps and merges.

use autoscale_sim_report::{PlotError, WriteError};
use autoscale_sim_scenario::ScenarioError;

/// Most missing points a [`SweepError::MissingPoints`] message lists one by one.
const MAX_LISTED: usize = 20;

/// A problem that stops a sweep or a merge.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The sweep file, its base scenario, or a point made from them is invalid. The error
    /// names the file, line, column, field and value, and the fix. Fatal: correct the file.
    #[error("{0}")]
    Invalid(Box<ScenarioError>),
    /// A `--shard` value, or the variables of an array-job engine that stand for it, are
    /// invalid. Fatal: correct the value or the job's environment.
    #[error("{message}\n  fix: {fix}")]
    Shard {
        /// The problem.
        message: String,
        /// The fix.
        fix: String,
    },
    /// The folders given to `merge` cannot be merged: one lacks the sweep's files, two come
    /// from different sweeps, or two hold different results for one run. Fatal.
    #[error("{message}\n  fix: {fix}")]
    Merge {
        /// The problem.
        message: String,
        /// The fix.
        fix: String,
    },
    /// Runs of the sweep have no results in the folders given to `merge`. Fatal until the
    /// shards that hold them have run.
    #[error("{}", missing_message(.missing, *.total))]
    MissingPoints {
        /// The points with a missing run, in index order.
        missing: Vec<MissingPoint>,
        /// Number of points in the sweep.
        total: usize,
    },
    /// An output file could not be written. Fatal: choose another folder.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A plot could not be drawn. A bug.
    #[error("{0}; this is a bug in autoscale-sim, please report it with the sweep file")]
    Plot(#[from] PlotError),
}

impl SweepError {
    /// Checks whether the error is the user's input (exit code 2) rather than a bug (exit
    /// code 1).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, SweepError::Plot(_))
    }
}

/// A point with at least one run missing from a merge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingPoint {
    /// Index in the sweep.
    pub index: usize,
    /// Point id.
    pub id: String,
    /// Seed.
    pub seed: u64,
    /// Parameters as `name=value` pairs joined by commas.
    pub parameters: String,
    /// Policies whose run is missing.
    pub policies: Vec<String>,
    /// `(I, N)` of the shard that runs the point, when the merged folders agree on N.
    pub shard: Option<(u64, u64)>,
}

fn missing_message(missing: &[MissingPoint], total: usize) -> String {
    let mut text = format!(
        "{} of the sweep's {total} points have no results in the folders given:",
        missing.len()
    );
    for point in missing.iter().take(MAX_LISTED) {
        text.push_str(&format!(
            "\n  point {} (id {}, seed {}",
            point.index, point.id, point.seed
        ));
        if !point.parameters.is_empty() {
            text.push_str(&format!(", {}", point.parameters));
        }
        text.push_str(&format!("): {}", point.policies.join(", ")));
        if let Some((index, count)) = point.shard {
            text.push_str(&format!(", in shard {index}/{count}"));
        }
    }
    if missing.len() > MAX_LISTED {
        text.push_str(&format!("\n  and {} more", missing.len() - MAX_LISTED));
    }
    text.push_str(
        "\n  fix: run the shards that hold them and merge again, or run single points with `autoscale-sim sweep FILE --point ID --out DIR` and add DIR to the merge",
    );
    text
}
