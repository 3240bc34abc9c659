//! Field paths of sweep axes, such as
//! `policies[karpenter].karpenter.nodePools[default].spec.disruption.consolidateAfter`, and the
//! edit that sets one in a scenario's YAML tree.

use std::fmt;

use serde_json::{Map, Value};

/// One step of a [`FieldPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// A mapping key, such as `spec`.
    Key(String),
    /// A list entry by position, from 0: `[0]`.
    Index(usize),
    /// A list entry by its `name`, `metadata.name` or `key` (`[default]`), a Cluster Autoscaler
    /// flag by its name (`[--scale-down-unneeded-time]`), or a mapping key that contains dots
    /// (`[kubernetes.io/arch]`).
    Select(String),
}

impl Segment {
    /// Returns the text between the brackets of a selector: quoted when it contains `]` or is
    /// all digits (which would read as a position).
    fn selector_text(&self) -> String {
        match self {
            Segment::Index(index) => index.to_string(),
            Segment::Key(name) | Segment::Select(name) => {
                if name.contains(']') || name.chars().all(|c| c.is_ascii_digit()) {
                    format!("\"{name}\"")
                } else {
                    name.clone()
                }
            }
        }
    }
}

/// A dotted path to a field of a scenario, with list entries chosen by `[index]` or `[name]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

/// The reason a path cannot be set in a scenario's tree, with its fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// The problem.
    pub message: String,
    /// The fix.
    pub fix: String,
}

/// Fix shown when a path does not match the scenario's shape.
const PATH_FIX: &str = "write the path as the scenario file nests it: keys separated by dots, list entries chosen by [index] or [name], such as policies[karpenter].karpenter.nodePools[default].spec.disruption.consolidateAfter";

