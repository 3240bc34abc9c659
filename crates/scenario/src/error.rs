//! Scenario errors naming the file, line, column, field and value, with the fix.

use std::fmt;
use std::path::{Path, PathBuf};

/// An invalid scenario, or a file it refers to that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file at fault.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// Dotted path of the field, such as `policies[0].clusterAutoscaler.nodeGroups[1].maxSize`.
    pub field: Option<String>,
    /// The offending value as written.
    pub value: Option<String>,
    /// The problem.
    pub message: String,
    /// The fix: what to write instead.
    pub fix: Option<String>,
    /// Source excerpt with a caret, when the parser produced one.
    pub snippet: Option<String>,
}

impl ScenarioError {
    /// Creates an error about the whole file.
    pub fn file(file: &Path, message: impl Into<String>, fix: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            field: None,
            value: None,
            message: message.into(),
            fix: Some(fix.into()),
            snippet: None,
        }
    }

    /// Creates an error at a position.
    pub fn at(
        file: &Path,
        location: Option<(u64, u64)>,
        field: &str,
        value: Option<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        ScenarioError {
            file: file.to_path_buf(),
            line: location.map(|l| l.0),
            column: location.map(|l| l.1),
            field: Some(field.to_string()),
            value,
            message: message.into(),
            fix: Some(fix.into()),
            snippet: None,
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "field {field}")?;
            if let Some(value) = &self.value {
                write!(f, ", value {value:?}")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n  fix: {fix}")?;
        }
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Finds the key whose value starts at `line`:`column` (1-based) of `text`: the last `key:` before the
/// column, in block style (`    maxSize: 3`) or flow style (`{min: 1, maxSize: x}`).
pub(crate) fn key_before(text: &str, line: u64, column: u64) -> Option<String> {
    let source = text.lines().nth(line.checked_sub(1)? as usize)?;
    // The parser points at the colon itself when a key has no value (`workloads:` at the end).
    let column = column.checked_sub(1)? as usize;
    let take = if source.chars().nth(column) == Some(':') {
        column + 1
    } else {
        column
    };
    let before: String = source.chars().take(take).collect();
    let colon = before.trim_end().strip_suffix(':')?;
    // A list item's `- ` ends at the space, so a `-` inside a key such as
    // `karpenter.sh/do-not-disrupt` stays part of it.
    let start = colon.rfind(['{', ',', ' ']).map_or(0, |i| i + 1);
    let key = colon[start..]
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty()).then(|| key.to_string())
}

/// Returns the scalar written at `line`:`column` (1-based), for the value of a parser error.
/// In flow style (`{minSize: many, maxSize: 10}`) the scalar ends at the next `,` or `}`.
pub(crate) fn value_at(text: &str, line: u64, column: u64) -> Option<String> {
    let source = text.lines().nth(line.checked_sub(1)? as usize)?;
    let rest: String = source
        .chars()
        .skip(column.checked_sub(1)? as usize)
        .collect();
    if rest.starts_with(['[', '{']) {
        return flow_collection(&rest);
    }
    let in_flow = source
        .chars()
        .take(column as usize)
        .any(|c| c == '{' || c == '[');
    let end = if in_flow {
        rest.find([',', '}', ']'])
    } else {
        None
    }
    .unwrap_or(rest.len());
    let value = rest[..end].split(" #").next()?.trim();
    (!value.is_empty() && !value.ends_with(':'))
        .then(|| value.trim_matches(|c| c == '"' || c == '\'').to_string())
}

/// Returns the mapping key written at `line`:`column` (1-based), without its quotes, such as
/// `bad key` in `{"bad key": x}`. A plain key ends at a `:` followed by a space or the end of
/// the line, or at a `,` or `}` in flow style.
pub(crate) fn key_at(text: &str, line: u64, column: u64) -> Option<String> {
    let source = text.lines().nth(line.checked_sub(1)? as usize)?;
    let rest: String = source
        .chars()
        .skip(column.checked_sub(1)? as usize)
        .collect();
    if let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let inner = &rest[1..];
        return inner.find(quote).map(|end| inner[..end].to_string());
    }
    let chars: Vec<char> = rest.chars().collect();
    let end = chars
        .iter()
        .enumerate()
        .position(|(index, c)| {
            let key_end = *c == ':' && chars.get(index + 1).is_none_or(|next| *next == ' ');
            key_end || *c == ',' || *c == '}'
        })
        .unwrap_or(chars.len());
    let key: String = chars[..end].iter().collect();
    let key = key.trim();
    (!key.is_empty()).then(|| key.to_string())
}

