//! Loading traces from CSV files with the header `timestamp_seconds,value`.

use std::path::{Path, PathBuf};

use autoscale_sim_engine::SimDuration;

use super::{Trace, TraceDataError};

/// The only accepted header row.
const HEADER: [&str; 2] = ["timestamp_seconds", "value"];

/// Largest integer that an f64 stores exactly (2^53), the limit for timestamps written as `60.0`.
const MAX_EXACT_F64_INTEGER: f64 = 9_007_199_254_740_992.0;

/// An invalid load trace file, with the place and the fix.
///
/// Displays as `traces/x.csv:12:5: invalid load trace, column value, value "abc": expected a
/// finite number zero or more`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct TraceError {
    /// The trace file.
    pub file: PathBuf,
    /// 1-based line, or 0 when the whole file is at fault.
    pub line: u64,
    /// 1-based column in characters, when one cell is at fault.
    pub column: Option<usize>,
    /// The CSV column name (`timestamp_seconds` or `value`), when one column is at fault.
    pub field: Option<String>,
    /// The rejected cell or line text.
    pub value: Option<String>,
    /// Description of the problem and of what to write instead.
    pub message: String,
}

impl TraceError {
    fn render(&self) -> String {
        let mut text = self.file.display().to_string();
        if self.line > 0 {
            text.push_str(&format!(":{}", self.line));
            if let Some(column) = self.column {
                text.push_str(&format!(":{column}"));
            }
        }
        text.push_str(": invalid load trace");
        if let Some(field) = &self.field {
            text.push_str(&format!(", column {field}"));
        }
        if let Some(value) = &self.value {
            text.push_str(&format!(", value {value:?}"));
        }
        text.push_str(&format!(": {}", self.message));
        text
    }
}

impl Trace {
    /// Loads a trace from a CSV file and multiplies every value by `value_scale`.
    ///
    /// See [`Trace::from_csv_str`] for the format.
    pub fn from_csv_path(path: &Path, value_scale: f64) -> Result<Trace, TraceError> {
        let text = std::fs::read_to_string(path).map_err(|e| TraceError {
            file: path.to_path_buf(),
            line: 0,
            column: None,
            field: None,
            value: None,
            message: format!("failed to read the file: {e}"),
        })?;
        Trace::from_csv_str(&text, path, value_scale)
    }

    /// Parses trace CSV text and multiplies every value by `value_scale`. The `file` path is
    /// used only in error messages.
    ///
    /// The first line is the header `timestamp_seconds,value`, and each row after it is a
    /// timestamp in whole seconds and a load value that is finite and zero or more. A timestamp
    /// may be written as a decimal, such as `60.0`, when it is a whole number. Timestamps must
    /// increase in equal steps, and the spacing of the first two rows becomes the trace step,
    /// so a file needs at least two rows. The first timestamp becomes t = 0 and is kept as
    /// [`Trace::first_timestamp_secs`].
    pub fn from_csv_str(text: &str, file: &Path, value_scale: f64) -> Result<Trace, TraceError> {
        let errors = ErrorContext { file };
        if !value_scale.is_finite() || value_scale < 0.0 {
            return Err(errors.whole_file(format!(
                "invalid value scale {value_scale}: expected a finite number zero or more"
            )));
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Err(errors.whole_file(
                "the file is empty; expected the header timestamp_seconds,value and one row per step"
                    .into(),
            ));
        }

        // The header is read as an ordinary record so that its errors carry a line number.
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let header = next_record(&mut records, &errors)?;
        check_header(&header, &errors)?;

        // Each row: parse both cells, then check that the timestamp keeps the spacing.
        let mut spacing = Spacing::default();
        let mut values = Vec::new();
        while let Some(record) = next_record_or_end(&mut records, &errors)? {
            let row = Row::parse(&record, value_scale, &errors)?;
            spacing.check(&row, &errors)?;
            values.push(row.value);
        }

        let step = spacing.step(&errors)?;
        let mut trace = Trace::new(step, values).map_err(|e| errors.data_error(e))?;
        trace.first_timestamp_secs = spacing.first.map_or(0, |first| first.secs);
        Ok(trace)
    }
}

