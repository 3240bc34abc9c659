//! Scenario files of autoscale-sim: YAML with Kubernetes' field names, checked value by value.
//!
//! [`load`] reads a scenario, checks every field, loads the traces and catalog it names (paths
//! are relative to the scenario file), and returns the world's [`SimConfig`] with the policies to
//! compare. Every problem is a [`ScenarioError`] naming the file, line, column, field and value,
//! and what to write instead.
//!
//! ```
//! use autoscale_sim_scenario::{Overrides, default_scenario};
//!
//! let scenario = default_scenario(&Overrides::default()).unwrap();
//! assert_eq!(scenario.name, "diurnal-web");
//! let names: Vec<&str> = scenario.policies.iter().map(|p| p.name()).collect();
//! assert_eq!(names, ["cluster-autoscaler", "karpenter"]);
//! ```

#![deny(missing_docs)]
// Scenario errors carry file, position, field, value, fix and snippet; they are built once per
// failed load, so their size does not matter.
#![allow(clippy::result_large_err)]

mod build;
pub mod clock;
mod error;
pub mod flags;
mod go_duration;
pub mod prices;
pub mod schema;
mod whole_number;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use autoscale_sim_kube::{label, string_value, whole_number as kube_whole_number};
use autoscale_sim_sim::{PolicySpec, SimConfig};

pub use build::DEFAULT_START;
pub use error::ScenarioError;

/// The built-in default scenario, the same as `scenarios/diurnal-web.yaml`.
pub const DEFAULT_SCENARIO_YAML: &str = include_str!("../../../scenarios/diurnal-web.yaml");

/// Name shown in messages for the built-in scenario.
pub const DEFAULT_SCENARIO_NAME: &str = "<built-in diurnal-web>";

/// Largest scenario file accepted, in bytes.
pub const MAX_SCENARIO_BYTES: u64 = 4 * 1024 * 1024;

/// A checked scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Description, if the file has one.
    pub description: Option<String>,
    /// The world's configuration.
    pub config: SimConfig,
    /// The policies to compare, in file order.
    pub policies: Vec<PolicySpec>,
    /// Fields accepted but not modelled, and setups that leave pods unschedulable.
    pub warnings: Vec<String>,
    /// The policy that a warning concerns, by its index in `warnings`, for the warnings about
    /// one policy only. A program that runs some of the policies can leave out the others'.
    pub warning_policies: BTreeMap<usize, String>,
    /// Number of LimitRanges, which act when the scenario is loaded and leave no object in the
    /// configuration.
    pub limit_ranges: usize,
}

/// Values given on the command line that take precedence over the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Seed in place of the file's.
    pub seed: Option<u64>,
    /// Trace file per load name, in place of the file's `trace.file`.
    pub traces: BTreeMap<String, PathBuf>,
}

/// Loads and checks the scenario at `path`.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    let fix_path = "check the path; scenarios shipped with autoscale-sim are under scenarios/";
    let metadata = std::fs::metadata(path).map_err(|e| {
        ScenarioError::file(path, format!("cannot read the scenario: {e}"), fix_path)
    })?;
    if metadata.is_dir() {
        return Err(ScenarioError::file(
            path,
            "this is a folder, not a scenario file",
            "give the path of a .yaml file",
        ));
    }
    if metadata.len() > MAX_SCENARIO_BYTES {
        return Err(ScenarioError::file(
            path,
            format!(
                "the file is {} bytes; scenarios are limited to {MAX_SCENARIO_BYTES} bytes",
                metadata.len()
            ),
            "keep large data in trace files and refer to them",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        ScenarioError::file(path, format!("cannot read the scenario: {e}"), fix_path)
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        ScenarioError::file(
            path,
            "the file is not UTF-8 text",
            "give a YAML scenario file",
        )
    })?;
    load_str(&text, path, overrides)
}

/// Loads the built-in default scenario.
pub fn default_scenario(overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    load_str(
        DEFAULT_SCENARIO_YAML,
        Path::new(DEFAULT_SCENARIO_NAME),
        overrides,
    )
}

