//! The sweep file: its YAML shape, its checks, and the points it makes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use autoscale_sim_engine::{SimDuration, parse_duration};
use autoscale_sim_scenario::{
    DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO_YAML, MAX_SCENARIO_BYTES, Overrides, Scenario,
    ScenarioError, load_str, parse_yaml, top_level_keys,
};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::SweepError;
use crate::path::{FieldPath, Segment};
use crate::rows::{META_COLUMNS, report_fields};

/// Most values one axis may have.
pub const MAX_AXIS_VALUES: usize = 10_000;

/// Most seeds a sweep may repeat each configuration with.
pub const MAX_SEEDS: u64 = 100_000;

/// Most points a sweep may have. Every process of a sharded sweep lists all points, and
/// `points.json` names each, so the list has to stay a few hundred megabytes at most.
pub const MAX_POINTS: u64 = 1_000_000;

/// The `scenario:` value that selects the built-in diurnal-web scenario.
pub const DEFAULT_SCENARIO: &str = "default";

/// The sweep file as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SweepYaml {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    description: Option<String>,
    scenario: Spanned<String>,
    #[serde(default)]
    seeds: Option<Spanned<Value>>,
    #[serde(default)]
    axes: Option<Spanned<Vec<AxisYaml>>>,
    #[serde(default)]
    exclude: Vec<Spanned<BTreeMap<String, Spanned<Value>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AxisYaml {
    #[serde(default)]
    name: Option<Spanned<String>>,
    field: Spanned<String>,
    #[serde(default)]
    values: Option<Spanned<Vec<Spanned<Value>>>>,
    #[serde(default)]
    range: Option<Spanned<RangeYaml>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RangeYaml {
    from: Spanned<Value>,
    to: Spanned<Value>,
    step: Spanned<Value>,
}

/// One swept field and its values.
#[derive(Clone, Debug)]
pub struct Axis {
    /// Column name in the results, unique in the sweep.
    pub name: String,
    /// The field, with a policy chosen by its name (`policies[karpenter]...`) whatever the file
    /// wrote.
    pub path: FieldPath,
    /// The policy the field belongs to, for a field under `policies`. `None` for a field of the
    /// world (workloads, loads, cloud), which applies to every policy.
    pub policy: Option<String>,
    /// Values in file order; a range is expanded.
    pub values: Vec<Value>,
    /// Position of `field:` in the sweep file.
    field_location: Option<(u64, u64)>,
    /// Position of each value, or of the range, in the sweep file.
    value_locations: Vec<Option<(u64, u64)>>,
    /// Whether the values come from a `range`.
    from_range: bool,
}

/// One run configuration: values for the axes that apply, and a seed. A point runs every
/// policy its parameters apply to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    /// Position in the sweep's list of points, from 0; shard `I/N` runs the points whose index
    /// is `I` modulo `N`.
    pub index: usize,
    /// 16 hex digits of a 64-bit hash of the parameters (field and value, sorted by field) and
    /// the seed, independent of the order of axes and of the point's position: the same
    /// parameters and seed always get the same id.
    pub id: String,
    /// The same hash without the seed: every seed of one configuration shares it.
    pub config_id: String,
    /// Seed of every random stream.
    pub seed: u64,
    /// `(axis, value)` positions, in axis order, for the axes that apply to the point.
    pub parameters: Vec<(usize, usize)>,
    /// Policies to run, in scenario order.
    pub policies: Vec<String>,
}

/// A checked sweep: the base scenario, the axes, the seeds, and the points they make.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The sweep file's `name`, or its file name without the extension.
    pub name: String,
    /// The sweep file's `description`.
    pub description: Option<String>,
    /// The sweep file.
    pub file: PathBuf,
    /// The base scenario as the sweep file names it: a path relative to the sweep file, or
    /// `default` for the built-in diurnal-web scenario.
    pub scenario: String,
    /// The base scenario's policies, in file order.
    pub policies: Vec<String>,
    /// The axes, in file order.
    pub axes: Vec<Axis>,
    /// Seeds every configuration runs with.
    pub seeds: Vec<u64>,
    /// Every point, in index order.
    pub points: Vec<Point>,
    /// Warnings of the base scenario and of the points' scenarios, each once.
    pub warnings: Vec<String>,
    /// Hash of the base scenario's text, so that a merge can tell two scenarios apart.
    pub scenario_digest: String,
    /// Path that names the base scenario in messages and anchors its relative paths.
    scenario_path: PathBuf,
    /// The base scenario as a YAML tree.
    scenario_tree: Value,
}

/// Shorthand for a located error about the sweep file.
fn invalid(
    file: &Path,
    location: Option<(u64, u64)>,
    field: &str,
    value: Option<String>,
    message: impl Into<String>,
    fix: impl Into<String>,
) -> SweepError {
    SweepError::Invalid(Box::new(ScenarioError::at(
        file, location, field, value, message, fix,
    )))
}

fn location<T>(spanned: &Spanned<T>) -> Option<(u64, u64)> {
    let l = spanned.referenced;
    (l.line() > 0).then(|| (l.line(), l.column()))
}

/// Formats a parameter value for tables and CSV cells: text as it is, numbers and booleans as
/// written, lists and mappings as compact JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        other => other.to_string(),
    }
}

/// Returns the 64-bit FNV-1a hash of `bytes`.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

/// Hashes `bytes` to 16 hex digits: FNV-1a, then the 64-bit finalizer of MurmurHash3
/// (`fmix64`), so that inputs differing in their last byte, such as two seeds, get ids that
/// differ in every digit rather than in two.
pub(crate) fn id_hex(bytes: &[u8]) -> String {
    let mut hash = fnv1a(bytes);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    format!("{hash:016x}")
}

impl Sweep {
    /// Reads and checks the sweep file at `path`, and every point it makes: each axis value is
    /// applied to the base scenario and built, and so is every combination, so that a mistake
    /// stops the sweep before anything runs. The builds run on the current rayon thread pool.
    pub fn load(path: &Path) -> Result<Sweep, SweepError> {
        Sweep::load_with_seeds(path, None)
    }

    /// Reads and checks the sweep file at `path` as [`Sweep::load`] does, with `seeds`, when
    /// given, in place of the file's `seeds:`.
    pub fn load_with_seeds(path: &Path, seeds: Option<Vec<u64>>) -> Result<Sweep, SweepError> {
        let text = read_text(path, "sweep").map_err(|(message, fix)| {
            SweepError::Invalid(Box::new(ScenarioError::file(path, message, fix)))
        })?;
        Sweep::from_text_with_seeds(&text, path, seeds)
    }

    /// Checks sweep file `text`, as [`Sweep::load`] does; `path` names it in messages and
    /// anchors the scenario path.
    pub fn from_text(text: &str, path: &Path) -> Result<Sweep, SweepError> {
        Sweep::from_text_with_seeds(text, path, None)
    }