impl FieldPath {
    /// Parses a path; returns the problem when `text` is not one.
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the field path is empty".into());
        }
        let mut segments = Vec::new();
        let mut chars = text.chars().peekable();
        loop {
            // A key, then any number of [selectors].
            let mut key = String::new();
            while let Some(&c) = chars.peek() {
                if c == '.' || c == '[' {
                    break;
                }
                if c == ']' {
                    return Err(format!("{text:?} has a ] without a ["));
                }
                key.push(c);
                chars.next();
            }
            if key.is_empty() && (segments.is_empty() || chars.peek() != Some(&'[')) {
                return Err(format!(
                    "{text:?} has an empty part; separate keys with single dots"
                ));
            }
            if !key.is_empty() {
                segments.push(Segment::Key(key));
            }
            while chars.peek() == Some(&'[') {
                chars.next();
                segments.push(parse_selector(&mut chars, text)?);
            }
            match chars.next() {
                None => break,
                Some('.') => {}
                Some(c) => {
                    return Err(format!(
                        "{text:?} has {c:?} after a ]; put a dot between a selector and the next key"
                    ));
                }
            }
        }
        Ok(FieldPath { segments })
    }

    /// Returns the steps of the path.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Checks whether `other` is this path or lies inside it.
    pub fn contains(&self, other: &FieldPath) -> bool {
        other.segments.starts_with(&self.segments)
    }

    /// Returns the short name of the path's last step, used as the axis name when the sweep
    /// file gives none: `consolidateAfter`, or `scale-down-unneeded-time` for a flag.
    pub fn default_name(&self) -> String {
        match self.segments.last() {
            Some(Segment::Key(key)) => key.clone(),
            Some(Segment::Select(name)) => name.trim_start_matches('-').to_string(),
            Some(Segment::Index(index)) => {
                let parent = FieldPath {
                    segments: self.segments[..self.segments.len() - 1].to_vec(),
                };
                format!("{}-{index}", parent.default_name())
            }
            None => String::new(),
        }
    }

    /// Renders the first `len` segments.
    fn prefix(&self, len: usize) -> String {
        FieldPath {
            segments: self.segments[..len].to_vec(),
        }
        .to_string()
    }

    /// Returns the path in its canonical form for `tree`: list entries chosen by their name
    /// where the entry has a name no other entry shares, else by position, and mapping entries
    /// as keys. So `policies[1].karpenter.nodePools[0]` and
    /// `policies[karpenter].karpenter.nodePools[default]` are one path. Steps below a part the
    /// tree lacks are kept as written.
    pub fn canonical(&self, tree: &Value) -> FieldPath {
        let mut node = Some(tree);
        let mut segments = Vec::with_capacity(self.segments.len());
        for segment in &self.segments {
            let (canonical, next) = match (segment, node) {
                (Segment::Key(key) | Segment::Select(key), Some(Value::Object(map))) => {
                    (Segment::Key(key.clone()), map.get(key))
                }
                (Segment::Index(index), Some(Value::Array(items))) => {
                    let item = items.get(*index);
                    let name = item.and_then(entry_name).filter(|name| {
                        items.iter().filter(|i| entry_name(i) == Some(name)).count() == 1
                    });
                    match name {
                        Some(name) => (Segment::Select(name.to_string()), item),
                        None => (segment.clone(), item),
                    }
                }
                (Segment::Select(name), Some(Value::Array(items))) => (
                    segment.clone(),
                    items.iter().find(|i| entry_name(i) == Some(name.as_str())),
                ),
                _ => (segment.clone(), None),
            };
            segments.push(canonical);
            node = next;
        }
        FieldPath { segments }
    }

    /// Sets the field at this path in `tree` to `value`. Missing mapping keys on the way are
    /// created, so that optional sections absent from the scenario can be swept. Whether the
    /// scenario accepts them is checked when the result is built. A flag selector sets the flag
    /// `--name=value` in a list of flags, and adds it when absent.
    pub fn set(&self, tree: &mut Value, value: Value) -> Result<(), PathError> {
        let mut node = tree;
        // The first key that the scenario did not have, for messages about later steps.
        let mut first_missing: Option<usize> = None;
        for (position, segment) in self.segments.iter().enumerate() {
            let last = position + 1 == self.segments.len();
            let parent_path = self.prefix(position);
            let not_in_scenario = |at: usize| PathError {
                message: format!(
                    "{} is not in the scenario, so {} cannot be chosen in it",
                    self.prefix(first_missing.unwrap_or(at) + 1),
                    self.prefix(position + 1)
                ),
                fix: "check the spelling, or add the section to the scenario first".into(),
            };
            node = match segment {
                Segment::Key(key) => {
                    let map = as_mapping(node, &parent_path, key)?;
                    if last {
                        map.insert(key.clone(), value);
                        return Ok(());
                    }
                    if !map.contains_key(key) {
                        first_missing.get_or_insert(position);
                    }
                    map.entry(key.clone()).or_insert(Value::Null)
                }
                Segment::Index(index) => match node {
                    Value::Array(items) => {
                        let count = items.len();
                        let Some(item) = items.get_mut(*index) else {
                            return Err(PathError {
                                message: format!(
                                    "{parent_path} has {count} entries, so [{index}] does not exist"
                                ),
                                fix: if count == 0 {
                                    "sweep a field of an entry the scenario has".into()
                                } else {
                                    format!(
                                        "use an index from 0 to {}, or choose the entry by name such as [default]",
                                        count - 1
                                    )
                                },
                            });
                        };
                        if last {
                            *item = value;
                            return Ok(());
                        }
                        item
                    }
                    Value::Null => return Err(not_in_scenario(position)),
                    other => {
                        return Err(PathError {
                            message: format!(
                                "{parent_path} is {}, not a list, so [{index}] does not apply",
                                describe(other)
                            ),
                            fix: PATH_FIX.into(),
                        });
                    }
                },
                Segment::Select(name) if name.starts_with("--") => {
                    if !last {
                        return Err(PathError {
                            message: format!(
                                "[{name}] chooses a Cluster Autoscaler flag, so nothing can follow it in {self}"
                            ),
                            fix: "end the path at the flag, such as policies[cluster-autoscaler].clusterAutoscaler.flags[--scale-down-unneeded-time]".into(),
                        });
                    }
                    return set_flag(node, &parent_path, name, value);
                }
                Segment::Select(name) => match node {
                    Value::Object(map) => {
                        if last {
                            map.insert(name.clone(), value);
                            return Ok(());
                        }
                        if !map.contains_key(name) {
                            first_missing.get_or_insert(position);
                        }
                        map.entry(name.clone()).or_insert(Value::Null)
                    }
                    Value::Array(items) => {
                        let matches: Vec<usize> = items
                            .iter()
                            .enumerate()
                            .filter(|(_, item)| entry_name(item) == Some(name.as_str()))
                            .map(|(i, _)| i)
                            .collect();
                        match matches[..] {
                            [one] => {
                                if last {
                                    items[one] = value;
                                    return Ok(());
                                }
                                &mut items[one]
                            }
                            [] => {
                                let names: Vec<&str> =
                                    items.iter().filter_map(entry_name).collect();
                                return Err(PathError {
                                    message: if names.is_empty() {
                                        format!("{parent_path} has no entry named {name}")
                                    } else {
                                        format!(
                                            "{parent_path} has no entry named {name}; its entries are {}",
                                            names.join(", ")
                                        )
                                    },
                                    fix: "use one of those names, or an index such as [0]".into(),
                                });
                            }
                            _ => {
                                return Err(PathError {
                                    message: format!(
                                        "{parent_path} has {} entries named {name}",
                                        matches.len()
                                    ),
                                    fix: format!(
                                        "choose one by index: {}",
                                        matches
                                            .iter()
                                            .map(|i| format!("[{i}]"))
                                            .collect::<Vec<_>>()
                                            .join(" or ")
                                    ),
                                });
                            }
                        }
                    }
                    Value::Null => return Err(not_in_scenario(position)),
                    other => {
                        return Err(PathError {
                            message: format!(
                                "{parent_path} is {}, so it has no entry {name}",
                                describe(other)
                            ),
                            fix: PATH_FIX.into(),
                        });
                    }
                },
            };
        }
        unreachable!("a parsed path has at least one segment")
    }
}