/// Checks scenario `text`; `path` names it in messages and anchors relative paths.
pub fn load_str(text: &str, path: &Path, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    if text.trim().is_empty() {
        return Err(ScenarioError::file(
            path,
            "the file is empty",
            "write a scenario; see scenarios/diurnal-web.yaml for a complete example",
        ));
    }
    let only_comments = text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#')
    });
    if only_comments {
        return Err(ScenarioError::file(
            path,
            "the file has no content apart from comments",
            "write a scenario; see scenarios/diurnal-web.yaml for a complete example",
        ));
    }
    if text.contains('\0') {
        return Err(ScenarioError::file(
            path,
            "the file contains NUL bytes and is not YAML text",
            "give a YAML scenario file",
        ));
    }
    let file: schema::ScenarioFile = serde_saphyr::from_str(text).map_err(|e| {
        if is_sweep_file(text) {
            return ScenarioError::file(
                path,
                "this is a sweep file (it names a base `scenario:` and no workloads), not a scenario",
                format!("run it with `autoscale-sim sweep {}`", path.display()),
            );
        }
        parse_error(&e, text, path)
    })?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let ctx = build::Ctx {
        file: path,
        source: text,
        dir,
        warnings: Default::default(),
    };
    build::build(file, &ctx, overrides)
}

/// Returns the keys of the top-level mapping of YAML `text`, or `None` when it is not a mapping
/// or does not parse.
pub fn top_level_keys(text: &str) -> Option<Vec<String>> {
    let map: BTreeMap<String, serde::de::IgnoredAny> = serde_saphyr::from_str(text).ok()?;
    Some(map.into_keys().collect())
}

/// Tells whether YAML `text` reads as a sweep file: a `scenario:` key and no `workloads`.
fn is_sweep_file(text: &str) -> bool {
    top_level_keys(text).is_some_and(|keys| {
        keys.iter().any(|k| k == "scenario") && !keys.iter().any(|k| k == "workloads")
    })
}

/// Parses YAML `text` into `T`, with the same located errors as a scenario (file, line, column,
/// field, value and fix); `path` names the file in messages. Sweep files are read with it.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<T, ScenarioError> {
    serde_saphyr::from_str(text).map_err(|e| parse_error(&e, text, path))
}