/// Builds errors that name one file.
struct ErrorContext<'a> {
    file: &'a Path,
}

impl ErrorContext<'_> {
    fn whole_file(&self, message: String) -> TraceError {
        self.at_line(0, message)
    }

    fn at_line(&self, line: u64, message: String) -> TraceError {
        TraceError {
            file: self.file.to_path_buf(),
            line,
            column: None,
            field: None,
            value: None,
            message,
        }
    }

    fn at_cell(&self, cell: &Cell<'_>, message: String) -> TraceError {
        TraceError {
            file: self.file.to_path_buf(),
            line: cell.line,
            column: Some(cell.column),
            field: Some(cell.field.to_string()),
            value: Some(cell.text.to_string()),
            message,
        }
    }

    fn data_error(&self, error: TraceDataError) -> TraceError {
        self.whole_file(error.to_string())
    }

    fn csv_error(&self, error: &csv::Error) -> TraceError {
        let line = error.position().map_or(0, |p| p.line());
        self.at_line(line, format!("invalid CSV: {error}"))
    }
}

fn next_record(
    records: &mut csv::StringRecordsIter<'_, &[u8]>,
    errors: &ErrorContext<'_>,
) -> Result<csv::StringRecord, TraceError> {
    next_record_or_end(records, errors)?.ok_or_else(|| {
        errors
            .whole_file("the file has no lines; expected the header timestamp_seconds,value".into())
    })
}

fn next_record_or_end(
    records: &mut csv::StringRecordsIter<'_, &[u8]>,
    errors: &ErrorContext<'_>,
) -> Result<Option<csv::StringRecord>, TraceError> {
    records.next().transpose().map_err(|e| errors.csv_error(&e))
}

fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

fn check_header(header: &csv::StringRecord, errors: &ErrorContext<'_>) -> Result<(), TraceError> {
    let found: Vec<&str> = header.iter().map(str::trim).collect();
    if found == HEADER {
        return Ok(());
    }

    let line_text = header.iter().collect::<Vec<_>>().join(",");
    let looks_like_data = found
        .first()
        .is_some_and(|first| parse_timestamp(first).is_some());
    let message = if looks_like_data {
        "the header is missing; add the line timestamp_seconds,value before the first row"
    } else {
        "invalid header; expected exactly timestamp_seconds,value"
    };
    let mut error = errors.at_line(line_of(header), message.into());
    error.value = Some(line_text);
    Err(error)
}

/// One CSV cell and where it sits, for error messages.
struct Cell<'a> {
    line: u64,
    column: usize,
    field: &'static str,
    text: &'a str,
}

/// A parsed data row.
struct Row {
    line: u64,
    secs: u64,
    /// The timestamp cell as written, for error messages.
    secs_text: String,
    value: f64,
}

impl Row {
    fn timestamp_cell(&self) -> Cell<'_> {
        Cell {
            line: self.line,
            column: 1,
            field: HEADER[0],
            text: &self.secs_text,
        }
    }
}

impl Row {
    fn parse(
        record: &csv::StringRecord,
        value_scale: f64,
        errors: &ErrorContext<'_>,
    ) -> Result<Row, TraceError> {
        let line = line_of(record);
        if record.len() != 2 {
            let mut error = errors.at_line(
                line,
                format!(
                    "expected 2 fields, timestamp_seconds and value, but the row has {}",
                    record.len()
                ),
            );
            error.value = Some(record.iter().collect::<Vec<_>>().join(","));
            return Err(error);
        }

        // Columns count characters of the raw line, so a quoted cell shifts them by its quotes.
        let timestamp = Cell {
            line,
            column: 1,
            field: HEADER[0],
            text: &record[0],
        };
        let value = Cell {
            line,
            column: record[0].chars().count() + 2,
            field: HEADER[1],
            text: &record[1],
        };

        let secs = parse_timestamp(timestamp.text.trim()).ok_or_else(|| {
            errors.at_cell(
                &timestamp,
                "expected a whole number of seconds, zero or more".into(),
            )
        })?;
        let value = parse_value(&value, value_scale, errors)?;
        Ok(Row {
            line,
            secs,
            secs_text: timestamp.text.to_string(),
            value,
        })
    }
}

