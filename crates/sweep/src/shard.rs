//! Shards of a sweep, from `--shard I/N` or from the environment of an array-job engine.

use std::fmt;

use crate::SweepError;

/// Variable that gives the number of shards where the engine sets only an index (Kubernetes
/// Indexed Jobs, AWS Batch array jobs).
pub const SHARD_COUNT_VARIABLE: &str = "AUTOSCALE_SIM_SHARD_COUNT";

/// Index variables of the array-job engines, each with the engine's name.
const INDEX_VARIABLES: [(&str, &str); 3] = [
    ("JOB_COMPLETION_INDEX", "a Kubernetes Indexed Job"),
    ("SLURM_ARRAY_TASK_ID", "a Slurm job array"),
    ("AWS_BATCH_JOB_ARRAY_INDEX", "an AWS Batch array job"),
];

/// One of `count` parts of a sweep: the points whose index is `index` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Shard index, from 0.
    pub index: u64,
    /// Number of shards, 1 or more.
    pub count: u64,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn shard_error(message: String, fix: &str) -> SweepError {
    SweepError::Shard {
        message,
        fix: fix.to_string(),
    }
}

impl Shard {
    /// Parses `I/N`, with 0 <= I < N.
    pub fn parse(text: &str) -> Result<Shard, SweepError> {
        let fix = "write --shard I/N with a shard index I from 0 to N - 1, such as --shard 0/4";
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| shard_error(format!("--shard {text:?} is not I/N"), fix))?;
        let number = |part: &str| {
            part.trim().parse::<u64>().map_err(|_| {
                shard_error(
                    format!("--shard {text:?}: {part:?} is not a whole number 0 or more"),
                    fix,
                )
            })
        };
        Shard::new(number(index)?, number(count)?, &format!("--shard {text}"))
    }

    fn new(index: u64, count: u64, source: &str) -> Result<Shard, SweepError> {
        if count == 0 {
            return Err(shard_error(
                format!("{source}: the number of shards is 0"),
                "give 1 or more shards",
            ));
        }
        if index >= count {
            return Err(shard_error(
                format!("{source}: shard index {index} is not below the number of shards {count}"),
                "number the shards from 0 to N - 1",
            ));
        }
        Ok(Shard { index, count })
    }

    /// Checks whether the point at `index` belongs to this shard.
    pub fn includes(&self, index: usize) -> bool {
        index as u64 % self.count == self.index
    }

    /// Returns the folder name of this shard's output: `shard-I-of-N`.
    pub fn folder_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }

    /// Reads the shard from the environment of an array-job engine, through `variable`
    /// (`std::env::var` in the program), with `count` from `--shard-count` when given.
    /// Returns `None` when no engine's index is set, and otherwise the shard with a
    /// description of where it came from.
    ///
    /// - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX`; the count from `count` or
    ///   `AUTOSCALE_SIM_SHARD_COUNT` (the Job's `completions`; Kubernetes does not pass it).
    /// - Slurm job array: `SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN`, out of
    ///   `SLURM_ARRAY_TASK_COUNT`; the array must be contiguous (`--array=0-3`, not `0-6:2`).
    /// - AWS Batch array job: `AWS_BATCH_JOB_ARRAY_INDEX`; the count as for Kubernetes, since
    ///   Batch does not pass the array size either.
    pub fn from_environment(
        variable: impl Fn(&str) -> Option<String>,
        count: Option<u64>,
    ) -> Result<Option<(Shard, String)>, SweepError> {
        let set: Vec<(&str, &str, String)> = INDEX_VARIABLES
            .iter()
            .filter_map(|(name, engine)| variable(name).map(|value| (*name, *engine, value)))
            .collect();
        let (name, engine, value) = match set.as_slice() {
            [] => {
                // A count without an index means a Job that is not Indexed, where every pod
                // would run the whole sweep.
                let count_source = if count.is_some() {
                    Some("--shard-count is given".to_string())
                } else {
                    // An empty value counts as unset, since a Job template may leave it blank.
                    variable(SHARD_COUNT_VARIABLE)
                        .filter(|value| !value.trim().is_empty())
                        .map(|_| format!("{SHARD_COUNT_VARIABLE} is set"))
                };
                if let Some(source) = count_source {
                    return Err(shard_error(
                        format!(
                            "{source}, but no shard index: none of JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or AWS_BATCH_JOB_ARRAY_INDEX is set"
                        ),
                        "give --shard I/N instead, or run inside an array job (a Kubernetes Job needs completionMode: Indexed)",
                    ));
                }
                return Ok(None);
            }
            [one] => one.clone(),
            [first, second, ..] => {
                return Err(shard_error(
                    format!(
                        "both {} and {} are set, so the shard is ambiguous",
                        first.0, second.0
                    ),
                    "give --shard I/N",
                ));
            }
        };
        let number = |variable_name: &str, text: &str| {
            text.trim().parse::<u64>().map_err(|_| {
                shard_error(
                    format!("{variable_name}={text:?} is not a whole number 0 or more"),
                    "check the job's environment, or give --shard I/N",
                )
            })
        };
        let index = number(name, &value)?;

        if name == "SLURM_ARRAY_TASK_ID" {
            let minimum = match variable("SLURM_ARRAY_TASK_MIN") {
                Some(text) => number("SLURM_ARRAY_TASK_MIN", &text)?,
                None => 0,
            };
            if let Some(step) = variable("SLURM_ARRAY_TASK_STEP") {
                if number("SLURM_ARRAY_TASK_STEP", &step)? != 1 {
                    return Err(shard_error(
                        format!(
                            "the Slurm array steps by {step}, so its task ids are not shard indexes"
                        ),
                        "submit a contiguous array such as --array=0-3, or give --shard I/N",
                    ));
                }
            }
            let Some(total) = variable("SLURM_ARRAY_TASK_COUNT") else {
                return Err(shard_error(
                    "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not".into(),
                    "run under sbatch --array, or give --shard I/N",
                ));
            };
            let total = number("SLURM_ARRAY_TASK_COUNT", &total)?;
            if let Some(maximum) = variable("SLURM_ARRAY_TASK_MAX") {
                let maximum = number("SLURM_ARRAY_TASK_MAX", &maximum)?;
                if maximum.checked_sub(minimum).map(|span| span + 1) != Some(total) {
                    return Err(shard_error(
                        format!(
                            "the Slurm array's task ids {minimum} to {maximum} are not {total} contiguous ids"
                        ),
                        "submit a contiguous array such as --array=0-3, or give --shard I/N",
                    ));
                }
            }
            if let Some(given) = count {
                if given != total {
                    return Err(shard_error(
                        format!(
                            "--shard-count {given} differs from SLURM_ARRAY_TASK_COUNT={total}"
                        ),
                        "leave --shard-count out under Slurm",
                    ));
                }
            }
            let Some(relative) = index.checked_sub(minimum) else {
                return Err(shard_error(
                    format!("SLURM_ARRAY_TASK_ID={index} is below SLURM_ARRAY_TASK_MIN={minimum}"),
                    "check the job's environment, or give --shard I/N",
                ));
            };
            let source = format!(
                "{engine}: SLURM_ARRAY_TASK_ID={index} (from {minimum}), SLURM_ARRAY_TASK_COUNT={total}"
            );
            return Shard::new(relative, total, &source).map(|s| Some((s, source)));
        }

        let (total, count_source) = match count {
            Some(total) => (total, format!("--shard-count {total}")),
            None => match variable(SHARD_COUNT_VARIABLE) {
                Some(text) => (
                    number(SHARD_COUNT_VARIABLE, &text)?,
                    format!("{SHARD_COUNT_VARIABLE}={}", text.trim()),
                ),
                None => {
                    return Err(shard_error(
                        format!("{name} is set ({engine}) but the number of shards is not"),
                        &format!(
                            "set {SHARD_COUNT_VARIABLE} to the number of array tasks (a Job's completions, a Batch array's size), or pass --shard-count N"
                        ),
                    ));
                }
            },
        };
        let source = format!("{engine}: {name}={index}, {count_source}");
        Shard::new(index, total, &source).map(|s| Some((s, source)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn from(
        variables: &[(&str, &str)],
        count: Option<u64>,
    ) -> Result<Option<(Shard, String)>, SweepError> {
        let map: BTreeMap<String, String> = variables
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Shard::from_environment(|name| map.get(name).cloned(), count)
    }

    fn shard_of(variables: &[(&str, &str)], count: Option<u64>) -> Shard {
        from(variables, count).unwrap().expect("a shard").0
    }

    fn error_of(variables: &[(&str, &str)], count: Option<u64>) -> String {
        from(variables, count).unwrap_err().to_string()
    }

    #[test]
    fn parse_accepts_index_below_count() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        assert_eq!(Shard::parse("0/1").unwrap().folder_name(), "shard-0-of-1");
    }

    #[test]
    fn parse_rejects_bad_shards() {
        for (text, expected) in [
            ("4/4", "not below the number of shards 4"),
            ("0/0", "number of shards is 0"),
            ("1", "is not I/N"),
            ("-1/4", "not a whole number"),
            ("a/b", "not a whole number"),
        ] {
            let error = Shard::parse(text).unwrap_err().to_string();

            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn includes_index_modulo_count() {
        let shard = Shard { index: 1, count: 4 };

        let points: Vec<usize> = (0..12).filter(|i| shard.includes(*i)).collect();

        assert_eq!(points, [1, 5, 9]);
    }

    #[test]
    fn no_engine_no_shard() {
        assert!(from(&[], None).unwrap().is_none());
    }

    #[test]
    fn kubernetes_index_with_count_variable() {
        let shard = shard_of(
            &[("JOB_COMPLETION_INDEX", "3"), (SHARD_COUNT_VARIABLE, "4")],
            None,
        );

        assert_eq!(shard, Shard { index: 3, count: 4 });
    }

    #[test]
    fn count_flag_beats_count_variable() {
        let shard = shard_of(
            &[
                ("AWS_BATCH_JOB_ARRAY_INDEX", "1"),
                (SHARD_COUNT_VARIABLE, "4"),
            ],
            Some(2),
        );

        assert_eq!(shard, Shard { index: 1, count: 2 });
    }

    #[test]
    fn index_without_count_is_error() {
        let error = error_of(&[("JOB_COMPLETION_INDEX", "0")], None);

        assert!(error.contains("the number of shards is not"), "{error}");
        assert!(error.contains(SHARD_COUNT_VARIABLE), "{error}");
    }

    #[test]
    fn count_without_index_is_error() {
        let from_variable = error_of(&[(SHARD_COUNT_VARIABLE, "4")], None);
        let from_flag = error_of(&[], Some(4));
        let empty = from(&[(SHARD_COUNT_VARIABLE, "")], None);

        assert!(
            from_variable.contains("AUTOSCALE_SIM_SHARD_COUNT is set, but no shard index"),
            "{from_variable}"
        );
        assert!(
            from_variable.contains("completionMode: Indexed"),
            "{from_variable}"
        );
        assert!(
            from_flag.contains("--shard-count is given, but no shard index"),
            "{from_flag}"
        );
        assert!(empty.unwrap().is_none());
    }

    #[test]
    fn slurm_ids_from_one() {
        let shard = shard_of(
            &[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "4"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
                ("SLURM_ARRAY_TASK_STEP", "1"),
            ],
            None,
        );

        assert_eq!(shard, Shard { index: 2, count: 4 });
    }

    #[test]
    fn slurm_rejects_stepped_and_gapped_arrays() {
        let stepped = error_of(
            &[
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "2"),
                ("SLURM_ARRAY_TASK_STEP", "2"),
            ],
            None,
        );
        let gapped = error_of(
            &[
                ("SLURM_ARRAY_TASK_ID", "5"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "5"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ],
            None,
        );

        assert!(stepped.contains("steps by 2"), "{stepped}");
        assert!(gapped.contains("not 3 contiguous ids"), "{gapped}");
    }

    #[test]
    fn two_engines_are_ambiguous() {
        let error = error_of(
            &[("JOB_COMPLETION_INDEX", "0"), ("SLURM_ARRAY_TASK_ID", "0")],
            Some(2),
        );

        assert!(error.contains("ambiguous"), "{error}");
    }

    #[test]
    fn count_flag_without_index_is_error() {
        let error = error_of(&[], Some(4));

        assert!(error.contains("no shard index"), "{error}");
    }

    #[test]
    fn bad_index_text_is_error() {
        let error = error_of(
            &[("JOB_COMPLETION_INDEX", "two"), (SHARD_COUNT_VARIABLE, "4")],
            None,
        );

        assert!(error.contains("JOB_COMPLETION_INDEX=\"two\""), "{error}");
    }
}