/// Returns the flow collection (`[...]` or `{...}`) that `text` starts with, up to its closing
/// bracket, or the whole line when the collection goes on to another line.
fn flow_collection(text: &str) -> Option<String> {
    let mut depth = 0usize;
    for (index, c) in text.char_indices() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(text[..=index].to_string());
                }
            }
            _ => {}
        }
    }
    Some(text.trim_end().to_string())
}

/// Returns the path steps that the flow collections open on `line` before `column` (1-based)
/// add to the block path of [`path_at`], such as `.requests` at `cpu` in
/// `resources: {requests: {cpu: 1}}` or `[1]` at `1` in `values: [a, 1]`. The outermost
/// collection belongs to the line's block key, which the block path already ends with.
/// Collections opened on earlier lines are not followed.
pub(crate) fn flow_path_at(text: &str, line: u64, column: u64) -> String {
    /// An open flow collection: the last key seen in a mapping, or the item index in a list.
    enum Open {
        Mapping(String),
        List(usize),
    }
    let Some(source) = text.lines().nth(line.saturating_sub(1) as usize) else {
        return String::new();
    };
    let mut open: Vec<Open> = Vec::new();
    let mut steps: Vec<String> = Vec::new();
    let mut token = String::new();
    let mut quote: Option<char> = None;
    for c in source.chars().take(column.saturating_sub(1) as usize) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => token.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => {
                match open.last() {
                    Some(Open::Mapping(key)) => steps.push(format!(".{key}")),
                    Some(Open::List(index)) => steps.push(format!("[{index}]")),
                    None => {}
                }
                open.push(if c == '{' {
                    Open::Mapping(String::new())
                } else {
                    Open::List(0)
                });
                token.clear();
            }
            (None, '}' | ']') => {
                if open.pop().is_some() && !open.is_empty() {
                    steps.pop();
                }
                token.clear();
            }
            (None, ',') => {
                if let Some(Open::List(index)) = open.last_mut() {
                    *index += 1;
                }
                token.clear();
            }
            (None, ':') => {
                if let Some(Open::Mapping(key)) = open.last_mut() {
                    *key = token.trim().to_string();
                }
                token.clear();
            }
            (None, c) => token.push(c),
        }
    }
    // A position at an item of a flow list, such as `1` in `values: [a, 1]`, gets the item's
    // index.
    if let Some(Open::List(index)) = open.last() {
        steps.push(format!("[{index}]"));
    }
    steps.concat()
}

/// One step of a path in a YAML document: a mapping key or a sequence index.
enum Step {
    Key(String),
    Index(usize),
}

/// Reconstructs the block-style path to `line`:`column` (1-based) of `text`, such as
/// `workloads[0].template.spec.containers[0].env`. Only block structure is followed: inside a
/// flow collection (`{...}`, `[...]`) the path stops at the key that holds it.
pub(crate) fn path_at(text: &str, line: u64, column: u64) -> Option<String> {
    let mut stack: Vec<(usize, Step)> = Vec::new();
    for (number, source) in text.lines().enumerate().take(line as usize) {
        let source = if number + 1 == line as usize {
            // A position at a key's colon (`workloads:` without a value) keeps the key.
            let end = source
                .char_indices()
                .nth(column.saturating_sub(1) as usize)
                .map_or(source.len(), |(i, c)| if c == ':' { i + 1 } else { i });
            &source[..end]
        } else {
            source
        };
        let content = source.trim_start_matches(' ');
        if content.is_empty() && number + 1 == line as usize {
            // The position is the start of a key: its earlier siblings are not on the path.
            while stack.last().is_some_and(|(at, _)| *at >= source.len()) {
                stack.pop();
            }
            continue;
        }
        if content.is_empty() || content.starts_with('#') || content.starts_with("---") {
            continue;
        }
        let mut indent = source.len() - content.len();
        let mut rest = content;
        // One or more list markers (`- - key: x`), each opening an item one level deeper.
        while let Some(item) = rest.strip_prefix("- ").or((rest == "-").then_some("")) {
            while stack.last().is_some_and(|(at, _)| *at > indent) {
                stack.pop();
            }
            let next = match stack.last() {
                Some((at, Step::Index(i))) if *at == indent => {
                    let next = i + 1;
                    stack.pop();
                    next
                }
                _ => 0,
            };
            stack.push((indent, Step::Index(next)));
            let skipped = rest.len() - item.len();
            let spaces = item.len() - item.trim_start_matches(' ').len();
            indent += skipped + spaces;
            rest = item.trim_start_matches(' ');
        }
        if rest.starts_with(['{', '[', '"', '\'']) && !rest.contains(": ") {
            continue;
        }
        if let Some((key, _)) = rest.split_once(':')
            && !key.contains(['{', '[', ',', ' '])
            && !key.is_empty()
        {
            while stack.last().is_some_and(|(at, _)| *at >= indent) {
                stack.pop();
            }
            let key = key.trim_matches(|c| c == '"' || c == '\'');
            stack.push((indent, Step::Key(key.to_string())));
        }
    }
    let mut path = String::new();
    for (_, step) in &stack {
        match step {
            Step::Key(key) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Step::Index(i) => path.push_str(&format!("[{i}]")),
        }
    }
    (!path.is_empty()).then_some(path)
}

