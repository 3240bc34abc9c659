//! The sweep's manifest (`points.json`) and its result rows (`results.jsonl`), and how both
//! are read back for rendering and merging.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use autoscale_sim_sim::RunReport;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::spec::{Point, Sweep};

/// Columns of a result row before the parameters, and the JSON key of the parameters; axis
/// names must differ from them.
pub const META_COLUMNS: [&str; 6] = [
    "point_index",
    "point_id",
    "config_id",
    "seed",
    "parameters",
    "policy",
];

/// Returns the field names of [`RunReport`] in declaration order, as its JSON has them.
pub fn report_fields() -> &'static [String] {
    static FIELDS: OnceLock<Vec<String>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let text = serde_json::to_string(&RunReport::default()).expect("reports serialise");
        serde_json::from_str::<OrderedKeys>(&text)
            .expect("a report is a JSON object")
            .0
    })
}

/// Returns the report fields whose values are numbers: the metrics that statistics cover.
pub fn metric_fields() -> &'static [String] {
    static METRICS: OnceLock<Vec<String>> = OnceLock::new();
    METRICS.get_or_init(|| {
        let report = serde_json::to_value(RunReport::default()).expect("reports serialise");
        report_fields()
            .iter()
            .filter(|f| report.get(f.as_str()).is_some_and(Value::is_number))
            .cloned()
            .collect()
    })
}

/// The keys of a JSON object, in the order the text has them.
struct OrderedKeys(Vec<String>);

impl<'de> Deserialize<'de> for OrderedKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(OrderedKeys(keys))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// `points.json`: the sweep's axes, seeds and every point. Every process of a sharded sweep
/// writes the same one, so that `merge` can check that its folders come from one sweep and
/// name the points that are missing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Sweep name.
    pub sweep: String,
    /// Base scenario as the sweep file names it.
    pub scenario: String,
    /// Hash of the base scenario's text.
    pub scenario_digest: String,
    /// Version of autoscale-sim that ran the sweep: results of two versions may differ.
    pub version: String,
    /// Policies of the base scenario, in its order; a policy's colour in the plots is that of
    /// its position here.
    pub policies: Vec<String>,
    /// Seeds of every configuration.
    pub seeds: Vec<u64>,
    /// Axes in file order.
    pub axes: Vec<ManifestAxis>,
    /// Every point, in index order.
    pub points: Vec<ManifestPoint>,
}

/// One axis in `points.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestAxis {
    /// Column name.
    pub name: String,
    /// Field path, with the policy chosen by name.
    pub field: String,
    /// Policy the field belongs to; `null` for a field of the world.
    pub policy: Option<String>,
    /// Values in order.
    pub values: Vec<Value>,
}

/// One point in `points.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestPoint {
    /// Position in the sweep.
    pub index: usize,
    /// Id of the parameters and seed.
    pub id: String,
    /// Id of the parameters alone.
    pub config_id: String,
    /// Seed.
    pub seed: u64,
    /// Value of each axis that applies, by axis name.
    pub parameters: Map<String, Value>,
    /// Policies the point runs, in scenario order.
    pub policies: Vec<String>,
}

impl Manifest {
    /// Describes `sweep`.
    pub fn of(sweep: &Sweep) -> Manifest {
        Manifest {
            sweep: sweep.name.clone(),
            scenario: sweep.scenario.clone(),
            scenario_digest: sweep.scenario_digest.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            policies: sweep.policies.clone(),
            seeds: sweep.seeds.clone(),
            axes: sweep
                .axes
                .iter()
                .map(|a| ManifestAxis {
                    name: a.name.clone(),
                    field: a.path.to_string(),
                    policy: a.policy.clone(),
                    values: a.values.clone(),
                })
                .collect(),
            points: sweep
                .points
                .iter()
                .map(|p| ManifestPoint {
                    index: p.index,
                    id: p.id.clone(),
                    config_id: p.config_id.clone(),
                    seed: p.seed,
                    parameters: parameters_object(sweep, p),
                    policies: p.policies.clone(),
                })
                .collect(),
        }
    }

    /// Serialises the manifest as `points.json` text.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("manifests serialise");
        text.push('\n');
        text
    }

    /// Returns a point's parameters as `(axis, value)` positions in axis order, or `None` when
    /// one names an axis or value the manifest does not list.
    pub(crate) fn positions(&self, point: &ManifestPoint) -> Option<Vec<(usize, usize)>> {
        let mut positions = Vec::new();
        for (axis_index, axis) in self.axes.iter().enumerate() {
            if let Some(value) = point.parameters.get(&axis.name) {
                let value_index = axis.values.iter().position(|v| v == value)?;
                positions.push((axis_index, value_index));
            }
        }
        (positions.len() == point.parameters.len()).then_some(positions)
    }
}