/// Parses the selector after a `[`, through its `]`.
fn parse_selector(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    text: &str,
) -> Result<Segment, String> {
    let quoted = chars.peek() == Some(&'"');
    if quoted {
        chars.next();
    }
    let mut content = String::new();
    loop {
        match chars.next() {
            None => return Err(format!("{text:?} has a [ without a ]")),
            Some('"') if quoted => {
                if chars.next() != Some(']') {
                    return Err(format!("{text:?} has a quoted selector not followed by ]"));
                }
                break;
            }
            Some(']') if !quoted => break,
            Some(c) => content.push(c),
        }
    }
    let content = if quoted {
        content
    } else {
        content.trim().to_string()
    };
    if content.is_empty() {
        return Err(format!(
            "{text:?} has an empty []; write an index such as [0] or a name such as [default]"
        ));
    }
    if !quoted && content.chars().all(|c| c.is_ascii_digit()) {
        return content
            .parse()
            .map(Segment::Index)
            .map_err(|_| format!("{text:?} has an index too large: [{content}]"));
    }
    Ok(Segment::Select(content))
}

/// Returns `node` as a mapping to look `key` up in; an absent (null) node becomes an empty one.
fn as_mapping<'a>(
    node: &'a mut Value,
    parent_path: &str,
    key: &str,
) -> Result<&'a mut Map<String, Value>, PathError> {
    if node.is_null() {
        *node = Value::Object(Map::new());
    }
    match node {
        Value::Object(map) => Ok(map),
        other => Err(PathError {
            message: format!(
                "{parent_path} is {}, so it has no field {key}",
                describe(other)
            ),
            fix: PATH_FIX.into(),
        }),
    }
}

/// Returns the name a list entry is chosen by: its `name`, its `metadata.name`, or its `key`
/// (the requirements of a NodePool).
pub(crate) fn entry_name(item: &Value) -> Option<&str> {
    item.get("name")
        .and_then(Value::as_str)
        .or_else(|| item.pointer("/metadata/name").and_then(Value::as_str))
        .or_else(|| item.get("key").and_then(Value::as_str))
}

