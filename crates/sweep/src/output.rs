//! The files a sweep writes, and the merge of shards. Every file is rendered from `points.json`
//! and the lines of `results.jsonl` alone, so a merge renders exactly what one process renders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{MissingPoint, SweepError};
use crate::plots::sweep_plots;
use crate::rows::{
    Group, Manifest, Row, groups, left_out, metric_fields, metric_values, results_csv, sort_rows,
};
use crate::spec::value_text;
use crate::stats::{Estimate, welch_half_width};

/// Names of the files every sweep writes besides its plots; `timing.json` also holds wall-clock
/// times, which differ from run to run.
pub const FILES: [&str; 6] = [
    "points.json",
    "results.csv",
    "results.jsonl",
    "stats.csv",
    "paired.csv",
    "timing.json",
];

/// Most pairs of configurations printed in the table; `paired.csv` has all of them.
const MAX_PRINTED_PAIRS: usize = 40;

/// The files of a sweep (all but `timing.json`) and the table printed on standard output.
#[derive(Clone, Debug)]
pub struct Outputs {
    /// File name to contents: `points.json`, `results.csv`, `results.jsonl`, `stats.csv`,
    /// `paired.csv` and the SVG plots.
    pub files: BTreeMap<String, String>,
    /// Statistics per configuration and paired differences, as text tables.
    pub table: String,
    /// Result rows, one per point and policy.
    pub rows: usize,
}

/// Renders every file from the manifest text and the result lines (in any order; they are
/// sorted by point index, then policy). A line that does not match the manifest is an error.
pub fn render(manifest_text: &str, lines: &[String]) -> Result<Outputs, SweepError> {
    let manifest: Manifest =
        serde_json::from_str(manifest_text).map_err(|e| SweepError::Merge {
            message: format!("points.json is not a sweep manifest: {e}"),
            fix: "use the points.json that autoscale-sim sweep wrote".into(),
        })?;
    let mut rows = Vec::with_capacity(lines.len());
    for (number, line) in lines.iter().enumerate() {
        rows.push(
            Row::parse(line, &manifest).map_err(|problem| SweepError::Merge {
                message: format!("result line {}: {problem}", number + 1),
                fix: "use the results.jsonl that autoscale-sim sweep wrote with this points.json"
                    .into(),
            })?,
        );
    }
    sort_rows(&mut rows, &manifest);
    let groups = groups(&manifest, &rows);

    let mut jsonl = String::new();
    for row in &rows {
        jsonl.push_str(&row.line);
        jsonl.push('\n');
    }
    let mut files = BTreeMap::from([
        ("points.json".to_string(), manifest_text.to_string()),
        ("results.jsonl".to_string(), jsonl),
        ("results.csv".to_string(), results_csv(&manifest, &rows)),
        (
            "stats.csv".to_string(),
            stats_csv(&manifest, &rows, &groups),
        ),
        (
            "paired.csv".to_string(),
            paired_csv(&manifest, &rows, &groups),
        ),
    ]);
    for plot in sweep_plots(&manifest, &rows, &groups)? {
        files.insert(plot.file_name, plot.svg);
    }
    Ok(Outputs {
        files,
        table: tables(&manifest, &rows, &groups),
        rows: rows.len(),
    })
}

/// Formats a number for a CSV cell: the shortest text that reads back to the same `f64`, or
/// empty when it is not finite.
fn number_cell(value: f64) -> String {
    if value.is_finite() {
        value.to_string()
    } else {
        String::new()
    }
}

/// Returns the axis cells of a configuration: its value for each axis, empty where the axis
/// does not apply.
fn axis_cells(manifest: &Manifest, parameters: &[(usize, usize)]) -> Vec<String> {
    (0..manifest.axes.len())
        .map(|axis| {
            parameters
                .iter()
                .find(|(a, _)| *a == axis)
                .map(|&(a, v)| value_text(&manifest.axes[a].values[v]))
                .unwrap_or_default()
        })
        .collect()
}