    /// Checks sweep file `text` as [`Sweep::from_text`] does, with `seeds`, when given, in
    /// place of the file's `seeds:`.
    pub fn from_text_with_seeds(
        text: &str,
        path: &Path,
        seeds_override: Option<Vec<u64>>,
    ) -> Result<Sweep, SweepError> {
        if text.trim().is_empty() {
            return Err(SweepError::Invalid(Box::new(ScenarioError::file(
                path,
                "the sweep file is empty",
                "write a sweep; see scenarios/sweep-consolidation.yaml for an example",
            ))));
        }
        let file: SweepYaml = parse_yaml(text, path).map_err(|error| {
            let scenario_keys = ["workloads", "policies", "loads"];
            let is_scenario = top_level_keys(text).is_some_and(|keys| {
                !keys.iter().any(|k| k == "scenario")
                    && keys.iter().any(|k| scenario_keys.contains(&k.as_str()))
            });
            if is_scenario {
                return SweepError::Invalid(Box::new(ScenarioError::file(
                    path,
                    "this is a scenario file (it has workloads or policies and no `scenario:`), not a sweep file",
                    format!(
                        "run it with `autoscale-sim compare {}`; a sweep file names its base scenario with `scenario:`",
                        path.display()
                    ),
                )));
            }
            SweepError::Invalid(Box::new(error))
        })?;
        let name = match &file.name {
            Some(name) if name.value.trim().is_empty() => {
                return Err(invalid(
                    path,
                    location(name),
                    "name",
                    Some(name.value.clone()),
                    "the name is empty",
                    "write a name, or leave the field out to use the file name",
                ));
            }
            Some(name) => name.value.clone(),
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "sweep".into()),
        };

        // The base scenario: read, checked as it is, and parsed as a tree to edit.
        let base = BaseScenario::load(&file.scenario, path)?;
        let mut sweep = Sweep {
            name,
            description: file.description.clone(),
            file: path.to_path_buf(),
            scenario: file.scenario.value.clone(),
            policies: base.policies.clone(),
            axes: Vec::new(),
            seeds: Vec::new(),
            points: Vec::new(),
            warnings: base.scenario.warnings.clone(),
            scenario_digest: id_hex(base.text.as_bytes()),
            scenario_path: base.path.clone(),
            scenario_tree: base.tree.clone(),
        };

        // Axes, seeds and the filter, each checked on its own.
        let axes_yaml = file
            .axes
            .as_ref()
            .map(|a| a.value.as_slice())
            .unwrap_or(&[]);
        for (index, axis) in axes_yaml.iter().enumerate() {
            let axis = sweep.axis(index, axis)?;
            sweep.axes.push(axis);
        }
        sweep.check_axis_overlaps(axes_yaml)?;
        sweep.seeds = match seeds_override {
            Some(seeds) => seeds,
            None => seeds(file.seeds.as_ref(), base.scenario.config.seed, path)?,
        };
        let excludes = sweep.excludes(&file.exclude)?;