/// Parses whole seconds written as an integer (`60`) or as a decimal with no fraction (`60.0`).
fn parse_timestamp(text: &str) -> Option<u64> {
    if let Ok(secs) = text.parse::<u64>() {
        return Some(secs);
    }
    let secs: f64 = text.parse().ok()?;
    let whole = secs.is_finite() && secs >= 0.0 && secs.fract() == 0.0;
    (whole && secs <= MAX_EXACT_F64_INTEGER).then_some(secs as u64)
}

fn parse_value(
    cell: &Cell<'_>,
    value_scale: f64,
    errors: &ErrorContext<'_>,
) -> Result<f64, TraceError> {
    let value: f64 = cell
        .text
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| errors.at_cell(cell, "expected a finite number zero or more".into()))?;

    let scaled = value * value_scale;
    if !scaled.is_finite() {
        return Err(errors.at_cell(
            cell,
            format!("the value times the value scale {value_scale} is too large for an f64"),
        ));
    }
    Ok(scaled)
}

/// Tracks the timestamps seen so far and checks that each row keeps the first spacing.
#[derive(Default)]
struct Spacing {
    first: Option<Timestamp>,
    previous: Option<Timestamp>,
    step_secs: Option<u64>,
}

/// A row's timestamp and line.
#[derive(Clone, Copy)]
struct Timestamp {
    line: u64,
    secs: u64,
}

impl Spacing {
    fn check(&mut self, row: &Row, errors: &ErrorContext<'_>) -> Result<(), TraceError> {
        let current = Timestamp {
            line: row.line,
            secs: row.secs,
        };
        let Some(previous) = self.previous else {
            self.first = Some(current);
            self.previous = Some(current);
            return Ok(());
        };

        let order_error = if row.secs == previous.secs {
            Some(format!(
                "duplicated timestamp: line {} has the same one; timestamps must be strictly increasing",
                previous.line
            ))
        } else if row.secs < previous.secs {
            Some(format!(
                "timestamp out of order: it is earlier than {} on line {}; sort the rows by timestamp",
                previous.secs, previous.line
            ))
        } else {
            None
        };
        if let Some(message) = order_error {
            return Err(errors.at_cell(&row.timestamp_cell(), message));
        }

        let step = *self.step_secs.get_or_insert(row.secs - previous.secs);
        let expected = previous.secs.saturating_add(step);
        if row.secs != expected {
            return Err(errors.at_cell(
                &row.timestamp_cell(),
                format!(
                    "uneven spacing: expected the next timestamp {expected}, because the first two rows are {step} s apart; fill the gap or resample the file to one interval"
                ),
            ));
        }
        self.previous = Some(current);
        Ok(())
    }

