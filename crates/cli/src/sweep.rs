//! The `sweep` and `merge` commands: parameter sweeps over seeds, in parallel and in shards.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use autoscale_sim_report::write_all_or_nothing;
use autoscale_sim_sweep::{Shard, Sweep, SweepError, parse_seeds_option, value_text};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    Failure, OutputKind, check_not_mixed, check_writable, counted, emit, emit_error_line,
    remove_stale_plots,
};

/// Progress line: bar, runs done, elapsed time and estimated time left.
const PROGRESS_TEMPLATE: &str = "{bar:40} {pos}/{len} runs  {elapsed} elapsed  ETA {eta}";

/// Arguments of `sweep`.
#[derive(Debug, Args)]
pub(crate) struct SweepArgs {
    /// Sweep YAML file: a base scenario, the fields to vary and the seeds. See
    /// scenarios/sweep-consolidation.yaml and docs/scale-out.md.
    file: PathBuf,
    /// Worker threads that run points in parallel, from 1 to 1024; no more threads start than
    /// there are runs [default: one per core]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    /// Run only the points whose index is I modulo N (I from 0 to N - 1), and write into the
    /// shard-I-of-N folder inside --out. Without it, the shard comes from JOB_COMPLETION_INDEX
    /// (Kubernetes Indexed Job), SLURM_ARRAY_TASK_ID (Slurm job array) or
    /// AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job) when one is set [default: every point]
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Number of shards when the index comes from JOB_COMPLETION_INDEX or
    /// AWS_BATCH_JOB_ARRAY_INDEX, which come without a count; the variable
    /// AUTOSCALE_SIM_SHARD_COUNT gives it too [default: AUTOSCALE_SIM_SHARD_COUNT]
    #[arg(long, value_name = "N")]
    shard_count: Option<u64>,
    /// Folder to write points.json, results.csv, results.jsonl, stats.csv, paired.csv,
    /// timing.json and the SVG plots into. It is created if missing, files of the same names
    /// are replaced, and plots of axes an earlier sweep had there are removed [default: <sweep
    /// name>-results in the current folder]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run only this point, or every seed of this configuration, by the point_id or config_id
    /// of results.csv (repeatable). Needs --out, so that a full sweep's files are not replaced,
    /// unless with --list [default: every point]
    #[arg(long = "point", value_name = "ID")]
    points: Vec<String>,
    /// Print the points (index, id, seed, parameters, policies) and exit without running.
    #[arg(long)]
    list: bool,
    /// Seeds in place of the sweep file's `seeds:`: a count N (the seeds 1 to N) or a
    /// comma-separated list such as 1,2,3. Give every shard of a sweep the same value
    /// [default: the file's seeds]
    #[arg(long, value_name = "N|LIST")]
    seeds: Option<String>,
    /// Hide the progress bar and the wall-clock lines on stderr; warnings and errors still
    /// print. The bar is also hidden when stderr is not a terminal.
    #[arg(long, short)]
    quiet: bool,
}

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// Output folders of the shards of one sweep. A folder that contains shard-I-of-N folders
    /// is read as all of them.
    #[arg(required = true, value_name = "DIR")]
    folders: Vec<PathBuf>,
    /// Folder to write the merged files into; it is created if missing, and files of the same
    /// names are replaced. It must lie outside the folders being merged.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Hide the wall-clock line on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Turns a sweep error into the program's failure: exit code 2 for input, 1 for a bug.
fn failure(error: SweepError) -> Failure {
    Failure {
        code: if error.is_input_error() { 2 } else { 1 },
        message: error.to_string(),
    }
}

/// Runs `sweep`.
pub(crate) fn sweep(args: &SweepArgs) -> Result<(), Failure> {
    let started = Instant::now();
    run_sweep(args, started)
}

/// Starts the worker pool: `requested` threads, or one per core, but no more than `runs`.
fn worker_pool(requested: Option<u32>, runs: usize) -> Result<rayon::ThreadPool, Failure> {
    let threads = match requested {
        Some(count) => count as usize,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.min(runs).max(1))
        .build()
        .map_err(|e| Failure {
            message: format!("cannot start the worker threads: {e}"),
            code: 1,
        })
}