/// Sets `--name=value` in the list of flags `node`, replacing the flag or adding it.
fn set_flag(
    node: &mut Value,
    parent_path: &str,
    name: &str,
    value: Value,
) -> Result<(), PathError> {
    let text = match &value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        _ => {
            return Err(PathError {
                message: format!("the value of flag {name} must be one value such as 10m"),
                fix: "list single values, such as values: [1m, 10m]".into(),
            });
        }
    };
    if node.is_null() {
        *node = Value::Array(Vec::new());
    }
    let Value::Array(flags) = node else {
        return Err(PathError {
            message: format!(
                "{parent_path} is {}, not a list of flags, so [{name}] does not apply",
                describe(node)
            ),
            fix: PATH_FIX.into(),
        });
    };
    let flag = Value::String(format!("{name}={text}"));
    let prefix = format!("{name}=");
    let existing = flags.iter().position(|f| {
        f.as_str()
            .is_some_and(|f| f == name || f.starts_with(&prefix))
    });
    match existing {
        Some(index) => flags[index] = flag,
        None => flags.push(flag),
    }
    Ok(())
}

/// Describes the kind of a YAML node for messages.
fn describe(node: &Value) -> &'static str {
    match node {
        Value::Null => "empty",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a text value",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Key(key) if key.contains(['.', '[', ']']) => {
                    write!(f, "[{}]", Segment::Select(key.clone()).selector_text())?
                }
                Segment::Key(key) if position == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Select(_) => write!(f, "[{}]", segment.selector_text())?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(text: &str) -> FieldPath {
        FieldPath::parse(text).unwrap()
    }

    fn scenario() -> Value {
        json!({
            "seed": 1,
            "policies": [
                {"name": "cluster-autoscaler", "clusterAutoscaler": {
                    "flags": ["--expander=least-waste", "--scale-down-unneeded-time=10m"],
                    "nodeGroups": [{"name": "general", "maxSize": 10}]}},
                {"name": "karpenter", "karpenter": {"nodePools": [
                    {"metadata": {"name": "default"}, "spec": {
                        "template": {"spec": {"requirements": [
                            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}},
                        "disruption": {"consolidateAfter": "0s"}}}]}},
            ],
        })
    }

    #[test]
    fn parse_keys_indexes_names() {
        let parsed = path("policies[1].karpenter.nodePools[default].spec");

        assert_eq!(
            parsed.segments(),
            [
                Segment::Key("policies".into()),
                Segment::Index(1),
                Segment::Key("karpenter".into()),
                Segment::Key("nodePools".into()),
                Segment::Select("default".into()),
                Segment::Key("spec".into()),
            ]
        );
    }

    #[test]
    fn parse_quoted_and_dotted_selectors() {
        let parsed = path(r#"nodeSelector["kubernetes.io/arch"].x["7"]"#);

        assert_eq!(
            parsed.segments(),
            [
                Segment::Key("nodeSelector".into()),
                Segment::Select("kubernetes.io/arch".into()),
                Segment::Key("x".into()),
                Segment::Select("7".into()),
            ]
        );
        assert_eq!(
            parsed.to_string(),
            r#"nodeSelector[kubernetes.io/arch].x["7"]"#
        );
        assert_eq!(FieldPath::parse(&parsed.to_string()).unwrap(), parsed);
    }

    #[test]
    fn parse_rejects_malformed_paths() {
        for (text, expected) in [
            ("", "empty"),
            ("a..b", "empty part"),
            (".a", "empty part"),
            ("a.", "empty part"),
            ("a[0", "[ without a ]"),
            ("a]", "] without a ["),
            ("a[]", "empty []"),
            ("a[0]b", "after a ]"),
            ("a[99999999999999999999999]", "too large"),
        ] {
            let error = FieldPath::parse(text).unwrap_err();

            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn default_names() {
        assert_eq!(
            path("policies[karpenter].karpenter.nodePools[0].spec.disruption.consolidateAfter")
                .default_name(),
            "consolidateAfter"
        );
        assert_eq!(
            path(
                "policies[cluster-autoscaler].clusterAutoscaler.flags[--scale-down-unneeded-time]"
            )
            .default_name(),
            "scale-down-unneeded-time"
        );
        assert_eq!(path("workloads[0]").default_name(), "workloads-0");
    }

    #[test]
    fn set_by_name_and_index() {
        let mut tree = scenario();

        path("policies[karpenter].karpenter.nodePools[default].spec.disruption.consolidateAfter")
            .set(&mut tree, json!("5m"))
            .unwrap();
        path("policies[0].clusterAutoscaler.nodeGroups[general].maxSize")
            .set(&mut tree, json!(20))
            .unwrap();
        path("policies[karpenter].karpenter.nodePools[0].spec.template.spec.requirements[kubernetes.io/arch].values")
            .set(&mut tree, json!(["arm64"]))
            .unwrap();

        assert_eq!(
            tree.pointer("/policies/1/karpenter/nodePools/0/spec/disruption/consolidateAfter"),
            Some(&json!("5m"))
        );
        assert_eq!(
            tree.pointer("/policies/0/clusterAutoscaler/nodeGroups/0/maxSize"),
            Some(&json!(20))
        );
        assert_eq!(
            tree.pointer(
                "/policies/1/karpenter/nodePools/0/spec/template/spec/requirements/0/values"
            ),
            Some(&json!(["arm64"]))
        );
    }

    #[test]
    fn set_creates_missing_sections() {
        let mut tree = scenario();

        path("cloud.spot.volatility")
            .set(&mut tree, json!(0.2))
            .unwrap();

        assert_eq!(tree.pointer("/cloud/spot/volatility"), Some(&json!(0.2)));
    }

    #[test]
    fn set_flag_replaces_or_adds() {
        let mut tree = scenario();
        let flags = "policies[cluster-autoscaler].clusterAutoscaler.flags";

        path(&format!("{flags}[--scale-down-unneeded-time]"))
            .set(&mut tree, json!("5m"))
            .unwrap();
        path(&format!("{flags}[--max-nodes-total]"))
            .set(&mut tree, json!(40))
            .unwrap();

        assert_eq!(
            tree.pointer("/policies/0/clusterAutoscaler/flags"),
            Some(&json!([
                "--expander=least-waste",
                "--scale-down-unneeded-time=5m",
                "--max-nodes-total=40"
            ]))
        );
    }

    #[test]
    fn set_errors_name_the_step() {
        for (text, expected) in [
            (
                "policies[spot].karpenter",
                "policies has no entry named spot; its entries are cluster-autoscaler, karpenter",
            ),
            (
                "policies[5].name",
                "policies has 2 entries, so [5] does not exist",
            ),
            ("seed.value", "seed is a number, so it has no field value"),
            (
                "policies[karpenter].karpentr.nodePools[default].spec",
                "policies[karpenter].karpentr is not in the scenario",
            ),
            (
                "policies[0].clusterAutoscaler.flags[--scan-interval].x",
                "nothing can follow it",
            ),
            ("seed[0]", "seed is a number, not a list"),
        ] {
            let mut tree = scenario();

            let error = path(text).set(&mut tree, json!("1m")).unwrap_err();

            assert!(
                error.message.contains(expected),
                "{text}: {}",
                error.message
            );
        }
    }

    #[test]
    fn canonical_uses_unique_names() {
        let tree = scenario();

        let by_position =
            path("policies[1].karpenter.nodePools[0].spec.template.spec.requirements[0].values")
                .canonical(&tree);
        let by_name = path(
            "policies[karpenter].karpenter.nodePools[default].spec.template.spec.requirements[kubernetes.io/arch].values",
        )
        .canonical(&tree);
        let quoted_key =
            path(r#"policies[0]["clusterAutoscaler"].nodeGroups[general]"#).canonical(&tree);

        assert_eq!(by_position, by_name);
        assert_eq!(
            by_name.to_string(),
            "policies[karpenter].karpenter.nodePools[default].spec.template.spec.requirements[kubernetes.io/arch].values"
        );
        assert_eq!(
            quoted_key.to_string(),
            "policies[cluster-autoscaler].clusterAutoscaler.nodeGroups[general]"
        );
        assert_eq!(
            path("a.b").canonical(&json!({"a": {"b.c": 1}})).to_string(),
            "a.b"
        );
        assert_eq!(
            path("a[b.c]")
                .canonical(&json!({"a": {"b.c": 1}}))
                .to_string(),
            "a[b.c]"
        );
    }

    #[test]
    fn containment() {
        let outer = path("policies[karpenter].karpenter");
        let inner = path("policies[karpenter].karpenter.nodePools[0]");

        assert!(outer.contains(&inner));
        assert!(outer.contains(&outer));
        assert!(!inner.contains(&outer));
    }
}