    /// Returns the step set by the first two rows, or an error when fewer than two were read.
    fn step(&self, errors: &ErrorContext<'_>) -> Result<SimDuration, TraceError> {
        let rows = match (self.first, self.step_secs) {
            (None, _) => "no rows",
            (Some(_), None) => "only one row",
            (Some(_), Some(secs)) => {
                return secs.checked_mul(1000).map(SimDuration).ok_or_else(|| {
                    errors.whole_file(format!(
                        "the rows are {secs} s apart, which is too large a step to count in milliseconds"
                    ))
                });
            }
        };
        Err(errors.whole_file(format!(
            "the file has {rows}; expected at least two rows, because the spacing of the first two timestamps sets the step"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceEnd;

    fn parse(text: &str) -> Result<Trace, TraceError> {
        Trace::from_csv_str(text, Path::new("traces/x.csv"), 1.0)
    }

    fn rejection(text: &str) -> TraceError {
        parse(text).expect_err("the text should be rejected")
    }

    #[test]
    fn csv_loads_values_and_step() {
        let trace = parse("timestamp_seconds,value\n0,42\n60,61\n120,57\n").unwrap();

        assert_eq!(trace.step(), SimDuration::from_secs(60));
        assert_eq!(trace.values(), &[42.0, 61.0, 57.0]);
        assert_eq!(trace.first_timestamp_secs(), 0);
        assert_eq!(trace.end(), TraceEnd::Loop);
    }

    #[test]
    fn csv_subtracts_first_timestamp() {
        let trace = parse("timestamp_seconds,value\n3600,1\n3900,2\n4200,3\n").unwrap();

        assert_eq!(trace.first_timestamp_secs(), 3600);
        assert_eq!(trace.step(), SimDuration::from_mins(5));
        assert_eq!(trace.duration(), SimDuration::from_mins(15));
    }

    #[test]
    fn csv_accepts_integral_decimals_spaces_and_bom() {
        let trace = parse("\u{feff}timestamp_seconds, value\r\n0.0, 1.5\r\n60.0 ,2e1\r\n").unwrap();

        assert_eq!(trace.step(), SimDuration::from_secs(60));
        assert_eq!(trace.values(), &[1.5, 20.0]);
    }

    #[test]
    fn csv_applies_value_scale() {
        let text = "timestamp_seconds,value\n0,100\n60,300\n";

        let trace = Trace::from_csv_str(text, Path::new("t.csv"), 0.05).unwrap();

        assert_eq!(trace.values(), &[5.0, 15.0]);
    }

    #[test]
    fn csv_rejects_non_numeric_value_with_place() {
        let error = rejection("timestamp_seconds,value\n0,1\n60,abc\n");

        assert_eq!(error.line, 3);
        assert_eq!(error.column, Some(4));
        assert_eq!(error.field.as_deref(), Some("value"));
        assert_eq!(error.value.as_deref(), Some("abc"));
        assert_eq!(
            error.to_string(),
            "traces/x.csv:3:4: invalid load trace, column value, value \"abc\": expected a finite number zero or more"
        );
    }

    #[test]
    fn csv_rejects_nan_infinite_and_negative_values() {
        for bad in ["NaN", "inf", "-inf", "-1", "-0.5", ""] {
            let error = rejection(&format!("timestamp_seconds,value\n0,1\n60,{bad}\n"));
            assert_eq!(error.line, 3, "{bad:?}");
            assert_eq!(error.field.as_deref(), Some("value"), "{bad:?}");
            assert_eq!(error.value.as_deref(), Some(bad), "{bad:?}");
        }
    }

    #[test]
    fn csv_rejects_empty_file() {
        for empty in ["", "  \n\n", "\u{feff}"] {
            let error = rejection(empty);
            assert_eq!(error.line, 0);
            assert_eq!(
                error.to_string(),
                "traces/x.csv: invalid load trace: the file is empty; expected the header timestamp_seconds,value and one row per step"
            );
        }
    }

    #[test]
    fn csv_rejects_missing_header() {
        let error = rejection("0,42\n60,61\n");

        assert_eq!(error.line, 1);
        assert_eq!(error.value.as_deref(), Some("0,42"));
        assert!(error.message.contains("the header is missing"), "{error}");
    }

    #[test]
    fn csv_rejects_other_header() {
        for header in [
            "time,value",
            "timestamp_seconds,value,extra",
            "value,timestamp_seconds",
        ] {
            let error = rejection(&format!("{header}\n0,1\n60,2\n"));
            assert_eq!(error.line, 1, "{header}");
            assert_eq!(error.value.as_deref(), Some(header), "{header}");
            assert_eq!(
                error.message, "invalid header; expected exactly timestamp_seconds,value",
                "{header}"
            );
        }
    }

    #[test]
    fn csv_rejects_bad_timestamps() {
        for bad in ["60.5", "-60", "abc", "1e400", ""] {
            let error = rejection(&format!("timestamp_seconds,value\n0,1\n{bad},2\n"));
            assert_eq!(error.line, 3, "{bad:?}");
            assert_eq!(error.column, Some(1), "{bad:?}");
            assert_eq!(error.field.as_deref(), Some("timestamp_seconds"), "{bad:?}");
            assert_eq!(
                error.message, "expected a whole number of seconds, zero or more",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn csv_rejects_wrong_field_count() {
        let error = rejection("timestamp_seconds,value\n0,1\n60,2,3\n");

        assert_eq!(error.line, 3);
        assert_eq!(error.value.as_deref(), Some("60,2,3"));
        assert_eq!(
            error.message,
            "expected 2 fields, timestamp_seconds and value, but the row has 3"
        );
    }

    #[test]
    fn csv_rejects_out_of_order_timestamp() {
        let error = rejection("timestamp_seconds,value\n60,1\n120,2\n0,3\n");

        assert_eq!(error.line, 4);
        assert_eq!(error.value.as_deref(), Some("0"));
        assert_eq!(
            error.to_string(),
            "traces/x.csv:4:1: invalid load trace, column timestamp_seconds, value \"0\": timestamp out of order: it is earlier than 120 on line 3; sort the rows by timestamp"
        );
    }

    #[test]
    fn csv_rejects_duplicated_timestamp() {
        let error = rejection("timestamp_seconds,value\n0,1\n60,2\n60,3\n");

        assert_eq!(error.line, 4);
        assert_eq!(
            error.message,
            "duplicated timestamp: line 3 has the same one; timestamps must be strictly increasing"
        );
    }

    #[test]
    fn csv_rejects_duplicated_first_timestamps() {
        let error = rejection("timestamp_seconds,value\n0,1\n0,2\n");

        assert_eq!(error.line, 3);
        assert!(error.message.starts_with("duplicated timestamp"), "{error}");
    }

    #[test]
    fn csv_rejects_uneven_spacing_with_expected_timestamp() {
        let error = rejection("timestamp_seconds,value\n0,1\n60,2\n180,3\n");

        assert_eq!(error.line, 4);
        assert_eq!(error.value.as_deref(), Some("180"));
        assert_eq!(
            error.message,
            "uneven spacing: expected the next timestamp 120, because the first two rows are 60 s apart; fill the gap or resample the file to one interval"
        );
    }

    #[test]
    fn csv_rejects_fewer_than_two_rows() {
        let error = rejection("timestamp_seconds,value\n");
        assert_eq!(
            error.message,
            "the file has no rows; expected at least two rows, because the spacing of the first two timestamps sets the step"
        );

        let error = rejection("timestamp_seconds,value\n0,5\n");
        assert_eq!(error.line, 0);
        assert!(
            error.message.starts_with("the file has only one row"),
            "{error}"
        );
    }

    #[test]
    fn csv_rejects_invalid_value_scale() {
        let text = "timestamp_seconds,value\n0,1\n60,2\n";
        for scale in [-1.0, f64::NAN, f64::INFINITY] {
            let error = Trace::from_csv_str(text, Path::new("t.csv"), scale).unwrap_err();
            assert_eq!(error.line, 0, "{scale}");
            assert!(error.message.starts_with("invalid value scale"), "{error}");
        }
    }

    #[test]
    fn csv_rejects_overflowing_scaled_value() {
        let text = "timestamp_seconds,value\n0,1\n60,1e308\n";

        let error = Trace::from_csv_str(text, Path::new("t.csv"), 10.0).unwrap_err();

        assert_eq!(error.line, 3);
        assert_eq!(error.field.as_deref(), Some("value"));
    }

    #[test]
    fn csv_path_reports_missing_file() {
        let path = Path::new("/nonexistent/trace.csv");

        let error = Trace::from_csv_path(path, 1.0).unwrap_err();

        assert_eq!(error.file, path);
        assert_eq!(error.line, 0);
        assert!(
            error.message.starts_with("failed to read the file: "),
            "{error}"
        );
    }

    #[test]
    fn csv_path_reads_file() {
        let path = std::env::temp_dir().join(format!(
            "autoscale-sim-workload-trace-{}.csv",
            std::process::id()
        ));
        std::fs::write(&path, "timestamp_seconds,value\n0,1\n300,2\n").unwrap();

        let trace = Trace::from_csv_path(&path, 2.0);
        std::fs::remove_file(&path).unwrap();

        let trace = trace.unwrap();
        assert_eq!(trace.step(), SimDuration::from_mins(5));
        assert_eq!(trace.values(), &[2.0, 4.0]);
    }
}