/// Writes `stats.csv`: for each configuration, policy and numeric report field, the number of
/// seeds, the mean, the sample standard deviation and the 95 % confidence interval of the mean.
/// The last column counts the runs left out of the field (see [`left_out`]).
fn stats_csv(manifest: &Manifest, rows: &[Row], groups: &[Group]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = vec!["config_id", "policy"];
    header.extend(manifest.axes.iter().map(|a| a.name.as_str()));
    header.extend([
        "metric",
        "n",
        "mean",
        "std_dev",
        "ci95_low",
        "ci95_high",
        "runs_left_out",
    ]);
    writer
        .write_record(&header)
        .expect("in-memory writes succeed");
    for group in groups {
        for metric in metric_fields() {
            let values = metric_values(rows, group, metric);
            let estimate = Estimate::of(&values.values);
            let mut record = vec![group.config_id.clone(), group.policy.clone()];
            record.extend(axis_cells(manifest, &group.parameters));
            record.extend([
                metric.clone(),
                estimate.n.to_string(),
                number_cell(estimate.mean),
                number_cell(estimate.std_dev),
                number_cell(estimate.low()),
                number_cell(estimate.high()),
                values.left_out.to_string(),
            ]);
            writer
                .write_record(&record)
                .expect("in-memory writes succeed");
        }
    }
    String::from_utf8(writer.into_inner().expect("in-memory writer flushes")).expect("CSV is UTF-8")
}

/// Two configurations with the same world parameters, and the row positions of the seeds both
/// ran.
struct Pair {
    first: usize,
    second: usize,
    runs: Vec<(usize, usize)>,
}

/// Lists the pairs of groups to compare: equal values of the axes that apply to every policy
/// and at least one common seed, under two policies or under one policy with different values
/// of its own axes. The first of a pair is the earlier group.
fn pairs(manifest: &Manifest, groups: &[Group]) -> Vec<Pair> {
    let world = |group: &Group| -> Vec<(usize, usize)> {
        group
            .parameters
            .iter()
            .copied()
            .filter(|(axis, _)| manifest.axes[*axis].policy.is_none())
            .collect()
    };
    let mut pairs = Vec::new();
    for (first, a) in groups.iter().enumerate() {
        for (offset, b) in groups[first + 1..].iter().enumerate() {
            if world(a) != world(b) {
                continue;
            }
            let seeds_b: BTreeMap<u64, usize> = b.runs.iter().copied().collect();
            let runs: Vec<(usize, usize)> = a
                .runs
                .iter()
                .filter_map(|(seed, row)| seeds_b.get(seed).map(|other| (*row, *other)))
                .collect();
            if !runs.is_empty() {
                pairs.push(Pair {
                    first,
                    second: first + 1 + offset,
                    runs,
                });
            }
        }
    }
    pairs
}

/// The paired and unpaired estimates of `second - first` for one metric.
struct Difference {
    paired: Estimate,
    unpaired_half_width: f64,
    /// Seeds left out because one of the two runs is left out of the metric (see
    /// [`left_out`]).
    left_out: usize,
}

fn difference(rows: &[Row], pair: &Pair, metric: &str) -> Difference {
    let mut firsts = Vec::new();
    let mut seconds = Vec::new();
    let mut skipped = 0;
    for &(a, b) in &pair.runs {
        if left_out(&rows[a], metric) || left_out(&rows[b], metric) {
            skipped += 1;
            continue;
        }
        if let (Some(x), Some(y)) = (rows[a].number(metric), rows[b].number(metric)) {
            firsts.push(x);
            seconds.push(y);
        }
    }
    let differences: Vec<f64> = firsts.iter().zip(&seconds).map(|(x, y)| y - x).collect();
    Difference {
        paired: Estimate::of(&differences),
        unpaired_half_width: welch_half_width(&Estimate::of(&firsts), &Estimate::of(&seconds)),
        left_out: skipped,
    }
}

