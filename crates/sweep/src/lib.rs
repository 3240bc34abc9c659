//! Parameter sweeps of autoscale-sim: many runs of one scenario over values of its fields and
//! over seeds, with statistics across seeds, shards for array jobs, and a merge of shards.
//!
//! A sweep file names a base scenario and the fields to vary:
//!
//! ```yaml
//! name: consolidation
//! scenario: default          # or a scenario path, relative to this file
//! seeds: 10                  # the seeds 1 to 10, or a list such as [1, 2, 3]
//! axes:
//!   - name: consolidateAfter
//!     field: policies[karpenter].karpenter.nodePools[default].spec.disruption.consolidateAfter
//!     values: [0s, 1m, 5m, 15m]
//!   - name: scaleDownUnneededTime
//!     field: policies[cluster-autoscaler].clusterAutoscaler.flags[--scale-down-unneeded-time]
//!     range: {from: 5m, to: 20m, step: 5m}
//! exclude:
//!   - {consolidateAfter: 1m}
//! ```
//!
//! - **Fields** are paths into the scenario file as written, with keys joined by dots. List
//!   entries are chosen by position (`[0]`) or by their `name`, `metadata.name` or `key`
//!   (`[default]`), and Cluster Autoscaler flags by name (`flags[--scale-down-unneeded-time]`,
//!   added when the list lacks it). Each value is set in the scenario's YAML tree, and the
//!   scenario is then built as `compare` builds it. So every field can be swept, and a wrong
//!   value gets the scenario's own message, located at the value in the sweep file.
//! - **Policies.** A field under `policies[NAME]` applies to that policy only; a field of the
//!   world (loads, workloads, cloud) applies to all. So a Karpenter setting with 4 values and a
//!   Cluster Autoscaler setting with 4 values make 4 Karpenter configurations and 4 Cluster
//!   Autoscaler ones, not 16 of each: Cluster Autoscaler's results do not depend on a
//!   Karpenter setting. Each policy runs every combination of the values of the axes that
//!   apply to it, each with every seed.
//! - **Points** are numbered from 0: policy by policy in scenario order, then combination
//!   (first axis slowest), then seed. Policies with the same axes share points. A point's id is
//!   a hash of its fields and values, sorted by field, and its seed; its configuration id
//!   leaves the seed out. Ids do not change when axes are reordered or points are added.
//! - **Statistics** per configuration and policy: mean, sample standard deviation and 95 %
//!   confidence interval of the mean (Student t, n - 1 degrees of freedom); and, for each
//!   pair of configurations under different policies with the same world values, the paired
//!   difference on the seeds both ran beside the unpaired (Welch) interval. Every policy of a
//!   seed faces the same load and market (common random numbers), so the paired interval is
//!   the narrower one.
//! - **Shards.** [`Shard`] `I/N` runs the points whose index is `I` modulo `N`. Every shard
//!   writes the same `points.json`, and [`merge`] joins shard folders into exactly the files
//!   one process writes (`timing.json` aside), or names the points that are missing.
//!
//! Outputs ([`Outputs`]): `points.json`, `results.jsonl` and `results.csv` (one row per
//! point and policy, sorted by point index then policy), `stats.csv`, `paired.csv`, SVG
//! plots, and `timing.json` with wall-clock times. Every file but `timing.json` is a function
//! of the sweep file and the base scenario alone, whatever the thread count or sharding.
//!
//! ```
//! use std::path::Path;
//!
//! use autoscale_sim_sweep::Sweep;
//!
//! let sweep = Sweep::from_text(
//!     r#"
//! scenario: default
//! seeds: 2
//! axes:
//!   - {field: duration, values: [1h]}
//!   - {name: snapshotTimes, field: snapshots, values: [[]]}   # the default's are after 1 h
//!   - field: policies[karpenter].karpenter.nodePools[default].spec.disruption.consolidateAfter
//!     values: [0s, 5m]
//! "#,
//!     Path::new("doc-sweep.yaml"),
//! )
//! .unwrap();
//! // Cluster Autoscaler: 1 configuration x 2 seeds; Karpenter: 2 configurations x 2 seeds.
//! assert_eq!(sweep.points.len(), 6);
//!
//! let points = sweep.select(None, &[]).unwrap();
//! let run = sweep.run_and_render(&points, None, 1, &|| {}).unwrap();
//! assert!(run.failures.is_empty());
//! assert_eq!(run.outputs.rows, 6);
//! assert!(run.outputs.files["stats.csv"].contains("total_cost_usd"));
//! ```
//!
//! ## Limitations
//!
//! - Two axes may not set the same field, or a field and a field inside it. A list entry
//!   without a name of its own (a container, a toleration) is known by its position only.
//! - The seed is varied with `seeds:`, not as a field, and a policy cannot be renamed.
//! - The plots of a parameter draw one line per policy and choice of the other parameters, so
//!   a sweep with several world axes draws many lines.

#![deny(missing_docs)]
// Located errors carry file, position, field, value and fix; they are built once per failed
// sweep, so their size does not matter.
#![allow(clippy::result_large_err)]

mod error;
mod output;
pub mod path;
mod plots;
mod rows;
mod run;
mod shard;
mod spec;
pub mod stats;

pub use error::{MissingPoint, SweepError};
pub use output::{FILES, Merged, Outputs, merge, render};
pub use plots::MAIN_METRICS;
pub use rows::{Manifest, ManifestAxis, ManifestPoint, metric_fields, report_fields, row_line};
pub use run::{RunFailure, RunRecord, SweepRun};
pub use shard::{SHARD_COUNT_VARIABLE, Shard};
pub use spec::{
    Axis, DEFAULT_SCENARIO, MAX_AXIS_VALUES, MAX_POINTS, MAX_SEEDS, Point, Sweep,
    parse_seeds_option, value_text,
};