fn run_sweep(args: &SweepArgs, started: Instant) -> Result<(), Failure> {
    // The shard: from --shard, else from an array-job engine's variables.
    let shard = match &args.shard {
        Some(text) => {
            if args.shard_count.is_some() {
                return Err(Failure::input(
                    "--shard-count goes with an index from the environment, not with --shard I/N; give one of them",
                ));
            }
            Some((
                Shard::parse(text).map_err(failure)?,
                format!("--shard {text}"),
            ))
        }
        None => Shard::from_environment(|name| std::env::var(name).ok(), args.shard_count)
            .map_err(failure)?,
    };

    // Check the sweep file and every point before anything runs.
    let seeds = match &args.seeds {
        Some(text) => Some(parse_seeds_option(text).map_err(|(message, fix)| {
            Failure::input(format!("--seeds {text:?}: {message}\n  fix: {fix}"))
        })?),
        None => None,
    };
    let sweep = Sweep::load_with_seeds(&args.file, seeds).map_err(failure)?;
    let selected = sweep
        .select(shard.as_ref().map(|(s, _)| *s), &args.points)
        .map_err(failure)?;
    for warning in &sweep.warnings {
        errln!("warning: {warning}");
    }
    if args.list {
        return list_points(&sweep, &selected);
    }
    if !args.points.is_empty() && args.out.is_none() {
        return Err(Failure::input(format!(
            "--point needs --out, so that the full sweep's files in {}-results are not replaced\n  fix: add --out DIR, a folder for these points",
            file_safe(&sweep.name)
        )));
    }

    let out = output_folder(args, &sweep, shard.as_ref().map(|(s, _)| *s));
    check_not_mixed(&out, OutputKind::Sweep)?;
    check_writable(&out)?;
    let runs: usize = selected.iter().map(|p| p.policies.len()).sum();
    let pool = worker_pool(args.threads, runs)?;
    let threads = pool.current_num_threads();
    if !args.quiet {
        let of_shard = match &shard {
            Some((shard, source)) => format!(" (shard {shard}, from {source})"),
            None => String::new(),
        };
        errln!(
            "{}: {} of {} points{of_shard}, {} on {}",
            sweep.name,
            selected.len(),
            sweep.points.len(),
            counted(runs, "run"),
            counted(threads, "thread")
        );
    }

    // Run, with a progress bar on a terminal.
    let show = !args.quiet && std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(
        Some(runs as u64),
        if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(PROGRESS_TEMPLATE)
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let result = pool.install(|| {
        sweep.run_and_render(&selected, shard.as_ref().map(|(s, _)| *s), threads, &|| {
            bar.inc(1)
        })
    });
    bar.finish_and_clear();
    let run = result.map_err(failure)?;

    // Write all or nothing, then report.
    let mut files: BTreeMap<&str, String> = run
        .outputs
        .files
        .iter()
        .map(|(name, text)| (name.as_str(), text.clone()))
        .collect();
    files.insert("timing.json", run.timing.clone());
    write_all_or_nothing(&out, &files).map_err(Failure::input)?;
    note_removed_plots(&out, &files)?;

    out!("{}", run.outputs.table);
    outln!(
        "wrote {} to {} ({})",
        counted(run.outputs.rows, "row"),
        out.display(),
        counted(files.len(), "file")
    );
    if !args.quiet {
        errln!(
            "{} in {:.1} s wall time on {}",
            counted(runs, "run"),
            started.elapsed().as_secs_f64(),
            counted(threads, "thread")
        );
    }
    report_pending(&run.outputs.files["results.jsonl"])?;
    if !run.failures.is_empty() {
        let mut message = format!(
            "{} of {runs} runs did not finish; their rows are missing from {}:",
            run.failures.len(),
            out.display()
        );
        for failure in &run.failures {
            message.push_str(&format!(
                "\n  point {} (id {}) under {}: {}",
                failure.point, failure.id, failure.policy, failure.message
            ));
        }
        message
            .push_str("\n  this is a bug in autoscale-sim, please report it with the sweep file");
        return Err(Failure { message, code: 1 });
    }
    Ok(())
}

/// Removes the plots of an earlier sweep in `out` (`AXIS-vs-METRIC.svg`) that this one did not
/// write, and prints their names.
fn note_removed_plots(out: &Path, files: &BTreeMap<&str, String>) -> Result<(), Failure> {
    let written: Vec<&str> = files.keys().copied().collect();
    let removed = remove_stale_plots(out, &written, |name| name.contains("-vs-"));
    if !removed.is_empty() {
        errln!(
            "note: removed {} from an earlier sweep in {}: {}",
            counted(removed.len(), "plot"),
            out.display(),
            removed.join(", ")
        );
    }
    Ok(())
}

/// Returns the folder to write into: `--out` or `<sweep name>-results`, and inside it
/// `shard-I-of-N` for a shard, so that shards sharing a folder never replace each other's files.
fn output_folder(args: &SweepArgs, sweep: &Sweep, shard: Option<Shard>) -> PathBuf {
    let base = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-results", file_safe(&sweep.name))));
    match shard {
        Some(shard) => base.join(shard.folder_name()),
        None => base,
    }
}

/// Replaces characters other than ASCII letters, digits, `-`, `_` and `.` with `_`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Warns once when runs ended with pods still Pending, with how many runs.
fn report_pending(results_jsonl: &str) -> Result<(), Failure> {
    let mut runs = 0;
    let mut pending = 0;
    for line in results_jsonl.lines() {
        runs += 1;
        let value: Option<serde_json::Value> = serde_json::from_str(line).ok();
        if value
            .and_then(|v| v.get("pods_pending_at_end")?.as_u64())
            .is_some_and(|n| n > 0)
        {
            pending += 1;
        }
    }
    if pending > 0 {
        errln!(
            "warning: in {pending} of {runs} runs pods were still Pending at the end; see pods_pending_at_end in results.csv"
        );
    }
    Ok(())
}

/// Prints one line per point.
fn list_points(sweep: &Sweep, points: &[&autoscale_sim_sweep::Point]) -> Result<(), Failure> {
    outln!(
        "{}: {} listed of {}",
        sweep.name,
        counted(points.len(), "point"),
        sweep.points.len()
    );
    for point in points {
        let parameters: Vec<String> = point
            .parameters
            .iter()
            .map(|&(axis, value)| {
                format!(
                    "{}={}",
                    sweep.axes[axis].name,
                    value_text(&sweep.axes[axis].values[value])
                )
            })
            .collect();
        outln!(
            "{:>6}  {}  seed {:<6} {:<40} {}",
            point.index,
            point.id,
            point.seed,
            parameters.join(", "),
            point.policies.join(", ")
        );
    }
    Ok(())
}

/// Runs `merge`.
pub(crate) fn merge(args: &MergeArgs) -> Result<(), Failure> {
    let started = Instant::now();
    // Merge first, so that a failed merge creates no output folder.
    let merged = autoscale_sim_sweep::merge(&args.folders).map_err(failure)?;
    check_out_outside_inputs(&args.out, &args.folders, &merged.folders)?;
    check_not_mixed(&args.out, OutputKind::Sweep)?;
    check_writable(&args.out)?;

    let mut files: BTreeMap<&str, String> = merged
        .outputs
        .files
        .iter()
        .map(|(name, text)| (name.as_str(), text.clone()))
        .collect();
    files.insert("timing.json", merged.timing.clone());
    write_all_or_nothing(&args.out, &files).map_err(Failure::input)?;
    note_removed_plots(&args.out, &files)?;

    out!("{}", merged.outputs.table);
    outln!(
        "merged {} rows from {} folders into {}",
        merged.outputs.rows,
        merged.folders.len(),
        args.out.display()
    );
    if !args.quiet {
        errln!(
            "merged in {:.2} s wall time",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Rejects an `--out` that is a folder on the command line, or is or lies inside a folder that
/// is read (one with `points.json`, such as a `shard-I-of-N` folder). A new folder beside the
/// shard folders, such as `results/merged` beside `results/shard-0-of-4`, is allowed.
fn check_out_outside_inputs(
    out: &Path,
    arguments: &[PathBuf],
    merged_folders: &[PathBuf],
) -> Result<(), Failure> {
    let resolved_out = resolve_path(out);
    let same = arguments
        .iter()
        .chain(merged_folders)
        .find(|folder| resolve_path(folder) == resolved_out);
    if let Some(folder) = same {
        return Err(Failure::input(format!(
            "--out {} is one of the folders being merged ({}), so merging would replace its files\n  fix: {OUT_FIX}",
            out.display(),
            folder.display()
        )));
    }
    let parent = merged_folders
        .iter()
        .find(|folder| resolved_out.starts_with(resolve_path(folder)));
    if let Some(folder) = parent {
        return Err(Failure::input(format!(
            "--out {} is inside {}, one of the folders being merged, so the merged files would be mixed with a shard's\n  fix: {OUT_FIX}",
            out.display(),
            folder.display()
        )));
    }
    Ok(())
}

/// Fix of an `--out` that is or lies inside a folder being merged.
const OUT_FIX: &str =
    "give an --out folder outside the folders being merged, such as a new folder beside them";

/// Returns `path` made absolute with symbolic links resolved, even when it does not exist yet.
/// The nearest existing ancestor is canonicalized, and the missing rest is appended with `.`
/// dropped and `..` removing the part before it, as creating those folders would do.
fn resolve_path(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|dir| dir.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let components: Vec<Component<'_>> = absolute.components().collect();

    // Canonicalize the longest prefix that exists, then append the rest.
    for existing in (0..=components.len()).rev() {
        let prefix: PathBuf = components[..existing].iter().collect();
        let Ok(mut resolved) = prefix.canonicalize() else {
            continue;
        };
        for component in &components[existing..] {
            match component {
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::CurDir => {}
                other => resolved.push(other),
            }
        }
        return resolved;
    }
    absolute
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_template_parses() {
        assert!(ProgressStyle::with_template(PROGRESS_TEMPLATE).is_ok());
    }

    #[test]
    fn shard_folder_inside_out() {
        assert_eq!(file_safe("my sweep/1"), "my_sweep_1");
        assert_eq!(Shard { index: 1, count: 4 }.folder_name(), "shard-1-of-4");
    }

    #[test]
    fn resolve_path_of_missing_folder() {
        let dir = std::env::temp_dir().canonicalize().unwrap();

        let resolved = resolve_path(&dir.join("no-such-folder-msg11/./a/../b"));

        assert_eq!(resolved, dir.join("no-such-folder-msg11/b"));
    }
}