        // The points, then a build of every value and every configuration.
        sweep.points = sweep.enumerate(&excludes, file.axes.as_ref().and_then(location))?;
        if sweep.points.is_empty() {
            return Err(invalid(
                &sweep.file,
                file.exclude.first().and_then(location),
                "exclude",
                None,
                "the entries leave out every point, so the sweep would run nothing",
                "remove an entry, or add values to the axes it names",
            ));
        }
        sweep.check_configurations(file.axes.as_ref().and_then(location))?;
        Ok(sweep)
    }

    /// Checks one axis of the file and resolves its policy.
    fn axis(&self, index: usize, yaml: &AxisYaml) -> Result<Axis, SweepError> {
        let file = &self.file;
        let field_name = format!("axes[{index}].field");
        let field_location = location(&yaml.field);
        let path = FieldPath::parse(&yaml.field.value).map_err(|message| {
            invalid(
                file,
                field_location,
                &field_name,
                Some(yaml.field.value.clone()),
                message,
                "write a dotted path such as policies[karpenter].karpenter.nodePools[default].spec.disruption.consolidateAfter",
            )
        })?;
        let path_error = |message: String, fix: String| {
            invalid(
                file,
                field_location,
                &field_name,
                Some(yaml.field.value.clone()),
                message,
                fix,
            )
        };

        // Fields a sweep must not set this way.
        let segments = path.segments();
        if segments == [Segment::Key("seed".into())] {
            return Err(path_error(
                "the seed is not swept as a field".into(),
                "list seeds with `seeds:` in the sweep file, such as seeds: 10".into(),
            ));
        }
        let is_policies = segments.first() == Some(&Segment::Key("policies".into()));
        if is_policies && segments.len() <= 2 {
            return Err(path_error(
                "a sweep cannot replace the list of policies or a whole policy".into(),
                "sweep a field inside a policy, such as policies[karpenter].karpenter.nodePools[default].spec.disruption.consolidateAfter".into(),
            ));
        }
        if is_policies && segments.len() == 3 && segments[2] == Segment::Key("name".into()) {
            return Err(path_error(
                "a sweep cannot rename a policy, because results are matched by policy name".into(),
                "sweep a field inside the policy".into(),
            ));
        }

        // The path must lead somewhere in the base scenario. The probe value is one that a flag
        // also takes; whether the scenario accepts the real values is checked later.
        let mut probe = self.scenario_tree.clone();
        path.set(&mut probe, Value::Bool(true))
            .map_err(|e| path_error(e.message, e.fix))?;

        // The canonical path chooses a policy by its name, so a field under `policies`
        // names the policy it belongs to.
        let path = path.canonical(&self.scenario_tree);
        let policy = match path.segments() {
            [Segment::Key(first), Segment::Select(name), ..] if first == "policies" => {
                Some(name.clone())
            }
            _ => None,
        };

        // Values: a list or a range, not both.
        let (values, value_locations, from_range) = match (&yaml.values, &yaml.range) {
            (Some(_), Some(range)) => {
                return Err(invalid(
                    file,
                    location(range),
                    &format!("axes[{index}].range"),
                    None,
                    "the axis has both values and range",
                    "keep one of them",
                ));
            }
            (None, None) => {
                return Err(invalid(
                    file,
                    field_location,
                    &format!("axes[{index}]"),
                    None,
                    "the axis has no values",
                    "add values: [...] or range: {from: ..., to: ..., step: ...}",
                ));
            }
            (Some(values), None) => {
                if values.value.is_empty() {
                    return Err(invalid(
                        file,
                        location(values),
                        &format!("axes[{index}].values"),
                        None,
                        "the list of values is empty",
                        "list at least one value, such as values: [1m, 5m]",
                    ));
                }
                for (position, value) in values.value.iter().enumerate() {
                    if value.value.is_null() {
                        return Err(invalid(
                            file,
                            location(value),
                            &format!("axes[{index}].values[{position}]"),
                            None,
                            "the value is empty",
                            "write a value, or remove the empty entry",
                        ));
                    }
                }
                (
                    values.value.iter().map(|v| v.value.clone()).collect(),
                    values.value.iter().map(location).collect(),
                    false,
                )
            }
            (None, Some(range)) => {
                let values = expand_range(&range.value, index, file)?;
                let at = location(range);
                (values.clone(), vec![at; values.len()], true)
            }
        };
        if values.len() > MAX_AXIS_VALUES {
            return Err(invalid(
                file,
                value_locations[0],
                &format!("axes[{index}].values"),
                None,
                format!(
                    "the axis has {} values; at most {MAX_AXIS_VALUES} are accepted",
                    values.len()
                ),
                "split the sweep into several files",
            ));
        }
        for (position, value) in values.iter().enumerate() {
            if let Some(first) = values[..position].iter().position(|v| v == value) {
                return Err(invalid(
                    file,
                    value_locations[position],
                    &format!("axes[{index}].values[{position}]"),
                    Some(value_text(value)),
                    format!("the value repeats values[{first}]"),
                    "list each value once",
                ));
            }
        }

        // The column name: given, or the last step of the path.
        let (name, name_location) = match &yaml.name {
            Some(name) => (name.value.trim().to_string(), location(name)),
            None => (path.default_name(), field_location),
        };
        let name_field = format!("axes[{index}].name");
        if name.is_empty() {
            return Err(invalid(
                file,
                name_location,
                &name_field,
                None,
                "the axis name is empty",
                "write a short column name, or leave name out to use the field's own",
            ));
        }
        let reserved =
            META_COLUMNS.contains(&name.as_str()) || report_fields().iter().any(|f| f == &name);
        if reserved {
            return Err(invalid(
                file,
                name_location,
                &name_field,
                Some(name.clone()),
                "the name is already a column of the results",
                "give the axis another name with name:",
            ));
        }
        if let Some(other) = self.axes.iter().position(|a| a.name == name) {
            return Err(invalid(
                file,
                name_location,
                &name_field,
                Some(name),
                format!("axes[{other}] has the same name"),
                "give one of them another name with name:",
            ));
        }

        Ok(Axis {
            name,
            path,
            policy,
            values,
            field_location,
            value_locations,
            from_range,
        })
    }

    /// Rejects two axes of which one sets the field of the other or a field inside it.
    fn check_axis_overlaps(&self, yaml: &[AxisYaml]) -> Result<(), SweepError> {
        for (second, axis) in self.axes.iter().enumerate() {
            for (first, earlier) in self.axes[..second].iter().enumerate() {
                if earlier.path.contains(&axis.path) || axis.path.contains(&earlier.path) {
                    return Err(invalid(
                        &self.file,
                        axis.field_location,
                        &format!("axes[{second}].field"),
                        Some(yaml[second].field.value.clone()),
                        format!(
                            "axes[{first}] sets {} and this axis sets {}; one contains the other",
                            earlier.path, axis.path
                        ),
                        "sweep each field in one axis only",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks the `exclude` entries and returns them as `(axis, value)` positions.
    fn excludes(
        &self,
        entries: &[Spanned<BTreeMap<String, Spanned<Value>>>],
    ) -> Result<Vec<Vec<(usize, usize)>>, SweepError> {
        let names: Vec<&str> = self.axes.iter().map(|a| a.name.as_str()).collect();
        let mut excludes = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let field = format!("exclude[{index}]");
            if entry.value.is_empty() {
                return Err(invalid(
                    &self.file,
                    location(entry),
                    &field,
                    None,
                    "an empty entry would leave out every point",
                    "name axes and values, such as {consolidateAfter: 0s}",
                ));
            }
            let mut matched = Vec::new();
            for (name, value) in &entry.value {
                let Some(axis) = names.iter().position(|n| n == name) else {
                    return Err(invalid(
                        &self.file,
                        location(value),
                        &format!("{field}.{name}"),
                        Some(value_text(&value.value)),
                        format!("no axis is named {name}"),
                        format!("use one of the axis names: {}", names.join(", ")),
                    ));
                };
                let Some(position) = self.axes[axis]
                    .values
                    .iter()
                    .position(|v| *v == value.value)
                else {
                    return Err(invalid(
                        &self.file,
                        location(value),
                        &format!("{field}.{name}"),
                        Some(value_text(&value.value)),
                        format!("axis {name} has no such value, so the entry never matches"),
                        format!(
                            "use one of its values: {}",
                            self.axes[axis]
                                .values
                                .iter()
                                .map(value_text)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                };
                matched.push((axis, position));
            }
            let policies: BTreeSet<&str> = matched
                .iter()
                .filter_map(|(axis, _)| self.axes[*axis].policy.as_deref())
                .collect();
            if policies.len() > 1 {
                return Err(invalid(
                    &self.file,
                    location(entry),
                    &field,
                    None,
                    format!(
                        "the entry names axes of the policies {}, but a point carries the axes of one policy only, so it never matches",
                        policies.into_iter().collect::<Vec<_>>().join(" and ")
                    ),
                    "write one entry per policy",
                ));
            }
            matched.sort_unstable();
            excludes.push(matched);
        }
        Ok(excludes)
    }

    /// Lists the points: for each policy in scenario order, every combination of the values of
    /// the axes that apply to it (the first axis changing slowest), each with every seed.
    /// Policies whose axes and values coincide share a point.
    fn enumerate(
        &self,
        excludes: &[Vec<(usize, usize)>],
        axes_location: Option<(u64, u64)>,
    ) -> Result<Vec<Point>, SweepError> {
        // Count first, so that a sweep far too large fails before it fills memory.
        let mut total: u64 = 0;
        for policy in &self.policies {
            let combinations = self.axes_of(policy).iter().try_fold(1u64, |n, &a| {
                n.checked_mul(self.axes[a].values.len() as u64)
            });
            total = combinations
                .and_then(|c| c.checked_mul(self.seeds.len() as u64))
                .and_then(|c| c.checked_add(total))
                .unwrap_or(u64::MAX);
        }
        if total > MAX_POINTS {
            return Err(invalid(
                &self.file,
                axes_location,
                "axes",
                None,
                format!("the sweep would have {total} points; at most {MAX_POINTS} are accepted"),
                "use fewer values or seeds, or split the sweep into several files",
            ));
        }

        let mut points: Vec<Point> = Vec::new();
        let mut by_key: BTreeMap<(Vec<(usize, usize)>, u64), usize> = BTreeMap::new();
        for policy in &self.policies {
            let axes = self.axes_of(policy);
            let mut choice = vec![0usize; axes.len()];
            loop {
                let parameters: Vec<(usize, usize)> =
                    axes.iter().copied().zip(choice.iter().copied()).collect();
                let excluded = excludes
                    .iter()
                    .any(|entry| entry.iter().all(|pair| parameters.contains(pair)));
                if !excluded {
                    let config_id = self.digest(&parameters, None);
                    for &seed in &self.seeds {
                        let key = (parameters.clone(), seed);
                        if let Some(&existing) = by_key.get(&key) {
                            points[existing].policies.push(policy.clone());
                            continue;
                        }
                        by_key.insert(key, points.len());
                        points.push(Point {
                            index: points.len(),
                            id: self.digest(&parameters, Some(seed)),
                            config_id: config_id.clone(),
                            seed,
                            parameters: parameters.clone(),
                            policies: vec![policy.clone()],
                        });
                    }
                }
                // Advance the odometer: the last axis turns fastest; after the last combination
                // every position wraps to 0 and the loop ends.
                let mut wrapped = true;
                for position in (0..axes.len()).rev() {
                    choice[position] += 1;
                    if choice[position] < self.axes[axes[position]].values.len() {
                        wrapped = false;
                        break;
                    }
                    choice[position] = 0;
                }
                if wrapped {
                    break;
                }
            }
        }

        // Hash collisions would merge results of two points; the sweep stops instead.
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for point in &points {
            if let Some(other) = seen.insert(&point.id, point.index) {
                return Err(invalid(
                    &self.file,
                    axes_location,
                    "axes",
                    None,
                    format!(
                        "points {other} and {} have the same id {}",
                        point.index, point.id
                    ),
                    "change one value slightly (the ids are 64-bit hashes, so this is very rare)",
                ));
            }
        }
        Ok(points)
    }

    /// Returns the positions of the axes that apply to `policy`: the world's and its own.
    pub fn axes_of(&self, policy: &str) -> Vec<usize> {
        self.axes
            .iter()
            .enumerate()
            .filter(|(_, a)| a.policy.as_deref().is_none_or(|p| p == policy))
            .map(|(i, _)| i)
            .collect()
    }

    /// Hashes the parameters, sorted by field, and the seed when given.
    fn digest(&self, parameters: &[(usize, usize)], seed: Option<u64>) -> String {
        let mut lines: Vec<String> = parameters
            .iter()
            .map(|&(axis, value)| {
                format!("{}={}", self.axes[axis].path, self.axes[axis].values[value])
            })
            .collect();
        lines.sort();
        let mut text = String::from("autoscale-sim sweep point\n");
        for line in lines {
            text.push_str(&line);
            text.push('\n');
        }
        if let Some(seed) = seed {
            text.push_str(&format!("seed={seed}\n"));
        }
        id_hex(text.as_bytes())
    }

    /// Returns the scenario of a point as YAML: the base scenario with the point's values set.
    /// Its `seed` is the base scenario's; [`Sweep::scenario_of`] applies the point's.
    pub fn scenario_yaml(&self, point: &Point) -> Result<String, ScenarioError> {
        self.yaml_with(&point.parameters)
    }

    fn yaml_with(&self, parameters: &[(usize, usize)]) -> Result<String, ScenarioError> {
        let mut tree = self.scenario_tree.clone();
        for &(axis, value) in parameters {
            let axis = &self.axes[axis];
            axis.path
                .set(&mut tree, axis.values[value].clone())
                .map_err(|e| ScenarioError::file(&self.scenario_path, e.message, e.fix))?;
        }
        serde_saphyr::to_string(&tree).map_err(|e| {
            ScenarioError::file(
                &self.scenario_path,
                format!("cannot write the point's scenario as YAML: {e}"),
                "this is a bug in autoscale-sim; please report it with the sweep file",
            )
        })
    }

    /// Builds the scenario of a point, with the point's seed.
    pub fn scenario_of(&self, point: &Point) -> Result<Scenario, ScenarioError> {
        self.build(&point.parameters, Some(point.seed))
    }

    fn build(
        &self,
        parameters: &[(usize, usize)],
        seed: Option<u64>,
    ) -> Result<Scenario, ScenarioError> {
        let yaml = self.yaml_with(parameters)?;
        let overrides = Overrides {
            seed,
            ..Overrides::default()
        };
        load_str(&yaml, &self.scenario_path, &overrides)
    }

    /// Builds every configuration (the seed does not change whether a scenario is valid). A
    /// rejected configuration is reported at the one value whose removal makes it valid, or
    /// as a combination when no single value is to blame.
    fn check_configurations(
        &mut self,
        axes_location: Option<(u64, u64)>,
    ) -> Result<(), SweepError> {
        let mut configurations: Vec<&Point> = Vec::new();
        let mut seen = BTreeSet::new();
        for point in &self.points {
            if !point.parameters.is_empty() && seen.insert(&point.config_id) {
                configurations.push(point);
            }
        }
        let results: Vec<Result<Vec<String>, ScenarioError>> = configurations
            .par_iter()
            .map(|point| self.build(&point.parameters, None).map(|s| s.warnings))
            .collect();

        // A point's warnings name positions in generated scenario text, so each is given
        // without its position, once, after the points that raise it. Those the base
        // scenario raises as well are already listed with their real position.
        let base_texts: BTreeSet<String> = self
            .warnings
            .iter()
            .map(|w| warning_text(w, &self.scenario_path))
            .collect();
        let mut warnings: Vec<(String, Vec<String>)> = Vec::new();
        for (point, result) in configurations.iter().zip(results) {
            let error = match result {
                Ok(point_warnings) => {
                    let described = self.describe_parameters(&point.parameters);
                    for warning in point_warnings {
                        let text = warning_text(&warning, &self.scenario_path);
                        if base_texts.contains(&text) {
                            continue;
                        }
                        match warnings.iter_mut().find(|(known, _)| *known == text) {
                            Some((_, points)) => points.push(described.clone()),
                            None => warnings.push((text, vec![described.clone()])),
                        }
                    }
                    continue;
                }
                Err(error) => error,
            };
            let parameters = &point.parameters;
            let culprits: Vec<(usize, usize)> = parameters
                .iter()
                .copied()
                .filter(|removed| {
                    let others: Vec<(usize, usize)> = parameters
                        .iter()
                        .copied()
                        .filter(|p| p != removed)
                        .collect();
                    self.build(&others, None).is_ok()
                })
                .collect();
            if let [(axis, value)] = culprits[..] {
                let others: Vec<(usize, usize)> = parameters
                    .iter()
                    .copied()
                    .filter(|p| *p != (axis, value))
                    .collect();
                return Err(self.value_error(axis, value, &others, &error));
            }
            return Err(invalid(
                &self.file,
                axes_location,
                "axes",
                None,
                format!(
                    "the scenario rejects the combination {}: {}",
                    self.describe_parameters(parameters),
                    without_position(&error)
                ),
                format!(
                    "{}; or leave the combination out with exclude:",
                    error.fix.as_deref().unwrap_or("change one of the values")
                ),
            ));
        }
        let located = warnings
            .into_iter()
            .map(|(text, points)| {
                format!(
                    "{}: with {}: {text}",
                    self.file.display(),
                    points.join("; ")
                )
            })
            .collect();
        self.add_warnings(located);
        Ok(())
    }

    fn add_warnings(&mut self, warnings: Vec<String>) {
        for warning in warnings {
            if !self.warnings.contains(&warning) {
                self.warnings.push(warning);
            }
        }
    }

    /// Locates the scenario's rejection of one axis value in the sweep file: at the field when
    /// the scenario has no such field, else at the value. `others` are the values it was
    /// combined with.
    fn value_error(
        &self,
        axis: usize,
        value: usize,
        others: &[(usize, usize)],
        error: &ScenarioError,
    ) -> SweepError {
        let a = &self.axes[axis];
        let with = if others.is_empty() {
            String::new()
        } else {
            format!(" (with {})", self.describe_parameters(others))
        };
        let unknown_field = error.message.starts_with("unknown field");
        if unknown_field {
            return invalid(
                &self.file,
                a.field_location,
                &format!("axes[{axis}].field"),
                Some(a.path.to_string()),
                format!(
                    "the scenario has no such field{with}: {}",
                    without_position(error)
                ),
                error
                    .fix
                    .clone()
                    .unwrap_or_else(|| "correct the path".into()),
            );
        }
        let field = if a.from_range {
            format!("axes[{axis}].range")
        } else {
            format!("axes[{axis}].values[{value}]")
        };
        invalid(
            &self.file,
            a.value_locations[value],
            &field,
            Some(value_text(&a.values[value])),
            format!(
                "the scenario rejects this value{with}: {}",
                without_position(error)
            ),
            error
                .fix
                .clone()
                .unwrap_or_else(|| "choose another value".into()),
        )
    }

    /// Describes parameters as `name=value` pairs joined by commas.
    pub fn describe_parameters(&self, parameters: &[(usize, usize)]) -> String {
        parameters
            .iter()
            .map(|&(axis, value)| {
                format!(
                    "{}={}",
                    self.axes[axis].name,
                    value_text(&self.axes[axis].values[value])
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Returns a scenario warning without the path of `scenario` and the line and column after it.
fn warning_text(warning: &str, scenario: &Path) -> String {
    let prefix = format!("{}:", scenario.display());
    let Some(rest) = warning.strip_prefix(&prefix) else {
        return warning.to_string();
    };
    let position_len = rest
        .split(':')
        .take(2)
        .take_while(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        .map(|part| part.len() + 1)
        .sum::<usize>();
    rest[position_len..].trim_start().to_string()
}

/// Returns a scenario error's field, value and message without its file position, because that
/// position points into generated scenario text that is never shown.
fn without_position(error: &ScenarioError) -> String {
    match (&error.field, &error.value) {
        (Some(field), Some(value)) => {
            format!("field {field}, value {value:?}: {}", error.message)
        }
        (Some(field), None) => format!("field {field}: {}", error.message),
        _ => error.message.clone(),
    }
}

/// The base scenario of a sweep.
struct BaseScenario {
    path: PathBuf,
    text: String,
    tree: Value,
    scenario: Scenario,
    policies: Vec<String>,
}

impl BaseScenario {
    /// Reads the scenario the sweep file names and checks it as it is.
    fn load(named: &Spanned<String>, sweep_file: &Path) -> Result<BaseScenario, SweepError> {
        let (path, text) = if named.value.trim() == DEFAULT_SCENARIO {
            (
                PathBuf::from(DEFAULT_SCENARIO_NAME),
                DEFAULT_SCENARIO_YAML.to_string(),
            )
        } else {
            let path = match sweep_file.parent().filter(|p| !p.as_os_str().is_empty()) {
                Some(dir) => dir.join(named.value.trim()),
                None => PathBuf::from(named.value.trim()),
            };
            let text = read_text(&path, "scenario").map_err(|(message, fix)| {
                invalid(
                    sweep_file,
                    location(named),
                    "scenario",
                    Some(named.value.clone()),
                    message,
                    fix,
                )
            })?;
            (path, text)
        };
        let scenario = load_str(&text, &path, &Overrides::default())
            .map_err(|e| SweepError::Invalid(Box::new(e)))?;
        let tree: Value = serde_saphyr::from_str(&text).map_err(|e| {
            invalid(
                sweep_file,
                location(named),
                "scenario",
                Some(named.value.clone()),
                format!("the scenario cannot be read as a YAML tree: {e}"),
                "write mapping keys as text",
            )
        })?;
        let policies = scenario
            .policies
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        Ok(BaseScenario {
            path,
            text,
            tree,
            scenario,
            policies,
        })
    }
}

/// Reads a UTF-8 text file of at most [`MAX_SCENARIO_BYTES`]; returns the problem and its fix.
fn read_text(path: &Path, kind: &str) -> Result<String, (String, String)> {
    let fix = if kind == "scenario" {
        "give a path relative to the sweep file, or `default` for the built-in diurnal-web scenario"
    } else {
        "check the path"
    };
    let metadata = std::fs::metadata(path).map_err(|e| {
        (
            format!("cannot read the {kind} file {}: {e}", path.display()),
            fix.to_string(),
        )
    })?;
    if metadata.is_dir() {
        return Err((
            format!("{} is a folder, not a {kind} file", path.display()),
            fix.to_string(),
        ));
    }
    if metadata.len() > MAX_SCENARIO_BYTES {
        return Err((
            format!(
                "{} is {} bytes; at most {MAX_SCENARIO_BYTES} are accepted",
                path.display(),
                metadata.len()
            ),
            "keep large data in trace files".to_string(),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        (
            format!("cannot read the {kind} file {}: {e}", path.display()),
            fix.to_string(),
        )
    })?;
    String::from_utf8(bytes).map_err(|_| {
        (
            format!("{} is not UTF-8 text", path.display()),
            format!("give a YAML {kind} file"),
        )
    })
}

/// Parses a `--seeds` option: a count N (the seeds 1 to N) or a comma-separated list of
/// distinct seeds. An invalid value returns the problem and its fix.
pub fn parse_seeds_option(text: &str) -> Result<Vec<u64>, (String, String)> {
    let fix =
        "write a count such as --seeds 10 (the seeds 1 to 10), or a list such as --seeds 1,2,3"
            .to_string();
    let numbers: Vec<&str> = text.split(',').map(str::trim).collect();
    let mut seeds = Vec::new();
    for number in &numbers {
        let seed = number.parse::<u64>().map_err(|error| {
            let problem = if *error.kind() == std::num::IntErrorKind::PosOverflow {
                format!("{number} is larger than the largest seed, {}", u64::MAX)
            } else {
                format!("{number:?} is not a whole number 0 or more")
            };
            (problem, fix.clone())
        })?;
        if seeds.contains(&seed) {
            return Err((format!("seed {seed} is listed twice"), fix));
        }
        seeds.push(seed);
    }
    if let [count] = seeds.as_slice()
        && numbers.len() == 1
    {
        return match *count {
            0 => Err(("a count of 0 seeds runs nothing".into(), fix)),
            count if count > MAX_SEEDS => Err((
                format!("{count} seeds are more than the {MAX_SEEDS} accepted"),
                "use fewer seeds".into(),
            )),
            count => Ok((1..=count).collect()),
        };
    }
    if seeds.len() as u64 > MAX_SEEDS {
        return Err((
            format!(
                "{} seeds are more than the {MAX_SEEDS} accepted",
                seeds.len()
            ),
            "use fewer seeds".into(),
        ));
    }
    Ok(seeds)
}

/// Reads `seeds:`: a count N (the seeds 1 to N) or a list of seeds. Without it, the scenario's
/// own seed is the only one.
fn seeds(
    spanned: Option<&Spanned<Value>>,
    scenario_seed: u64,
    file: &Path,
) -> Result<Vec<u64>, SweepError> {
    let Some(spanned) = spanned else {
        return Ok(vec![scenario_seed]);
    };
    let error = |message: String, fix: &str| {
        invalid(
            file,
            location(spanned),
            "seeds",
            Some(value_text(&spanned.value)),
            message,
            fix,
        )
    };
    let fix = "write a count of 1 or more, such as seeds: 10 (the seeds 1 to 10), or a list of seeds such as seeds: [1, 2, 3]";
    match &spanned.value {
        Value::Number(number) => match number.as_u64() {
            Some(0) => Err(error("a count of 0 seeds runs nothing".into(), fix)),
            Some(count) if count > MAX_SEEDS => Err(error(
                format!("{count} seeds are more than the {MAX_SEEDS} accepted"),
                "use fewer seeds",
            )),
            Some(count) => Ok((1..=count).collect()),
            None if number.as_i64().is_some() => {
                Err(error("the count of seeds is negative".into(), fix))
            }
            None => Err(error(
                "the count of seeds is not a whole number".into(),
                fix,
            )),
        },
        Value::Array(items) => {
            if items.is_empty() {
                return Err(error("the list of seeds is empty".into(), fix));
            }
            if items.len() as u64 > MAX_SEEDS {
                return Err(error(
                    format!(
                        "{} seeds are more than the {MAX_SEEDS} accepted",
                        items.len()
                    ),
                    "use fewer seeds",
                ));
            }
            let mut seeds = Vec::new();
            for item in items {
                let Some(seed) = item.as_u64() else {
                    return Err(error(
                        format!("seed {} is not a whole number 0 or more", value_text(item)),
                        fix,
                    ));
                };
                if seeds.contains(&seed) {
                    return Err(error(
                        format!("seed {seed} is listed twice"),
                        "list each seed once",
                    ));
                }
                seeds.push(seed);
            }
            Ok(seeds)
        }
        _ => Err(error("seeds must be a count or a list".into(), fix)),
    }
}

/// Expands `range: {from, to, step}` into values: whole numbers, decimal numbers (rounded to the
/// decimals written in `from` and `step`, so that 0.1 steps stay 0.1, 0.2, 0.3) or durations.
fn expand_range(range: &RangeYaml, axis: usize, file: &Path) -> Result<Vec<Value>, SweepError> {
    let error = |part: &str, at: &Spanned<Value>, message: String, fix: &str| {
        invalid(
            file,
            location(at),
            &format!("axes[{axis}].range.{part}"),
            Some(value_text(&at.value)),
            message,
            fix,
        )
    };
    let parts = [
        ("from", &range.from),
        ("to", &range.to),
        ("step", &range.step),
    ];
    let kind_fix = "write from, to and step as numbers, such as {from: 0.1, to: 0.5, step: 0.1}, or as durations, such as {from: 1m, to: 20m, step: 1m}";
    let durations: Vec<Option<SimDuration>> = parts
        .iter()
        .map(|(_, p)| p.value.as_str().and_then(|s| parse_duration(s).ok()))
        .collect();
    let numbers: Vec<Option<f64>> = parts.iter().map(|(_, p)| p.value.as_f64()).collect();

    if durations.iter().all(Option::is_some) {
        let [from, to, step] = [durations[0], durations[1], durations[2]].map(|d| d.unwrap().0);
        if step == 0 {
            return Err(error(
                "step",
                &range.step,
                "a step of 0 never reaches to".into(),
                "write a step above 0, such as 1m",
            ));
        }
        if from > to {
            return Err(error(
                "from",
                &range.from,
                format!("from {} is after to {}", SimDuration(from), SimDuration(to)),
                "write from at or before to",
            ));
        }
        let count = (to - from) / step + 1;
        if count > MAX_AXIS_VALUES as u64 {
            return Err(error(
                "step",
                &range.step,
                format!("the range has {count} values; at most {MAX_AXIS_VALUES} are accepted"),
                "use a larger step",
            ));
        }
        return Ok((0..count)
            .map(|i| Value::String(SimDuration(from + i * step).to_string()))
            .collect());
    }
    if numbers.iter().all(Option::is_some) {
        let integers: Vec<Option<i64>> = parts.iter().map(|(_, p)| p.value.as_i64()).collect();
        if integers.iter().all(Option::is_some) {
            let [from, to, step] =
                [integers[0], integers[1], integers[2]].map(|d| d.unwrap() as i128);
            if step <= 0 {
                return Err(error(
                    "step",
                    &range.step,
                    format!("a step of {step} never reaches to"),
                    "write a step above 0",
                ));
            }
            if from > to {
                return Err(error(
                    "from",
                    &range.from,
                    format!("from {from} is above to {to}"),
                    "write from at or below to",
                ));
            }
            let count = (to - from) / step + 1;
            if count > MAX_AXIS_VALUES as i128 {
                return Err(error(
                    "step",
                    &range.step,
                    format!("the range has {count} values; at most {MAX_AXIS_VALUES} are accepted"),
                    "use a larger step",
                ));
            }
            return Ok((0..count)
                .map(|i| Value::from((from + i * step) as i64))
                .collect());
        }
        let [from, to, step] = [numbers[0], numbers[1], numbers[2]].map(Option::unwrap);
        if step.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(error(
                "step",
                &range.step,
                format!("a step of {step} never reaches to"),
                "write a step above 0",
            ));
        }
        if from > to {
            return Err(error(
                "from",
                &range.from,
                format!("from {from} is above to {to}"),
                "write from at or below to",
            ));
        }
        // A small tolerance keeps `to` when (to - from) / step is a whole number in decimal
        // but lands just below it in binary, as with 0.1 to 0.3 in steps of 0.1.
        let steps = ((to - from) / step + 1e-9).floor();
        if steps + 1.0 > MAX_AXIS_VALUES as f64 {
            return Err(error(
                "step",
                &range.step,
                format!(
                    "the range has {} values; at most {MAX_AXIS_VALUES} are accepted",
                    steps + 1.0
                ),
                "use a larger step",
            ));
        }
        let decimals = decimals_of(from).max(decimals_of(step));
        return Ok((0..=steps as u64)
            .map(|i| {
                let value = from + i as f64 * step;
                let rounded: f64 = format!("{value:.decimals$}").parse().unwrap_or(value);
                Value::from(rounded)
            })
            .collect());
    }

    // Name the first part that is neither, or the one whose kind differs.
    let (part, at) = parts
        .iter()
        .zip(durations.iter().zip(&numbers))
        .find(|(_, (d, n))| d.is_none() && n.is_none())
        .map(|(p, _)| *p)
        .unwrap_or_else(|| {
            let first_is_number = numbers[0].is_some();
            parts
                .iter()
                .zip(&numbers)
                .find(|(_, n)| n.is_some() != first_is_number)
                .map(|(p, _)| *p)
                .unwrap_or(parts[0])
        });
    Err(error(
        part,
        at,
        format!("{part} is neither a number nor a duration, or is not the same kind as from"),
        kind_fix,
    ))
}

/// Returns the number of decimals in the shortest text form of `value`, at most 15.
fn decimals_of(value: f64) -> usize {
    let text = value.to_string();
    text.split_once('.').map_or(0, |(_, d)| d.len()).min(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_option() {
        assert_eq!(parse_seeds_option("3"), Ok(vec![1, 2, 3]));
        assert_eq!(parse_seeds_option("7, 9"), Ok(vec![7, 9]));
        assert_eq!(parse_seeds_option("0,5"), Ok(vec![0, 5]));
        let message = |text: &str| parse_seeds_option(text).unwrap_err().0;
        assert_eq!(message("0"), "a count of 0 seeds runs nothing");
        assert_eq!(message("1,1"), "seed 1 is listed twice");
        assert_eq!(message("ten"), "\"ten\" is not a whole number 0 or more");
        assert_eq!(
            message("18446744073709551616"),
            "18446744073709551616 is larger than the largest seed, 18446744073709551615"
        );
        assert!(message("100000000").contains("more than the"));
    }

    const CONSOLIDATE_AFTER: &str =
        "policies[karpenter].karpenter.nodePools[default].spec.disruption.consolidateAfter";
    const UNNEEDED_TIME: &str =
        "policies[cluster-autoscaler].clusterAutoscaler.flags[--scale-down-unneeded-time]";

    fn sweep(text: &str) -> Sweep {
        Sweep::from_text(text, Path::new("test-sweep.yaml")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn error(text: &str) -> ScenarioError {
        match Sweep::from_text(text, Path::new("test-sweep.yaml")) {
            Err(SweepError::Invalid(error)) => *error,
            Err(other) => panic!("expected an invalid-sweep error, got {other}"),
            Ok(_) => panic!("the sweep was accepted:\n{text}"),
        }
    }

    /// Two axes of two policies over the default scenario.
    fn two_policy_sweep(seeds: &str) -> String {
        format!(
            "scenario: default\nseeds: {seeds}\naxes:\n  - field: {CONSOLIDATE_AFTER}\n    values: [0s, 5m]\n  - field: {UNNEEDED_TIME}\n    values: [1m, 10m, 20m]\n"
        )
    }

    #[test]
    fn yaml_round_trip_builds_same_scenarios() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".yaml") || name.starts_with("sweep-") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Scenarios whose trace files are absent (the reference data) are left out.
            let Ok(original) = load_str(&text, &path, &Overrides::default()) else {
                continue;
            };
            let tree: Value = serde_saphyr::from_str(&text).unwrap();
            let yaml = serde_saphyr::to_string(&tree).unwrap();

            let rebuilt = load_str(&yaml, &path, &Overrides::default())
                .unwrap_or_else(|e| panic!("{name} after a round trip: {e}\n{yaml}"));

            assert_eq!(
                format!("{:?}", rebuilt.config),
                format!("{:?}", original.config),
                "{name}"
            );
            assert_eq!(
                format!("{:?}", rebuilt.policies),
                format!("{:?}", original.policies),
                "{name}"
            );
            checked += 1;
        }
        assert!(checked >= 4, "only {checked} scenarios were checked");
    }

    #[test]
    fn points_per_policy_axes() {
        let sweep = sweep(&two_policy_sweep("2"));

        // Cluster Autoscaler: 3 values x 2 seeds, first; then Karpenter: 2 values x 2 seeds.
        assert_eq!(sweep.points.len(), 10);
        let first = &sweep.points[0];
        assert_eq!(first.policies, ["cluster-autoscaler"]);
        assert_eq!(first.parameters, [(1, 0)]);
        assert_eq!(first.seed, 1);
        assert_eq!(sweep.points[1].seed, 2);
        assert_eq!(sweep.points[2].parameters, [(1, 1)]);
        assert_eq!(sweep.points[6].policies, ["karpenter"]);
        assert_eq!(sweep.points[6].parameters, [(0, 0)]);
        assert_eq!(sweep.points[9].parameters, [(0, 1)]);
        assert_eq!(sweep.points[9].seed, 2);
        assert!(sweep.points.iter().enumerate().all(|(i, p)| p.index == i));
        assert_eq!(sweep.axes[0].policy.as_deref(), Some("karpenter"));
        assert_eq!(sweep.axes[0].name, "consolidateAfter");
        assert_eq!(sweep.axes[1].name, "scale-down-unneeded-time");
    }

    #[test]
    fn world_axes_share_points() {
        let sweep = sweep(
            "scenario: default\nseeds: [5, 6]\naxes:\n  - {field: loads.web.diurnal.peak, values: [1000, 1400]}\n",
        );

        assert_eq!(sweep.points.len(), 4);
        assert!(
            sweep
                .points
                .iter()
                .all(|p| p.policies == ["cluster-autoscaler", "karpenter"])
        );
        assert_eq!(sweep.points[1].seed, 6);
    }

    #[test]
    fn seeds_default_to_scenario_seed() {
        let sweep = sweep("scenario: default\n");

        assert_eq!(sweep.seeds, [42]);
        assert_eq!(sweep.points.len(), 1);
        assert_eq!(sweep.points[0].parameters, []);
    }

    #[test]
    fn ids_follow_documented_hash() {
        // FNV-1a test vectors, and fmix64 of 0, which is 0.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(id_hex(b"a"), {
            let mut h: u64 = 0xaf63_dc4c_8601_ec8c;
            h ^= h >> 33;
            h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
            h ^= h >> 33;
            h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
            h ^= h >> 33;
            format!("{h:016x}")
        });

        let sweep = sweep(&two_policy_sweep("2"));
        let point = &sweep.points[7];

        let text = format!("autoscale-sim sweep point\n{CONSOLIDATE_AFTER}=\"0s\"\nseed=2\n");
        assert_eq!(point.id, id_hex(text.as_bytes()));
        // Pinned, so that a change to the hash, which would orphan every stored result, fails.
        assert_eq!(point.id, "19e5133814c1e682");
        assert_eq!(sweep.points[6].id, "d3b9189b0f32abcc");
        let config = format!("autoscale-sim sweep point\n{CONSOLIDATE_AFTER}=\"0s\"\n");
        assert_eq!(point.config_id, id_hex(config.as_bytes()));
        assert_eq!(sweep.points[6].config_id, point.config_id);
        assert_ne!(sweep.points[6].id, point.id);
    }

    #[test]
    fn ids_do_not_depend_on_order_or_position() {
        let forward = sweep(&two_policy_sweep("2"));
        let reordered = sweep(&format!(
            "scenario: default\nseeds: [2, 1, 3]\naxes:\n  - field: {UNNEEDED_TIME}\n    values: [20m, 1m, 5m, 10m]\n  - field: policies[1].karpenter.nodePools[0].spec.disruption.consolidateAfter\n    values: [5m, 0s]\n"
        ));

        let ids = |s: &Sweep| -> BTreeMap<(String, u64), String> {
            s.points
                .iter()
                .map(|p| (s.describe_parameters(&p.parameters), p.seed))
                .zip(s.points.iter().map(|p| p.id.clone()))
                .collect()
        };
        let (a, b) = (ids(&forward), ids(&reordered));
        for (key, id) in &a {
            assert_eq!(b.get(key), Some(id), "{key:?}");
        }
    }

    #[test]
    fn exclude_drops_matching_points() {
        let text = format!(
            "{}exclude:\n  - {{consolidateAfter: 0s}}\n  - {{scale-down-unneeded-time: 1m}}\n",
            two_policy_sweep("1")
        );

        let sweep = sweep(&text);

        let described: Vec<String> = sweep
            .points
            .iter()
            .map(|p| sweep.describe_parameters(&p.parameters))
            .collect();
        assert_eq!(
            described,
            [
                "scale-down-unneeded-time=10m",
                "scale-down-unneeded-time=20m",
                "consolidateAfter=5m"
            ]
        );
    }

    #[test]
    fn ranges_of_numbers_and_durations() {
        let sweep = sweep(&format!(
            "scenario: default\naxes:\n  - field: {UNNEEDED_TIME}\n    range: {{from: 5m, to: 20m, step: 5m}}\n  - field: loads.web.diurnal.noise\n    range: {{from: 0.1, to: 0.3, step: 0.1}}\n  - field: loads.web.diurnal.peak\n    range: {{from: 1000, to: 1500, step: 200}}\n"
        ));

        let texts = |axis: usize| -> Vec<String> {
            sweep.axes[axis].values.iter().map(value_text).collect()
        };
        assert_eq!(texts(0), ["5m", "10m", "15m", "20m"]);
        assert_eq!(texts(1), ["0.1", "0.2", "0.3"]);
        assert_eq!(texts(2), ["1000", "1200", "1400"]);
    }

    #[test]
    fn flag_value_reaches_policy() {
        let sweep = sweep(&format!(
            "scenario: default\naxes:\n  - field: {UNNEEDED_TIME}\n    values: [3m]\n"
        ));

        let scenario = sweep.scenario_of(&sweep.points[0]).unwrap();

        let debug = format!("{:?}", scenario.policies[0]);
        assert!(
            debug.contains("scale_down_unneeded_time: SimDuration(180000)"),
            "{debug}"
        );
    }

    #[test]
    fn located_errors() {
        let cases: Vec<(String, u64, &str, &str)> = vec![
            (
                format!("scenario: default\naxes:\n  - field: {CONSOLIDATE_AFTER}r\n    values: [1m]\n"),
                3,
                "axes[0].field",
                "the scenario has no such field: field policies[1].karpenter.nodePools[0].spec.disruption.consolidateAfterr: unknown field `consolidateAfterr`",
            ),
            (
                format!("scenario: default\naxes:\n  - field: {CONSOLIDATE_AFTER}\n    values: []\n"),
                4,
                "axes[0].values",
                "the list of values is empty",
            ),
            (
                format!("scenario: default\naxes:\n  - field: {CONSOLIDATE_AFTER}\n    range: {{from: 1m, to: 5m, step: 0s}}\n"),
                4,
                "axes[0].range.step",
                "a step of 0 never reaches to",
            ),
            (
                format!("scenario: default\naxes:\n  - field: {CONSOLIDATE_AFTER}\n    range: {{from: 9m, to: 5m, step: 1m}}\n"),
                4,
                "axes[0].range.from",
                "from 9m is after to 5m",
            ),
            (
                "scenario: default\nseeds: -3\n".into(),
                2,
                "seeds",
                "the count of seeds is negative",
            ),
            (
                format!("scenario: default\naxes:\n  - field: {CONSOLIDATE_AFTER}\n    values: [1m, 5x]\n"),
                4,
                "axes[0].values[1]",
                "the scenario rejects this value: field policies[1].karpenter.nodePools[0].spec.disruption.consolidateAfter, value \"5x\"",
            ),
            (
                "scenario: default\naxes:\n  - field: policies[spot].karpenter.nodePools\n    values: [[]]\n".into(),
                3,
                "axes[0].field",
                "policies has no entry named spot; its entries are cluster-autoscaler, karpenter",
            ),
            (
                "scenario: default\naxes:\n  - {field: seed, values: [1]}\n".into(),
                3,
                "axes[0].field",
                "the seed is not swept as a field",
            ),
            (
                format!("scenario: default\naxes:\n  - field: {CONSOLIDATE_AFTER}\n    values: [1m]\nexclude:\n  - {{consolidateAfter: 2m}}\n"),
                6,
                "exclude[0].consolidateAfter",
                "axis consolidateAfter has no such value",
            ),
            (
                "scenario: default\naxes:\n  - {field: duration, values: [3d]}\nexclude:\n  - {duration: 3d}\n".into(),
                5,
                "exclude",
                "the entries leave out every point",
            ),
            (
                "scenario: nowhere.yaml\n".into(),
                1,
                "scenario",
                "cannot read the scenario file nowhere.yaml",
            ),
            (
                "scenario: default\naxes:\n  - {field: duration, values: [1h]}\n".into(),
                3,
                "axes[0].values[0]",
                "field snapshots[0].at, value \"2d5h\": the snapshot is after the end of the run (1h)",
            ),
        ];
        for (text, line, field, message) in cases {
            let error = error(&text);

            assert_eq!(error.line, Some(line), "{text}\n{error}");
            assert_eq!(error.field.as_deref(), Some(field), "{text}\n{error}");
            assert!(error.message.contains(message), "{text}\n{error}");
            assert!(error.fix.is_some(), "{text}\n{error}");
        }
    }

    #[test]
    fn value_blamed_within_combination() {
        // 1h alone is rejected for the default's late snapshots; with snapshots cleared it is
        // valid, so only the bad consolidateAfter value is to blame.
        let error = error(&format!(
            "scenario: default\naxes:\n  - {{field: duration, values: [1h]}}\n  - {{name: snapshotTimes, field: snapshots, values: [[]]}}\n  - field: {CONSOLIDATE_AFTER}\n    values: [1m, soon]\n"
        ));

        assert_eq!(error.field.as_deref(), Some("axes[2].values[1]"));
        assert!(
            error
                .message
                .contains("(with duration=1h, snapshotTimes=[])"),
            "{error}"
        );
    }

    #[test]
    fn point_warning_names_its_values() {
        let sweep = sweep(&format!(
            "scenario: default\naxes:\n  - name: parallelism\n    field: 'policies[cluster-autoscaler].clusterAutoscaler.flags[--max-scale-down-parallelism]'\n    values: [0, 5]\n  - name: unneeded\n    field: '{UNNEEDED_TIME}'\n    values: [1m, 10m]\n",
        ));

        let located: Vec<&String> = sweep
            .warnings
            .iter()
            .filter(|w| w.contains("--max-scale-down-parallelism=0"))
            .collect();

        assert_eq!(
            located,
            [
                "test-sweep.yaml: with parallelism=0, unneeded=1m; parallelism=0, unneeded=10m: field policies[0].clusterAutoscaler.flags[2]: --max-scale-down-parallelism=0 turns scale-down off: no node is ever found unneeded or deleted, as in the real program; write a positive number to allow scale-down"
            ]
        );
    }

    #[test]
    fn warning_text_drops_position() {
        let scenario = Path::new("base.yaml");

        assert_eq!(
            warning_text("base.yaml:7:14: field a: too long", scenario),
            "field a: too long"
        );
        assert_eq!(
            warning_text("base.yaml: NodePool x: ignored", scenario),
            "NodePool x: ignored"
        );
        assert_eq!(
            warning_text("other.csv:3: odd", scenario),
            "other.csv:3: odd"
        );
    }

    #[test]
    fn combination_error_at_axes() {
        // minSize 30 with maxSize 20 is invalid, though each is valid with the other's base.
        let error = error(
            "scenario: default\naxes:\n  - {field: 'policies[0].clusterAutoscaler.nodeGroups[0].minSize', values: [1, 30]}\n  - {field: 'policies[0].clusterAutoscaler.nodeGroups[0].maxSize', values: [20, 50]}\n",
        );

        assert_eq!(error.field.as_deref(), Some("axes"));
        assert!(
            error
                .message
                .contains("the scenario rejects the combination minSize=30, maxSize=20"),
            "{error}"
        );
        assert!(error.fix.unwrap().contains("exclude:"));
    }
}