/// Writes `paired.csv`, one row per pair of configurations (see [`pairs`]) and numeric report
/// field. A row has the mean, standard deviation and paired 95 % confidence interval of the
/// difference `second - first` over the seeds both ran. Beside them is the interval that an
/// unpaired comparison (Welch) of the same runs would give. The last column counts the seeds
/// left out because a run of either side is left out of the field (see [`left_out`]). The
/// parameters of each side are `name=value` pairs joined by commas.
fn paired_csv(manifest: &Manifest, rows: &[Row], groups: &[Group]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "config_id_first",
        "policy_first",
        "parameters_first",
        "config_id_second",
        "policy_second",
        "parameters_second",
        "metric",
        "n",
        "mean_difference",
        "std_dev_difference",
        "ci95_low",
        "ci95_high",
        "unpaired_ci95_low",
        "unpaired_ci95_high",
        "seeds_left_out",
    ];
    writer
        .write_record(header)
        .expect("in-memory writes succeed");
    for pair in pairs(manifest, groups) {
        let (a, b) = (&groups[pair.first], &groups[pair.second]);
        for metric in metric_fields() {
            let d = difference(rows, &pair, metric);
            let mut record = vec![
                a.config_id.clone(),
                a.policy.clone(),
                describe(manifest, &a.parameters),
                b.config_id.clone(),
                b.policy.clone(),
                describe(manifest, &b.parameters),
            ];
            record.extend([
                metric.clone(),
                d.paired.n.to_string(),
                number_cell(d.paired.mean),
                number_cell(d.paired.std_dev),
                number_cell(d.paired.low()),
                number_cell(d.paired.high()),
                number_cell(d.paired.mean - d.unpaired_half_width),
                number_cell(d.paired.mean + d.unpaired_half_width),
                d.left_out.to_string(),
            ]);
            writer
                .write_record(&record)
                .expect("in-memory writes succeed");
        }
    }
    String::from_utf8(writer.into_inner().expect("in-memory writer flushes")).expect("CSV is UTF-8")
}

/// Formats `mean ± half-width` with `decimals`, or the mean alone without an interval.
fn plus_minus(estimate: &Estimate, decimals: usize) -> String {
    if !estimate.mean.is_finite() {
        return "-".into();
    }
    if estimate.half_width.is_finite() {
        format!(
            "{:.decimals$} ± {:.decimals$}",
            estimate.mean, estimate.half_width
        )
    } else {
        format!("{:.decimals$}", estimate.mean)
    }
}