/// Turns a YAML parser error into a [`ScenarioError`] with the field and value it points at.
pub(crate) fn parse_error(error: &serde_saphyr::Error, text: &str, path: &Path) -> ScenarioError {
    let rendered = error.to_string();
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("invalid YAML");
    let message = describe_type_error(strip_position_prefix(first));
    let snippet: Vec<String> = lines
        .map(|l| l.replace("<input>", &path.display().to_string()))
        .map(|l| reword_type_names(&l))
        .collect();

    // The excerpt's own "-->" line counts columns within a cropped view; the parser's location
    // is exact, so only the excerpt's body is kept.
    let snippet: Vec<String> = snippet
        .into_iter()
        .filter(|l| !l.trim_start().starts_with("--> "))
        .collect();
    let location = error
        .location()
        .map(|l| (l.line(), l.column()))
        .filter(|(line, _)| *line > 0);
    if let Some(missing) = missing_top_level_field(&message, location, text, path) {
        return missing;
    }
    // The parser reports a tab that starts a line inside a plain scalar at the scalar, often on
    // an earlier line. The first tab from there on is the one to fix, and the excerpt, drawn
    // at the scalar, would point elsewhere, so it is dropped.
    let tab = location
        .filter(|_| message.contains("found a tab"))
        .and_then(|(line, column)| first_tab_from(text, line, column));
    let (location, snippet) = match tab {
        Some(at) => (Some(at), Vec::new()),
        None => (location, snippet),
    };
    // The field and value at a tab are those of the line's first entry, read as if the tab
    // were a space.
    let text = match tab {
        Some(_) => std::borrow::Cow::Owned(text.replace('\t', " ")),
        None => std::borrow::Cow::Borrowed(text),
    };
    let text = text.as_ref();
    let probe = match tab {
        Some((line, _)) => text
            .lines()
            .nth(usize::try_from(line - 1).unwrap_or(usize::MAX))
            .and_then(|content| content.chars().position(|c| c != ' '))
            .map(|offset| (line, offset as u64 + 1)),
        None => location,
    };

    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
        .or_else(|| {
            message
                .strip_prefix("duplicate mapping key: ")
                .and_then(|m| m.split(',').next())
        })
        .map(str::to_string);
    // The block path leading to the position, with the key the value belongs to at its end.
    let block_path = probe.and_then(|(line, column)| {
        let path = error::path_at(text, line, column)?;
        Some(path + &error::flow_path_at(text, line, column))
    });
    let key = unknown
        .clone()
        .or_else(|| probe.and_then(|(line, column)| error::key_before(text, line, column)));
    let field = match (block_path, key) {
        (Some(path), Some(key)) if path == key || path.ends_with(&format!(".{key}")) => Some(path),
        (Some(path), Some(key)) => Some(format!("{path}.{key}")),
        (path, key) => key.or(path),
    };
    let value = if unknown.is_some() {
        None
    } else {
        probe.and_then(|(line, column)| error::value_at(text, line, column))
    };
    // An invalid label key in a map of labels is reported at the key, so the path ends at the
    // map. A requirement's `key: ...` is a value and needs no change.
    let (field, value) = match probe {
        Some((line, column))
            if message.starts_with(label::INVALID_KEY)
                && error::key_before(text, line, column).is_none() =>
        {
            let key = error::key_at(text, line, column);
            let field = match (field, &key) {
                (Some(path), Some(key)) => Some(format!("{path}.{key}")),
                (path, _) => path,
            };
            (field, key)
        }
        _ => (field, value),
    };
    let limit = integer_limit(strip_position_prefix(first));
    let too_large = limit.filter(|&limit| value.as_deref().is_some_and(|v| exceeds(v, limit)));
    // A number in range that the parser still rejects was read together with the lines after
    // it, as a plain scalar inside an unclosed `{` or `[` is.
    let runs_on = limit.is_some() && value.as_deref().is_some_and(|v| v.parse::<u128>().is_ok());
    // An unclosed quote makes the parser read on to the next quote, and the error shows up
    // there, often lines later.
    let open_quote = location
        .filter(|_| message.starts_with("invalid trailing content"))
        .and_then(|(line, _)| error::unclosed_quote_before(text, line));
    let (message, value) = if let Some(limit) = too_large {
        (
            format!("the number is larger than {limit}, the most this field takes"),
            value,
        )
    } else if runs_on {
        (
            "the number continues on the next line, so it is read as text; a { or [ not closed on this line is a likely cause".to_string(),
            value,
        )
    } else if let Some(found) = message
        .starts_with("expected string scalar")
        .then(|| collection_kind(value.as_deref()?))
        .flatten()
    {
        (
            format!("expected a single value, such as a number or a name, but found {found}"),
            value,
        )
    } else if message.starts_with("multiple YAML documents detected") {
        (
            "the file contains more than one YAML document (a --- line starts another one)"
                .to_string(),
            None,
        )
    } else if let Some((line, column)) = open_quote {
        (
            format!(
                "{message}; the quote at line {line}, column {column} is not closed on its line, which is a likely cause"
            ),
            value,
        )
    } else if let Some(number) = message
        .strip_prefix("non-finite float `")
        .and_then(|rest| rest.split('`').next())
    {
        (
            format!("YAML reads {number} as a number that is not finite"),
            Some(number.to_string()),
        )
    } else if message.starts_with("budget breached") {
        // The parser names the limit as a Rust value, such as `Nodes { nodes: 250001 }`.
        let limit = message
            .split(|c: char| !c.is_ascii_alphanumeric())
            .find(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_digit()))
            .map(|count| {
                format!(
                    " (more than {} YAML nodes)",
                    count.parse::<u64>().unwrap_or(1) - 1
                )
            })
            .unwrap_or_default();
        (
            format!(
                "the YAML expands beyond the parser's limits{limit}, as repeated aliases (*name) do in a YAML bomb"
            ),
            None,
        )
    } else if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        let key = key.split(',').next().unwrap_or(key).trim().to_string();
        (
            format!("the key {key} appears twice in the same mapping"),
            None,
        )
    } else {
        (message, value)
    };
    // The excerpt's caret line repeats the parser's own wording; it gets the reworded message.
    let raw = strip_position_prefix(first).to_string();
    let described = describe_type_error(&raw);
    let snippet: Vec<String> = snippet
        .into_iter()
        .map(|line| {
            // One replacement only: the new message can contain the old wording.
            if line.contains(&raw) {
                line.replace(&raw, &message)
            } else {
                line.replace(&described, &message)
            }
        })
        .collect();
    let quote_fix;
    let fix = if let Some((line, column)) = open_quote {
        &format!("close the quote at line {line}, column {column}")
    } else if message.starts_with(schema::BUDGET_NODES_NOT_A_STRING)
        && value.as_deref().is_none_or(|v| v.parse::<u64>().is_err())
    {
        // Quoting a value such as 5.5 or -5 would only lead to the next error.
        "write a count or a percentage in quotes, such as \"2\" or \"10%\""
    } else if message.contains(string_value::NOT_A_STRING_MARK) {
        quote_fix = match value.as_deref() {
            Some(value) => format!("quote it: \"{value}\""),
            None => "quote the value, such as \"true\"".to_string(),
        };
        &quote_fix
    } else if message.starts_with(kube_whole_number::QUOTED_INTEGER) {
        quote_fix = match value.as_deref() {
            Some(value) => format!("remove the quotes: {}", value.trim()),
            None => "remove the quotes around the number".to_string(),
        };
        &quote_fix
    } else if message.starts_with(label::INVALID_VALUE) {
        "write at most 63 ASCII letters, digits, '-', '_' or '.', beginning and ending with a letter or digit, or \"\" for an empty value"
    } else if message.starts_with(label::INVALID_KEY) {
        "write a key such as app or example.com/tier: an optional lowercase DNS prefix and '/', then at most 63 ASCII letters, digits, '-', '_' or '.', beginning and ending with a letter or digit"
    } else if message == label::NULL_VALUE {
        "write \"\" for an empty value, or write the value"
    } else if message.ends_with("as a number that is not finite") {
        quote_fix = match value.as_deref() {
            Some(value) => format!("write a finite number, or quote it if it is text: \"{value}\""),
            None => "write a finite number, or quote the value if it is text".to_string(),
        };
        &quote_fix
    } else if message == kube_whole_number::NOT_WHOLE_SECONDS {
        "write the seconds as a whole number without a unit, such as 60"
    } else if message.contains("repeated aliases") {
        "write the values out instead of repeating aliases, and keep large data in trace files"
    } else if message.contains("appears twice in the same mapping") {
        "keep one of the two entries; a mapping holds each key once"
    } else if message.starts_with("unknown field") {
        "remove the field or correct its spelling; the message lists the fields accepted here"
    } else if message.starts_with("missing field") {
        "add the missing field"
    } else if message.ends_with("the most this field takes") {
        "write a smaller number"
    } else if runs_on {
        "close the { or [ on this line, or end the value at the end of the line"
    } else if message.starts_with("the file contains more than one YAML document") {
        "keep one scenario per file: remove the --- line and the document after it, or move that document to a file of its own"
    } else if message.starts_with("invalid trailing content") {
        "remove what follows the value on this line; an unclosed quote earlier in the file can also cause this"
    } else if message == "invalid value: expected a whole number zero or more" {
        "write a whole number, 0 or more, without sign or decimals (for example 3)"
    } else if message == "invalid value: expected a whole number" {
        "write a whole number without decimals (for example 3 or -3)"
    } else if message == "invalid value: expected a number" {
        "write a number (for example 0.5)"
    } else if message == "invalid value: expected true or false" {
        "write true or false"
    } else if message.starts_with("invalid") {
        "write a value of the type this field takes"
    } else if message.starts_with("expected sequence start") {
        "write a list here: one entry per line starting with \"- \", indented under the key"
    } else if message.starts_with("expected mapping start") {
        "write a mapping here: key: value lines, indented under the key"
    } else if message.starts_with("expected string scalar")
        || message.starts_with("expected a single value")
    {
        "write one value here, not a list or a mapping (quote it if it contains [ ] { } or ,)"
    } else if message.contains("tabs disallowed") || message.contains("found a tab") {
        "indent with spaces, because YAML does not allow tabs in indentation"
    } else {
        "fix the YAML at this position"
    };
    ScenarioError {
        file: path.to_path_buf(),
        line: location.map(|l| l.0),
        column: location.map(|l| l.1),
        field,
        value,
        message,
        fix: Some(fix.to_string()),
        snippet: (!snippet.is_empty()).then(|| snippet.join("\n")),
    }
}

