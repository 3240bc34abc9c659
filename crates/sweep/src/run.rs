//! Running the points of a sweep in parallel.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use autoscale_sim_sim::{RunReport, Simulation};
use rayon::prelude::*;

use crate::SweepError;
use crate::output::{Outputs, render};
use crate::rows::{Manifest, row_line};
use crate::shard::Shard;
use crate::spec::{Point, Sweep};

/// One finished run.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// Index of the point.
    pub point: usize,
    /// Policy name.
    pub policy: String,
    /// The run's report.
    pub report: RunReport,
    /// Wall-clock time of the run, in seconds.
    pub wall_seconds: f64,
}

/// A run that did not finish: its scenario failed to build, or the simulation panicked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunFailure {
    /// Index of the point.
    pub point: usize,
    /// Point id.
    pub id: String,
    /// Policy name.
    pub policy: String,
    /// What happened.
    pub message: String,
}

/// The outcome of running some points of a sweep.
#[derive(Clone, Debug)]
pub struct SweepRun {
    /// The files (but `timing.json`) and the table, from the runs that finished.
    pub outputs: Outputs,
    /// `timing.json`: the wall-clock time of the whole and of each run.
    pub timing: String,
    /// Runs that did not finish; their rows are missing from the outputs.
    pub failures: Vec<RunFailure>,
}

impl Sweep {
    /// Returns the points of `shard` (all with `None`), restricted to those whose point id or
    /// configuration id is in `ids` when it is not empty. An id that matches no point is an
    /// error.
    pub fn select(&self, shard: Option<Shard>, ids: &[String]) -> Result<Vec<&Point>, SweepError> {
        for id in ids {
            if !self
                .points
                .iter()
                .any(|p| &p.id == id || &p.config_id == id)
            {
                return Err(SweepError::Invalid(Box::new(
                    autoscale_sim_scenario::ScenarioError::file(
                        &self.file,
                        if id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()) {
                            format!("no point of the sweep has the id {id}")
                        } else {
                            format!(
                                "{id:?} is not a point id: ids are 16 hexadecimal digits, such as 0123456789abcdef"
                            )
                        },
                        "copy an id from results.csv or points.json, or list the points with `autoscale-sim sweep FILE --list`",
                    ),
                )));
            }
        }
        Ok(self
            .points
            .iter()
            .filter(|p| shard.is_none_or(|s| s.includes(p.index)))
            .filter(|p| ids.is_empty() || ids.iter().any(|id| *id == p.id || *id == p.config_id))
            .collect())
    }

    /// Runs every policy of every point in `points` on the current rayon thread pool and calls
    /// `on_run_done` after each run. Results are in point order then policy order, whatever
    /// order the runs finish in.
    pub fn run_points(
        &self,
        points: &[&Point],
        on_run_done: &(dyn Fn() + Sync),
    ) -> Vec<Result<RunRecord, RunFailure>> {
        points
            .par_iter()
            .map(|point| self.run_point(point, on_run_done))
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect()
    }

    /// Builds a point's scenario and runs its policies, in parallel with each other.
    fn run_point(
        &self,
        point: &Point,
        on_run_done: &(dyn Fn() + Sync),
    ) -> Vec<Result<RunRecord, RunFailure>> {
        let failure = |policy: &str, message: String| RunFailure {
            point: point.index,
            id: point.id.clone(),
            policy: policy.to_string(),
            message,
        };
        let built = self
            .scenario_of(point)
            .map_err(|e| e.to_string())
            .and_then(|scenario| {
                // A sweep writes no decision log, so its runs keep none.
                Simulation::new(scenario.config.clone())
                    .map(|simulation| (scenario, simulation.keep_decision_log(false)))
                    .map_err(|e| e.to_string())
            });
        let (scenario, simulation) = match built {
            Ok(built) => built,
            Err(message) => {
                return point
                    .policies
                    .iter()
                    .map(|policy| {
                        on_run_done();
                        Err(failure(
                            policy,
                            format!("the point's scenario is invalid: {message}"),
                        ))
                    })
                    .collect();
            }
        };

        point
            .policies
            .par_iter()
            .map(|name| {
                let Some(policy) = scenario.policies.iter().find(|p| p.name() == name) else {
                    on_run_done();
                    return Err(failure(
                        name,
                        "the point's scenario lacks this policy".into(),
                    ));
                };
                let started = Instant::now();
                let output = catch_unwind(AssertUnwindSafe(|| simulation.run(policy)));
                let wall_seconds = started.elapsed().as_secs_f64();
                on_run_done();
                match output {
                    Ok(output) => Ok(RunRecord {
                        point: point.index,
                        policy: name.clone(),
                        report: output.report,
                        wall_seconds,
                    }),
                    Err(panic) => {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "no message".into());
                        Err(failure(name, format!("the simulation panicked: {message}")))
                    }
                }
            })
            .collect()
    }

    /// Runs `points` (see [`Sweep::run_points`]) and renders the outputs from the runs that
    /// finished. `threads` and `shard` are recorded in `timing.json`.
    pub fn run_and_render(
        &self,
        points: &[&Point],
        shard: Option<Shard>,
        threads: usize,
        on_run_done: &(dyn Fn() + Sync),
    ) -> Result<SweepRun, SweepError> {
        let started = Instant::now();
        let results = self.run_points(points, on_run_done);
        let wall_seconds = started.elapsed().as_secs_f64();

        let mut lines = Vec::new();
        let mut runs = Vec::new();
        let mut failures = Vec::new();
        for result in results {
            match result {
                Ok(record) => {
                    let point = &self.points[record.point];
                    lines.push(row_line(self, point, &record.report));
                    runs.push(serde_json::json!({
                        "point_index": record.point,
                        "point_id": point.id,
                        "policy": record.policy,
                        "wall_seconds": record.wall_seconds,
                    }));
                }
                Err(failure) => failures.push(failure),
            }
        }
        let outputs = render(&Manifest::of(self).to_text(), &lines)?;
        let timing = serde_json::json!({
            "wall_seconds": wall_seconds,
            "threads": threads,
            "shard": shard.map(|s| serde_json::json!({"index": s.index, "count": s.count})),
            "runs": runs,
        });
        Ok(SweepRun {
            outputs,
            timing: serde_json::to_string_pretty(&timing).expect("timing serialises") + "\n",
            failures,
        })
    }
}