/// Returns a point's parameters as a JSON object, axis name to value.
fn parameters_object(sweep: &Sweep, point: &Point) -> Map<String, Value> {
    point
        .parameters
        .iter()
        .map(|&(axis, value)| {
            (
                sweep.axes[axis].name.clone(),
                sweep.axes[axis].values[value].clone(),
            )
        })
        .collect()
}

/// Writes one line of `results.jsonl`: the point's index, ids, seed and parameters (in axis
/// order), then every field of the report.
pub fn row_line(sweep: &Sweep, point: &Point, report: &RunReport) -> String {
    let text = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let mut line = format!(
        "{{\"point_index\":{},\"point_id\":{},\"config_id\":{},\"seed\":{},\"parameters\":{{",
        point.index,
        text(&point.id),
        text(&point.config_id),
        point.seed
    );
    for (position, &(axis, value)) in point.parameters.iter().enumerate() {
        if position > 0 {
            line.push(',');
        }
        line.push_str(&text(&sweep.axes[axis].name));
        line.push(':');
        line.push_str(&sweep.axes[axis].values[value].to_string());
    }
    line.push_str("},");
    let report = serde_json::to_string(report).expect("reports serialise");
    line.push_str(&report[1..]);
    line
}

/// One parsed line of `results.jsonl`.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    /// The line as written.
    pub line: String,
    /// Index of its point.
    pub point: usize,
    /// Policy name.
    pub policy: String,
    /// Every field.
    pub fields: Map<String, Value>,
}

impl Row {
    /// Parses a line and checks it against the manifest; returns the problem otherwise.
    pub fn parse(line: &str, manifest: &Manifest) -> Result<Row, String> {
        let fields: Map<String, Value> = serde_json::from_str(line)
            .map_err(|e| format!("the line is not a JSON object: {e}"))?;
        let point = fields
            .get("point_index")
            .and_then(Value::as_u64)
            .ok_or("the line has no point_index")? as usize;
        let policy = fields
            .get("policy")
            .and_then(Value::as_str)
            .ok_or("the line has no policy")?
            .to_string();
        let Some(expected) = manifest.points.get(point) else {
            return Err(format!(
                "point_index {point} is beyond the sweep's {} points",
                manifest.points.len()
            ));
        };
        if fields.get("point_id").and_then(Value::as_str) != Some(expected.id.as_str()) {
            return Err(format!(
                "point {point} has id {} in points.json but another in this line",
                expected.id
            ));
        }
        if !expected.policies.contains(&policy) {
            return Err(format!("point {point} does not run policy {policy}"));
        }
        Ok(Row {
            line: line.to_string(),
            point,
            policy,
            fields,
        })
    }

    /// Returns the value of a numeric field, or `None` when it is missing or not a number (a
    /// NaN is written as `null`).
    pub fn number(&self, field: &str) -> Option<f64> {
        self.fields.get(field).and_then(Value::as_f64)
    }
}

/// Sorts rows by point index, then by the policy's position in the point's list.
pub(crate) fn sort_rows(rows: &mut [Row], manifest: &Manifest) {
    let position = |row: &Row| {
        manifest.points[row.point]
            .policies
            .iter()
            .position(|p| *p == row.policy)
            .unwrap_or(usize::MAX)
    };
    rows.sort_by_key(|row| (row.point, position(row)));
}

/// Writes `results.csv`: a header, then one row per point and policy with the point's index,
/// ids, seed, one column per axis (empty where the axis does not apply), the policy and every
/// other report field. Map and list fields are compact JSON.
pub(crate) fn results_csv(manifest: &Manifest, rows: &[Row]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = vec!["point_index", "point_id", "config_id", "seed"];
    header.extend(manifest.axes.iter().map(|a| a.name.as_str()));
    header.push("policy");
    let report_columns: Vec<&str> = report_fields()
        .iter()
        .map(String::as_str)
        .filter(|f| *f != "policy")
        .collect();
    header.extend(&report_columns);
    writer
        .write_record(&header)
        .expect("in-memory writes succeed");

    for row in rows {
        let cell = |field: &str| row.fields.get(field).map(cell_text).unwrap_or_default();
        let parameters = row.fields.get("parameters").and_then(Value::as_object);
        let mut record: Vec<String> = ["point_index", "point_id", "config_id", "seed"]
            .iter()
            .map(|f| cell(f))
            .collect();
        for axis in &manifest.axes {
            record.push(
                parameters
                    .and_then(|p| p.get(&axis.name))
                    .map(cell_text)
                    .unwrap_or_default(),
            );
        }
        record.push(row.policy.clone());
        record.extend(report_columns.iter().map(|f| cell(f)));
        writer
            .write_record(&record)
            .expect("in-memory writes succeed");
    }
    String::from_utf8(writer.into_inner().expect("in-memory writer flushes")).expect("CSV is UTF-8")
}