/// Reports a field missing from the file's top-level mapping at the first top-level key. The
/// parser notices the gap only at the end of that mapping and reports it at its last key, which
/// can be anywhere in the file. Returns `None` unless `message` is a missing field, `location`
/// is a top-level line (column 1) and the file has no top-level key of that name.
fn missing_top_level_field(
    message: &str,
    location: Option<(u64, u64)>,
    text: &str,
    path: &Path,
) -> Option<ScenarioError> {
    let field = message.strip_prefix("missing field `")?.split('`').next()?;
    let (line, column) = location?;
    let reported = text.lines().nth(usize::try_from(line - 1).ok()?)?;
    if column != 1 || !starts_top_level_key(reported) {
        return None;
    }
    let mut keys = text
        .lines()
        .enumerate()
        .filter(|(_, line)| starts_top_level_key(line));
    let written = |line: &str| {
        line.split(':')
            .next()
            .is_some_and(|key| key.trim().trim_matches(['"', '\'']) == field)
    };
    if keys.clone().any(|(_, line)| written(line)) {
        return None;
    }
    let first_key = keys.next().map_or(1, |(index, _)| index as u64 + 1);
    let example = match field {
        "seed" => "seed: 42 (any whole number 0 or more; the same seed gives the same run)",
        "name" => "name: my-scenario",
        "duration" => "duration: 7d",
        "workloads" => "workloads: with a list of Deployments, Jobs or DaemonSets",
        "policies" => "policies: with a list of the policies to run",
        _ => "",
    };
    let fix = if example.is_empty() {
        format!("add {field}: with its value at the top level of the file")
    } else {
        format!("add {example} at the top level of the file")
    };
    Some(ScenarioError::at(
        path,
        Some((first_key, 1)),
        field,
        None,
        format!("the file has no top-level `{field}`, which is required"),
        fix,
    ))
}