/// Returns the line and column (both from 1) of the first quote before `line` that opens a
/// quoted scalar and is not closed on its own line. YAML allows such a scalar to continue on
/// the next lines, but in a scenario it is almost always a missing closing quote.
pub(crate) fn unclosed_quote_before(text: &str, line: u64) -> Option<(u64, u64)> {
    let lines = usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX);
    text.lines()
        .take(lines)
        .enumerate()
        .find_map(|(index, content)| {
            let column = unclosed_quote_in(content)?;
            Some((index as u64 + 1, column as u64 + 1))
        })
}

/// Returns the character offset of a quote in `line` that opens a scalar and is not closed.
fn unclosed_quote_in(line: &str) -> Option<usize> {
    let chars: Vec<char> = line.chars().collect();
    let mut open: Option<(char, usize)> = None;
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        match open {
            // Inside double quotes a backslash escapes the next character.
            Some(('"', _)) if c == '\\' => index += 1,
            Some(('"', _)) if c == '"' => open = None,
            // Inside single quotes, '' is an escaped quote.
            Some(('\'', _)) if c == '\'' && chars.get(index + 1) == Some(&'\'') => index += 1,
            Some(('\'', _)) if c == '\'' => open = None,
            Some(_) => {}
            None if c == '#' && (index == 0 || chars[index - 1] == ' ') => return None,
            None if c == '"' || c == '\'' => {
                // A quote opens a scalar only where a value starts.
                let before = chars[..index].iter().rev().find(|c| **c != ' ');
                if matches!(before, None | Some(':' | '-' | '[' | '{' | ',' | '?')) {
                    open = Some((c, index));
                }
            }
            None => {}
        }
        index += 1;
    }
    open.map(|(_, at)| at)
}

#[cfg(test)]
mod path_tests {
    use super::path_at;

    const TEXT: &str = "name: x\nworkloads:\n  - kind: Deployment\n    metadata: {name: web}\n  - kind: Deployment\n    template:\n      spec:\n        containers:\n          - name: api\n            resources:\n              requests: {cpu: 1, memory: .nan}\n";

    #[test]
    fn block_paths() {
        assert_eq!(path_at(TEXT, 1, 7).as_deref(), Some("name"));
        assert_eq!(path_at(TEXT, 2, 1), None);
        assert_eq!(path_at(TEXT, 6, 5).as_deref(), Some("workloads[1]"));
        assert_eq!(
            path_at(TEXT, 4, 15).as_deref(),
            Some("workloads[0].metadata")
        );
        assert_eq!(path_at(TEXT, 5, 11).as_deref(), Some("workloads[1].kind"));
        assert_eq!(
            path_at(TEXT, 11, 40).as_deref(),
            Some("workloads[1].template.spec.containers[0].resources.requests")
        );
        assert_eq!(
            path_at(TEXT, 9, 19).as_deref(),
            Some("workloads[1].template.spec.containers[0].name")
        );
    }
}