/// Formats a JSON value for a CSV cell: text unquoted, `null` empty, the rest as JSON.
fn cell_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Report fields that are percentiles over the bound pods' pending times. A run that bound no
/// pod has no value for them, although its report has 0.
const PENDING_PERCENTILES: [&str; 3] = [
    "pod_pending_p50_seconds",
    "pod_pending_p95_seconds",
    "pod_pending_p99_seconds",
];

/// Checks whether `row`'s value of `metric` stays out of the statistics: a pending-time
/// percentile of a run that bound no pod. A row without `pods_bound` counts as one that bound
/// pods.
pub(crate) fn left_out(row: &Row, metric: &str) -> bool {
    PENDING_PERCENTILES.contains(&metric) && row.number("pods_bound") == Some(0.0)
}

/// A metric's values over a group's runs, and the number of runs left out by [`left_out`].
pub(crate) struct MetricValues {
    pub values: Vec<f64>,
    pub left_out: usize,
}

/// Returns a metric's values over a group's runs, skipping runs where it is missing and the
/// runs that [`left_out`] names.
pub(crate) fn metric_values(rows: &[Row], group: &Group, metric: &str) -> MetricValues {
    let runs = group.runs.iter().map(|&(_, row)| &rows[row]);
    let (skipped, kept): (Vec<&Row>, Vec<&Row>) = runs.partition(|row| left_out(row, metric));
    MetricValues {
        values: kept.iter().filter_map(|row| row.number(metric)).collect(),
        left_out: skipped.len(),
    }
}

/// The rows of one configuration under one policy, across seeds.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// Id of the parameters.
    pub config_id: String,
    /// Policy name.
    pub policy: String,
    /// `(axis, value)` positions of the parameters.
    pub parameters: Vec<(usize, usize)>,
    /// `(seed, row position)` pairs in point order.
    pub runs: Vec<(u64, usize)>,
}

/// Groups sorted rows by configuration and policy, in order of first appearance.
pub(crate) fn groups(manifest: &Manifest, rows: &[Row]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (position, row) in rows.iter().enumerate() {
        let point = &manifest.points[row.point];
        let key = (point.config_id.clone(), row.policy.clone());
        let group = *by_key.entry(key).or_insert_with(|| {
            groups.push(Group {
                config_id: point.config_id.clone(),
                policy: row.policy.clone(),
                parameters: manifest.positions(point).unwrap_or_default(),
                runs: Vec::new(),
            });
            groups.len() - 1
        });
        groups[group].runs.push((point.seed, position));
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_fields_in_declaration_order() {
        let fields = report_fields();

        assert_eq!(fields[0], "policy");
        assert_eq!(fields[1], "total_cost_usd");
        assert!(fields.iter().any(|f| f == "pods_evicted"));
        assert!(fields.iter().any(|f| f == "snapshots"));
    }

    #[test]
    fn metrics_are_numeric_fields() {
        let metrics = metric_fields();

        assert!(metrics.iter().any(|f| f == "total_cost_usd"));
        assert!(metrics.iter().any(|f| f == "pod_pending_p95_seconds"));
        assert!(metrics.iter().any(|f| f == "peak_nodes"));
        assert!(!metrics.iter().any(|f| f == "policy"));
        assert!(!metrics.iter().any(|f| f == "cost_by_instance_type"));
        assert!(!metrics.iter().any(|f| f == "snapshots"));
    }

    #[test]
    fn cells_of_json_values() {
        assert_eq!(cell_text(&Value::from("5m")), "5m");
        assert_eq!(cell_text(&Value::from(0.5)), "0.5");
        assert_eq!(cell_text(&Value::Null), "");
        assert_eq!(cell_text(&serde_json::json!({"a": 1})), "{\"a\":1}");
    }
}