/// Describes parameters as `name=value` pairs joined by commas.
fn describe(manifest: &Manifest, parameters: &[(usize, usize)]) -> String {
    parameters
        .iter()
        .map(|&(axis, value)| {
            format!(
                "{}={}",
                manifest.axes[axis].name,
                value_text(&manifest.axes[axis].values[value])
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Labels a group as `policy name=value, ...`.
fn group_label(manifest: &Manifest, group: &Group) -> String {
    let mut label = group.policy.clone();
    for &(axis, value) in &group.parameters {
        label.push_str(&format!(
            " {}={}",
            manifest.axes[axis].name,
            value_text(&manifest.axes[axis].values[value])
        ));
    }
    label
}

/// Renders the table printed on standard output: mean ± 95 % CI of the main metrics per
/// configuration and policy, then paired differences between policies.
fn tables(manifest: &Manifest, rows: &[Row], groups: &[Group]) -> String {
    let mut headers: Vec<String> = vec!["policy".into()];
    headers.extend(manifest.axes.iter().map(|a| a.name.clone()));
    headers.extend(["seeds", "cost $", "p95 pending s", "evicted", "launched"].map(String::from));
    let columns = [
        ("total_cost_usd", 2),
        ("pod_pending_p95_seconds", 1),
        ("pods_evicted", 1),
        ("nodes_launched", 1),
    ];
    let mut body = Vec::new();
    for group in groups {
        let mut cells = vec![group.policy.clone()];
        cells.extend(axis_cells(manifest, &group.parameters));
        cells.push(group.runs.len().to_string());
        for (metric, decimals) in columns {
            cells.push(plus_minus(
                &Estimate::of(&metric_values(rows, group, metric).values),
                decimals,
            ));
        }
        body.push(cells);
    }
    let mut out = format!(
        "{}: {} runs; mean ± 95 % confidence interval (Student t) over the seeds\n",
        manifest.sweep,
        rows.len()
    );
    out.push_str(&text_table(&headers, &body, 1 + manifest.axes.len()));

    let pairs = pairs(manifest, groups);
    if pairs.is_empty() {
        return out;
    }
    out.push_str(
        "\nPaired differences, second minus first, on the seeds both ran (unpaired interval for comparison):\n",
    );
    let headers: Vec<String> = [
        "first",
        "second",
        "seeds",
        "cost $ paired",
        "unpaired ±",
        "p95 pending s paired",
        "unpaired ±",
    ]
    .map(String::from)
    .to_vec();
    let mut body = Vec::new();
    for pair in pairs.iter().take(MAX_PRINTED_PAIRS) {
        let cost = difference(rows, pair, "total_cost_usd");
        let pending = difference(rows, pair, "pod_pending_p95_seconds");
        body.push(vec![
            group_label(manifest, &groups[pair.first]),
            group_label(manifest, &groups[pair.second]),
            pair.runs.len().to_string(),
            plus_minus(&cost.paired, 2),
            format!("{:.2}", cost.unpaired_half_width),
            plus_minus(&pending.paired, 1),
            format!("{:.1}", pending.unpaired_half_width),
        ]);
    }
    out.push_str(&text_table(&headers, &body, 2));
    if pairs.len() > MAX_PRINTED_PAIRS {
        out.push_str(&format!(
            "{} more pairs in paired.csv\n",
            pairs.len() - MAX_PRINTED_PAIRS
        ));
    }
    out
}

/// Renders a Markdown-style table; columns before `text_columns` are left-aligned, the rest
/// right-aligned.
fn text_table(headers: &[String], rows: &[Vec<String>], text_columns: usize) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths[i] - c.chars().count();
                if i < text_columns {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(headers);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

/// A merge of shard folders: the rendered files and the shards' combined timing.
#[derive(Clone, Debug)]
pub struct Merged {
    /// The files a single process would have written, but `timing.json`.
    pub outputs: Outputs,
    /// `timing.json`: each folder's own timing file.
    pub timing: String,
    /// The folders merged, after expanding parents of `shard-I-of-N` folders.
    pub folders: Vec<PathBuf>,
}

/// Merges the outputs of shards (or of any runs of one sweep) into the files one process
/// writes. A folder without `points.json` that contains `shard-I-of-N` folders stands for
/// them. Fails when the folders come from different sweeps, when two hold different results
/// for the same run, and when any run of the sweep is missing, naming each missing point.
pub fn merge(folders: &[PathBuf]) -> Result<Merged, SweepError> {
    let folders = expand_folders(folders)?;
    let merge_error = |message: String, fix: &str| SweepError::Merge {
        message,
        fix: fix.to_string(),
    };

    // One manifest for all.
    let mut reference: Option<(String, &Path)> = None;
    for folder in &folders {
        let text = read(&folder.join("points.json"))?;
        match &reference {
            None => reference = Some((text, folder)),
            Some((first, first_folder)) if *first != text => {
                return Err(merge_error(
                    format!(
                        "{} and {} come from different sweeps: {}",
                        first_folder.display(),
                        folder.display(),
                        manifest_difference(first, &text)
                    ),
                    "merge the folders of one sweep, run with the same sweep file, scenario and autoscale-sim version",
                ));
            }
            Some(_) => {}
        }
    }
    let (manifest_text, _) = reference.expect("expand_folders returns at least one folder");
    let manifest: Manifest = serde_json::from_str(&manifest_text).map_err(|e| {
        merge_error(
            format!(
                "{} is not a sweep manifest: {e}",
                folders[0].join("points.json").display()
            ),
            "merge folders written by autoscale-sim sweep",
        )
    })?;

    // Every run once; the same run twice must have the same line.
    let mut runs: BTreeMap<(usize, String), (String, PathBuf)> = BTreeMap::new();
    for folder in &folders {
        let path = folder.join("results.jsonl");
        let text = read(&path)?;
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let row = Row::parse(line, &manifest).map_err(|problem| {
                merge_error(
                    format!("{}:{}: {problem}", path.display(), number + 1),
                    "use the results.jsonl that autoscale-sim sweep wrote beside this points.json",
                )
            })?;
            match runs.get(&(row.point, row.policy.clone())) {
                Some((existing, other)) if *existing != row.line => {
                    return Err(merge_error(
                        format!(
                            "{} and {} hold different results for point {} under {}",
                            other.display(),
                            folder.display(),
                            row.point,
                            row.policy
                        ),
                        "merge the output of one run of each shard",
                    ));
                }
                Some(_) => {}
                None => {
                    runs.insert((row.point, row.policy), (row.line, folder.clone()));
                }
            }
        }
    }

    // Name every missing run.
    let timings: Vec<Option<Value>> = folders
        .iter()
        .map(|f| {
            std::fs::read_to_string(f.join("timing.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
        })
        .collect();
    let shard_count = shard_count(&timings);
    let mut missing = Vec::new();
    for point in &manifest.points {
        let policies: Vec<String> = point
            .policies
            .iter()
            .filter(|p| !runs.contains_key(&(point.index, (*p).clone())))
            .cloned()
            .collect();
        if !policies.is_empty() {
            missing.push(MissingPoint {
                index: point.index,
                id: point.id.clone(),
                seed: point.seed,
                parameters: point
                    .parameters
                    .iter()
                    .map(|(name, value)| format!("{name}={}", value_text(value)))
                    .collect::<Vec<_>>()
                    .join(", "),
                policies,
                shard: shard_count.map(|count| (point.index as u64 % count, count)),
            });
        }
    }
    if !missing.is_empty() {
        return Err(SweepError::MissingPoints {
            missing,
            total: manifest.points.len(),
        });
    }

    let lines: Vec<String> = runs.into_values().map(|(line, _)| line).collect();
    let outputs = render(&manifest_text, &lines)?;
    let timing = serde_json::json!({
        "merged": folders
            .iter()
            .zip(timings)
            .map(|(folder, timing)| serde_json::json!({
                "folder": folder.display().to_string(),
                "timing": timing,
            }))
            .collect::<Vec<_>>(),
    });
    Ok(Merged {
        outputs,
        timing: serde_json::to_string_pretty(&timing).expect("timing serialises") + "\n",
        folders,
    })
}

/// Returns the shard count that every folder's `timing.json` names, when they agree.
fn shard_count(timings: &[Option<Value>]) -> Option<u64> {
    let counts: Vec<Option<u64>> = timings
        .iter()
        .map(|t| t.as_ref()?.pointer("/shard/count")?.as_u64())
        .collect();
    let first = (*counts.first()?)?;
    counts.iter().all(|c| *c == Some(first)).then_some(first)
}

/// Replaces each folder without `points.json` by its `shard-I-of-N` subfolders, ordered by I.
fn expand_folders(folders: &[PathBuf]) -> Result<Vec<PathBuf>, SweepError> {
    let mut expanded = Vec::new();
    for folder in folders {
        if !folder.is_dir() {
            return Err(SweepError::Merge {
                message: format!("{} is not a folder", folder.display()),
                fix: "give the output folders of the sweep's shards".into(),
            });
        }
        if folder.join("points.json").is_file() {
            expanded.push(folder.clone());
            continue;
        }
        let mut shards: Vec<(u64, PathBuf)> = std::fs::read_dir(folder)
            .map_err(|e| SweepError::Merge {
                message: format!("cannot list {}: {e}", folder.display()),
                fix: "check the folder's permissions".into(),
            })?
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let index = name
                    .strip_prefix("shard-")?
                    .split_once("-of-")?
                    .0
                    .parse()
                    .ok()?;
                entry
                    .path()
                    .join("points.json")
                    .is_file()
                    .then(|| (index, entry.path()))
            })
            .collect();
        if shards.is_empty() {
            return Err(SweepError::Merge {
                message: format!(
                    "{} has no points.json and no shard-I-of-N folders",
                    folder.display()
                ),
                fix: "give the folders that autoscale-sim sweep wrote, or the folder that holds their shard-I-of-N folders".into(),
            });
        }
        shards.sort();
        expanded.extend(shards.into_iter().map(|(_, path)| path));
    }
    if expanded.is_empty() {
        return Err(SweepError::Merge {
            message: "no folders to merge".into(),
            fix: "give at least one output folder".into(),
        });
    }
    Ok(expanded)
}

fn read(path: &Path) -> Result<String, SweepError> {
    std::fs::read_to_string(path).map_err(|e| SweepError::Merge {
        message: format!("cannot read {}: {e}", path.display()),
        fix: "give folders that autoscale-sim sweep wrote completely".into(),
    })
}

/// Names what differs between two manifests: the sweep, the version, the scenario, the axes,
/// the seeds, or the points.
fn manifest_difference(first: &str, second: &str) -> String {
    let (Ok(a), Ok(b)) = (
        serde_json::from_str::<Manifest>(first),
        serde_json::from_str::<Manifest>(second),
    ) else {
        return "one points.json is not a sweep manifest".into();
    };
    if a.sweep != b.sweep {
        format!("sweep {:?} against {:?}", a.sweep, b.sweep)
    } else if a.version != b.version {
        format!("autoscale-sim {} against {}", a.version, b.version)
    } else if a.scenario != b.scenario || a.scenario_digest != b.scenario_digest {
        "the base scenarios differ".into()
    } else if a.axes != b.axes {
        "the axes differ".into()
    } else if a.seeds != b.seeds {
        "the seeds differ".into()
    } else {
        "the points differ".into()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::rows::{ManifestAxis, ManifestPoint};

    /// Returns a manifest of one world axis (`peak`, two values) and three seeds, every point
    /// running policies `a` and `b`.
    fn manifest() -> Manifest {
        let mut points = Vec::new();
        for (value_index, peak) in [100, 200].iter().enumerate() {
            for seed in 1..=3u64 {
                let index = points.len();
                points.push(ManifestPoint {
                    index,
                    id: format!("{index:016x}"),
                    config_id: format!("c{value_index}"),
                    seed,
                    parameters: [("peak".to_string(), json!(peak))].into_iter().collect(),
                    policies: vec!["a".into(), "b".into()],
                });
            }
        }
        Manifest {
            sweep: "hand".into(),
            scenario: "default".into(),
            scenario_digest: "0".into(),
            version: "0".into(),
            policies: vec!["a".into(), "b".into()],
            seeds: vec![1, 2, 3],
            axes: vec![ManifestAxis {
                name: "peak".into(),
                field: "loads.web.diurnal.peak".into(),
                policy: None,
                values: vec![json!(100), json!(200)],
            }],
            points,
        }
    }

    fn line(manifest: &Manifest, point: usize, policy: &str, cost: f64) -> String {
        let p = &manifest.points[point];
        json!({
            "point_index": point,
            "point_id": p.id,
            "config_id": p.config_id,
            "seed": p.seed,
            "parameters": p.parameters,
            "policy": policy,
            "total_cost_usd": cost,
        })
        .to_string()
    }

    /// Returns a line of `results.jsonl` like [`line`], with the run's p95 pending time and
    /// count of bound pods.
    fn pending_line(
        manifest: &Manifest,
        point: usize,
        policy: &str,
        p95: f64,
        bound: u64,
    ) -> String {
        let mut fields: Value = serde_json::from_str(&line(manifest, point, policy, 1.0)).unwrap();
        fields["pod_pending_p95_seconds"] = json!(p95);
        fields["pods_bound"] = json!(bound);
        fields.to_string()
    }

    /// Returns the SVG attribute that fills an element with policy `index`'s colour.
    fn policy_fill(index: usize) -> String {
        let plotters::style::RGBColor(red, green, blue) =
            autoscale_sim_report::plots::policy_colour(index);
        format!("fill=\"#{red:02X}{green:02X}{blue:02X}\"")
    }

    /// Returns the `stats.csv` or `paired.csv` row whose cells start with `prefix` and whose
    /// metric is the cost, as cells.
    fn row<'a>(csv: &'a str, prefix: &str) -> Vec<&'a str> {
        csv.lines()
            .find(|l| l.starts_with(prefix) && l.contains(",total_cost_usd,"))
            .unwrap_or_else(|| panic!("no row {prefix} in\n{csv}"))
            .split(',')
            .collect()
    }

    fn close(cell: &str, expected: f64) {
        let value: f64 = cell
            .parse()
            .unwrap_or_else(|_| panic!("{cell:?} is not a number"));
        assert!((value - expected).abs() < 1e-9, "{value} != {expected}");
    }

    #[test]
    fn statistics_by_hand() {
        let manifest = manifest();
        // Configuration peak=100: a costs 1, 2, 3 and b costs 2, 4, 6 on seeds 1, 2, 3.
        let mut lines = Vec::new();
        for (point, (a, b)) in [(1.0, 2.0), (2.0, 4.0), (3.0, 6.0)].into_iter().enumerate() {
            lines.push(line(&manifest, point, "b", b));
            lines.push(line(&manifest, point, "a", a));
        }

        let outputs = render(&manifest.to_text(), &lines).unwrap();

        // a: mean 2, s = 1, half-width t(0.975, 2) / sqrt(3) with t(0.975, 2) = 0.95 sqrt(2 / 0.0975).
        let t2 = 0.95 * (2.0f64 / (1.0 - 0.95 * 0.95)).sqrt();
        let stats = &outputs.files["stats.csv"];
        let a = row(stats, "c0,a,100,");
        assert_eq!(a[4], "3");
        close(a[5], 2.0);
        close(a[6], 1.0);
        close(a[7], 2.0 - t2 / 3f64.sqrt());
        close(a[8], 2.0 + t2 / 3f64.sqrt());
        // b: mean 4, s = 2.
        let b = row(stats, "c0,b,100,");
        close(b[5], 4.0);
        close(b[6], 2.0);

        // b - a on each seed is 1, 2, 3: mean 2, s = 1, the same interval as a. Welch's
        // interval for the same runs: standard error sqrt(1/3 + 4/3), df 50/17.
        let paired = &outputs.files["paired.csv"];
        let pair = row(paired, "c0,a,peak=100,c0,b,peak=100,");
        assert_eq!(pair[7], "3");
        close(pair[8], 2.0);
        close(pair[9], 1.0);
        close(pair[10], 2.0 - t2 / 3f64.sqrt());
        let welch = crate::stats::t_quantile(0.975, 50.0 / 17.0) * (5.0f64 / 3.0).sqrt();
        close(pair[12], 2.0 - welch);
        close(pair[13], 2.0 + welch);
        // Only the configuration with rows forms groups, so there is one pair.
        assert_eq!(paired.lines().count(), 1 + metric_fields().len());
    }

    /// Returns the `stats.csv` or `paired.csv` row whose cells start with `prefix` and whose
    /// metric is `metric`, as cells.
    fn metric_row<'a>(csv: &'a str, prefix: &str, metric: &str) -> Vec<&'a str> {
        let field = format!(",{metric},");
        csv.lines()
            .find(|l| l.starts_with(prefix) && l.contains(&field))
            .unwrap_or_else(|| panic!("no row {prefix} {metric} in\n{csv}"))
            .split(',')
            .collect()
    }

    #[test]
    fn unbound_runs_left_out_of_p95() {
        let manifest = manifest();
        // Configuration peak=100: a binds pods on every seed with a p95 of 30 s, b binds pods
        // on seeds 1 and 2 with 40 s and 60 s and none on seed 3, whose report has a p95 of 0.
        let mut lines = Vec::new();
        for (point, (p95, bound)) in [(40.0, 5), (60.0, 5), (0.0, 0)].into_iter().enumerate() {
            lines.push(pending_line(&manifest, point, "a", 30.0, 5));
            lines.push(pending_line(&manifest, point, "b", p95, bound));
        }

        let outputs = render(&manifest.to_text(), &lines).unwrap();

        let stats = &outputs.files["stats.csv"];
        assert!(stats.lines().next().unwrap().ends_with(",runs_left_out"));
        let b = metric_row(stats, "c0,b,100,", "pod_pending_p95_seconds");
        assert_eq!(b[4], "2");
        close(b[5], 50.0);
        assert_eq!(b[9], "1");
        let a = metric_row(stats, "c0,a,100,", "pod_pending_p95_seconds");
        assert_eq!(a[4], "3");
        close(a[5], 30.0);
        assert_eq!(a[9], "0");
        let cost = metric_row(stats, "c0,b,100,", "total_cost_usd");
        assert_eq!(cost[4], "3");
        assert_eq!(cost[9], "0");

        // b - a on seeds 1 and 2: 10 s and 30 s.
        let paired = &outputs.files["paired.csv"];
        assert!(paired.lines().next().unwrap().ends_with(",seeds_left_out"));
        let pair = metric_row(
            paired,
            "c0,a,peak=100,c0,b,peak=100,",
            "pod_pending_p95_seconds",
        );
        assert_eq!(pair[7], "2");
        close(pair[8], 20.0);
        assert_eq!(pair[14], "1");
        let cost = metric_row(paired, "c0,a,peak=100,c0,b,peak=100,", "total_cost_usd");
        assert_eq!(cost[7], "3");
        assert_eq!(cost[14], "0");
    }

    #[test]
    fn rows_sorted_whatever_the_input_order() {
        let manifest = manifest();
        let lines = vec![
            line(&manifest, 4, "b", 1.0),
            line(&manifest, 0, "b", 1.0),
            line(&manifest, 4, "a", 1.0),
            line(&manifest, 0, "a", 1.0),
        ];

        let outputs = render(&manifest.to_text(), &lines).unwrap();

        let jsonl = &outputs.files["results.jsonl"];
        let order: Vec<(u64, String)> = jsonl
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (
                    v["point_index"].as_u64().unwrap(),
                    v["policy"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                (0, "a".into()),
                (0, "b".into()),
                (4, "a".into()),
                (4, "b".into())
            ]
        );
        let csv = &outputs.files["results.csv"];
        assert!(
            csv.lines()
                .nth(1)
                .unwrap()
                .starts_with("0,0000000000000000,c0,1,100,a,1.0,"),
            "{csv}"
        );
    }

    #[test]
    fn no_rows_still_render() {
        let manifest = manifest();

        let outputs = render(&manifest.to_text(), &[]).unwrap();

        assert_eq!(outputs.rows, 0);
        assert_eq!(outputs.files["results.jsonl"], "");
        assert_eq!(outputs.files["results.csv"].lines().count(), 1);
        assert!(outputs.files.contains_key("cost-vs-p95-pending.svg"));
        assert!(outputs.files.contains_key("peak-vs-total_cost_usd.svg"));
    }

    #[test]
    fn cost_plot_skips_unbound_configuration() {
        let manifest = manifest();
        // Points 0 to 2 are configuration peak=100, points 3 to 5 peak=200. Policy a binds pods
        // everywhere, b only in peak=100.
        let mut lines = Vec::new();
        for point in 0..6 {
            lines.push(pending_line(&manifest, point, "a", 30.0, 10));
            let (p95, bound) = if point < 3 { (40.0, 10) } else { (0.0, 0) };
            lines.push(pending_line(&manifest, point, "b", p95, bound));
        }

        let outputs = render(&manifest.to_text(), &lines).unwrap();

        let svg = &outputs.files["cost-vs-p95-pending.svg"];
        let circles = |index: usize| {
            let fill = policy_fill(index);
            svg.lines()
                .filter(|l| l.starts_with("<circle ") && l.contains(&fill))
                .count()
        };
        // One legend mark and one point per drawn configuration.
        assert_eq!(circles(0), 3, "{svg}");
        assert_eq!(circles(1), 2, "{svg}");
        assert!(
            svg.contains("b: 1 configuration with no pod bound, not drawn"),
            "{svg}"
        );
        assert!(!svg.contains("a: "), "{svg}");
    }

    #[test]
    fn lines_not_of_manifest_rejected() {
        let manifest = manifest();
        let mut wrong_id = line(&manifest, 1, "a", 1.0);
        wrong_id = wrong_id.replace("0000000000000001", "ffffffffffffffff");

        for (bad, expected) in [
            (line(&manifest, 1, "c", 1.0), "does not run policy c"),
            (wrong_id, "has id 0000000000000001 in points.json"),
            (
                "{\"point_index\": 99, \"policy\": \"a\"}".to_string(),
                "beyond the sweep's 6 points",
            ),
            ("not json".to_string(), "not a JSON object"),
        ] {
            let error = render(&manifest.to_text(), &[bad]).unwrap_err().to_string();

            assert!(error.contains(expected), "{error}");
        }
    }
}