/// Checks whether `line` starts a key of the file's top-level block mapping: not indented, not
/// a comment, a list item or a document marker.
fn starts_top_level_key(line: &str) -> bool {
    !line.is_empty()
        && !line.starts_with([' ', '\t', '#', '-', '{', '['])
        && !line.starts_with("...")
        && line.contains(':')
}

/// Names the flow collection that `value` is written as: `a list` for `[...]`, `a mapping` for
/// `{...}`.
fn collection_kind(value: &str) -> Option<&'static str> {
    if value.starts_with('[') {
        Some("a list")
    } else if value.starts_with('{') {
        Some("a mapping")
    } else {
        None
    }
}

/// Returns the largest value of the integer type a parser message names (`invalid u32`).
fn integer_limit(message: &str) -> Option<u128> {
    match message {
        "invalid u16" => Some(u16::MAX.into()),
        "invalid u32" => Some(u32::MAX.into()),
        "invalid u64" => Some(u64::MAX.into()),
        "invalid i32" => Some(i32::MAX.unsigned_abs().into()),
        "invalid i64" => Some(i64::MAX.unsigned_abs().into()),
        _ => None,
    }
}

/// Checks whether `text` is a whole number without sign or decimals, such as `100000000000`,
/// above `limit`. A value in range fails for another reason, such as malformed YAML after it.
fn exceeds(text: &str, limit: u128) -> bool {
    let whole = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    // Only a number beyond u128 fails to parse, and it is above every limit.
    whole && text.parse::<u128>().map_or(true, |number| number > limit)
}

/// Rewords the parser's type names (`invalid u32`) as what the field expects.
fn describe_type_error(message: &str) -> String {
    let expected = match message {
        "invalid u16" | "invalid u32" | "invalid u64" => "expected a whole number zero or more",
        "invalid i32" | "invalid i64" => "expected a whole number",
        "invalid f64" | "invalid f32" => "expected a number",
        "invalid bool" => "expected true or false",
        _ => return message.to_string(),
    };
    format!("invalid value: {expected}")
}

/// Rewords the parser's type names in a snippet's caret line (`^ invalid u32`) the same way.
fn reword_type_names(line: &str) -> String {
    ["u16", "u32", "u64", "i32", "i64", "f64", "f32", "bool"]
        .iter()
        .find_map(|name| {
            let token = format!("invalid {name}");
            line.contains(&token).then(|| {
                let described = describe_type_error(&token);
                line.replace(&token, &described)
            })
        })
        .unwrap_or_else(|| line.to_string())
}

/// Drops the parser's own `error: line L column C: ` prefix, since the position is printed first.
/// Returns the line and column (both from 1) of the first tab at or after `line`, `column`.
fn first_tab_from(text: &str, line: u64, column: u64) -> Option<(u64, u64)> {
    let first_line = usize::try_from(line.checked_sub(1)?).ok()?;
    let first_column = usize::try_from(column.checked_sub(1)?).ok()?;
    text.lines()
        .enumerate()
        .skip(first_line)
        .find_map(|(index, content)| {
            let skip = if index == first_line { first_column } else { 0 };
            let offset = content.chars().skip(skip).position(|c| c == '\t')?;
            Some((index as u64 + 1, (skip + offset) as u64 + 1))
        })
}

pub(crate) fn strip_position_prefix(message: &str) -> &str {
    let Some(rest) = message.strip_prefix("error: line ") else {
        return message;
    };
    rest.split_once(": ").map_or(message, |(_, text)| text)
}
