//! The `autoscale-sim` command-line program.
//!
//! Exit codes: 0 on success, 2 on invalid input (scenario, trace, catalog, arguments, an
//! unwritable `--out` folder), 1 on an internal error.

#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use autoscale_sim_report::{
    HtmlReport, StagedFiles, Summary, all_plots, report_html, run_comparison_table, summary_json,
    timeseries_csv, write_decisions_jsonl,
};
use autoscale_sim_scenario::{Overrides, Scenario};
use autoscale_sim_sim::{PolicySpec, RunOutput, Simulation};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// Simulate Kubernetes node autoscaling (Cluster Autoscaler, Karpenter) on AWS EC2.
#[derive(Debug, Parser)]
#[command(
    name = "autoscale-sim",
    version,
    about = "Simulate Kubernetes node autoscaling (Cluster Autoscaler, Karpenter) on AWS EC2 and compare cost and pod pending time",
    long_about = None,
    after_help = "Exit codes: 0 on success, 2 on invalid input, 1 on an internal error."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every policy of a scenario and print them side by side.
    Compare {
        /// Scenario YAML file [default: the built-in diurnal-web scenario]
        scenario: Option<PathBuf>,
        #[command(flatten)]
        options: RunOptions,
    },
    /// Run one policy of a scenario.
    Run {
        /// Scenario YAML file.
        scenario: PathBuf,
        /// Name of the policy to run, as listed under `policies`.
        #[arg(long)]
        policy: String,
        #[command(flatten)]
        options: RunOptions,
    },
    /// Check a scenario without running it.
    Validate {
        /// Scenario YAML file.
        scenario: PathBuf,
        /// Trace file for a load, in place of the scenario's: NAME=PATH, with PATH relative to
        /// the current folder (repeatable) [default: the scenario's trace files]
        #[arg(long = "trace", value_name = "NAME=PATH")]
        traces: Vec<String>,
    },
    /// List the built-in EC2 instance types, their allocatable resources and prices.
    ///
    /// Prices are us-east-1 Linux on-demand, per hour, per vCPU-hour and per GiB-hour.
    Catalog {
        #[command(flatten)]
        filters: catalog::Filters,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run a parameter sweep: a scenario over values of its fields and over seeds, in
    /// parallel, with statistics across seeds; optionally one shard of it.
    Sweep(sweep::SweepArgs),
    /// Join the output folders of a sweep's shards into the files one process writes.
    Merge(sweep::MergeArgs),
    /// Print a completion script for SHELL on stdout.
    ///
    /// Install it where your shell looks for completions, for example:
    ///
    /// bash: autoscale-sim completions bash > ~/.local/share/bash-completion/completions/autoscale-sim
    ///
    /// zsh: autoscale-sim completions zsh > ~/.zfunc/_autoscale-sim, with ~/.zfunc in fpath
    /// before compinit runs
    ///
    /// fish: autoscale-sim completions fish > ~/.config/fish/completions/autoscale-sim.fish
    ///
    /// PowerShell: add autoscale-sim completions powershell | Out-String | Invoke-Expression to
    /// your profile
    ///
    /// elvish: add eval (autoscale-sim completions elvish | slurp) to rc.elv
    Completions {
        /// Shell to write the completion script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
struct RunOptions {
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Folder to write summary.json, timeseries.csv, decisions.jsonl, timing.json, the SVG
    /// plots and report.html into. It is created if missing, files of the same names are
    /// replaced, and the plots of policies that are not in this run are removed [default:
    /// write no files]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Seed of every random stream, a whole number from 0 to 18446744073709551615, in place of
    /// the scenario's `seed` [default: the scenario's]
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Trace file for a load, in place of the scenario's: NAME=PATH, with PATH relative to the
    /// current folder (repeatable) [default: the scenario's trace files]
    #[arg(long = "trace", value_name = "NAME=PATH")]
    traces: Vec<String>,
    /// Hide the progress spinners and the wall-clock times on stderr; warnings and errors still
    /// print. Spinners are also hidden when stderr is not a terminal.
    #[arg(long, short)]
    quiet: bool,
    /// Check the run invariants after every event: no node over its allocatable, every pod
    /// accounted for, PodDisruptionBudgets and each policy's limits kept. A broken invariant
    /// stops the program with its message. Slower; always on in debug builds
    #[arg(long)]
    check_invariants: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A human-readable table.
    Table,
    /// JSON. For compare and run, the summary.json document with one RunReport per policy in
    /// `results`. For catalog, an array of instance types with their allocatable resources
    /// and prices: `on_demand_usd_per_hour`, `usd_per_vcpu_hour` and `usd_per_gib_hour` in
    /// dollars, and `on_demand_micro_usd_per_hour` in exact micro-dollars.
    Json,
}

/// An error that ends the program, with its exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn input(message: impl ToString) -> Self {
        Failure {
            message: message.to_string(),
            code: 2,
        }
    }

    /// Returns the failure of a closed stdout or stderr, which ends the program quietly with
    /// exit code 0.
    fn closed_pipe() -> Failure {
        Failure {
            message: String::new(),
            code: 0,
        }
    }
}

/// Writes to stdout; a closed pipe (as with `| head`) ends the program quietly.
fn emit(args: std::fmt::Arguments<'_>, newline: bool) -> Result<(), Failure> {
    match write_args(&mut std::io::stdout().lock(), args, newline) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::closed_pipe()),
        Err(e) => Err(Failure {
            message: format!("cannot write to standard output: {e}"),
            code: 1,
        }),
    }
}

/// Writes a line to stderr. A closed pipe (as with `2>&1 | head`) ends the program quietly, as on
/// stdout. Other write errors are ignored, because there is nowhere left to report them.
fn emit_error_line(args: std::fmt::Arguments<'_>) -> Result<(), Failure> {
    match write_args(&mut std::io::stderr().lock(), args, true) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::closed_pipe()),
        _ => Ok(()),
    }
}

/// Writes `args` to `stream`, then a newline if `newline` is set.
fn write_args(
    stream: &mut dyn std::io::Write,
    args: std::fmt::Arguments<'_>,
    newline: bool,
) -> std::io::Result<()> {
    stream.write_fmt(args)?;
    if newline {
        stream.write_all(b"\n")?;
    }
    Ok(())
}

/// Prints to stdout like `print!`, returning early on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => { emit(format_args!($($arg)*), false)? };
}

/// Prints a line to stdout like `println!`, returning early on a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => { emit(format_args!($($arg)*), true)? };
}

/// Prints a line to stderr like `eprintln!`, returning early on a closed pipe instead of
/// panicking.
macro_rules! errln {
    ($($arg:tt)*) => { emit_error_line(format_args!($($arg)*))? };
}

mod catalog;
mod progress;
mod sweep;

/// Parses `args` and runs the command; returns the exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) if failure.message.is_empty() => ExitCode::from(failure.code),
        Err(failure) => {
            // The exit code still reports the failure when stderr is a closed pipe.
            let _ = emit_error_line(format_args!("error: {}", failure.message));
            ExitCode::from(failure.code)
        }
    }
}

fn dispatch(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Compare { scenario, options } => {
            let overrides = overrides(&options)?;
            let scenario = match &scenario {
                Some(path) => autoscale_sim_scenario::load(path, &overrides),
                None => autoscale_sim_scenario::default_scenario(&overrides),
            }
            .map_err(Failure::input)?;
            let policies = scenario.policies.clone();
            execute(&scenario, &policies, &options)
        }
        Command::Run {
            scenario,
            policy,
            options,
        } => {
            let overrides = overrides(&options)?;
            let scenario =
                autoscale_sim_scenario::load(&scenario, &overrides).map_err(Failure::input)?;
            let chosen: Vec<PolicySpec> = scenario
                .policies
                .iter()
                .filter(|p| p.name() == policy)
                .cloned()
                .collect();
            if chosen.is_empty() {
                let names: Vec<&str> = scenario.policies.iter().map(|p| p.name()).collect();
                return Err(Failure::input(format!(
                    "the scenario has no policy named {policy:?}; its policies are: {}",
                    names.join(", ")
                )));
            }
            execute(&scenario, &chosen, &options)
        }
        Command::Validate { scenario, traces } => {
            let overrides = Overrides {
                seed: None,
                traces: parse_traces(&traces)?,
            };
            let loaded =
                autoscale_sim_scenario::load(&scenario, &overrides).map_err(Failure::input)?;
            Simulation::new(loaded.config.clone()).map_err(Failure::input)?;
            for warning in &loaded.warnings {
                errln!("warning: {warning}");
            }
            let config = &loaded.config;
            let statefulsets = config
                .deployments
                .iter()
                .filter(|d| d.controller != autoscale_sim_sim::ReplicaController::ReplicaSet)
                .count();
            // Every kind is counted, zero included.
            outln!(
                "{}: valid scenario {:?}: {}; {}, {}, {}, {}, {}, {}; policies {}",
                scenario.display(),
                loaded.name,
                config.duration,
                counted(config.deployments.len() - statefulsets, "Deployment"),
                counted(statefulsets, "StatefulSet"),
                counted(config.jobs.len(), "Job stream"),
                counted(config.daemonsets.len(), "DaemonSet"),
                counted(config.pdbs.len(), "PodDisruptionBudget"),
                counted(loaded.limit_ranges, "LimitRange"),
                loaded
                    .policies
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(())
        }
        Command::Catalog { filters, format } => catalog::print_catalog(&filters, format),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Completions { shell } => {
            out!("{}", completion_script(shell));
            Ok(())
        }
    }
}

/// Returns the completion script of `autoscale-sim` for `shell`.
fn completion_script(shell: clap_complete::Shell) -> String {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "autoscale-sim", &mut script);
    let script = String::from_utf8(script).expect("clap_complete writes UTF-8");

    // NOTE: clap_complete 4.6 (4.6.12 included) spells the case labels of a hyphenated binary's
    // subcommands `autoscale__subcmd__sim__subcmd__run`, while the loop that reads the command
    // line builds `autoscale__sim__subcmd__run`, so bash would complete no option after a
    // subcommand. The labels are respelled to match the loop.
    if shell == clap_complete::Shell::Bash {
        script.replace("autoscale__subcmd__sim__", "autoscale__sim__")
    } else {
        script
    }
}

fn parse_traces(traces: &[String]) -> Result<BTreeMap<String, PathBuf>, Failure> {
    let mut parsed = BTreeMap::new();
    for t in traces {
        let (name, path) = t
            .split_once('=')
            .filter(|(name, path)| !name.is_empty() && !path.is_empty())
            .ok_or_else(|| {
                Failure::input(format!(
                    "--trace {t:?} is not NAME=PATH; write for example --trace web=traces/web.csv"
                ))
            })?;
        if let Some(earlier) = parsed.insert(name.to_string(), PathBuf::from(path)) {
            return Err(Failure::input(format!(
                "--trace names load {name:?} twice, with {} and {path}; give each load one --trace",
                earlier.display()
            )));
        }
    }
    Ok(parsed)
}

fn overrides(options: &RunOptions) -> Result<Overrides, Failure> {
    Ok(Overrides {
        seed: options.seed,
        traces: parse_traces(&options.traces)?,
    })
}

/// Runs the policies (in parallel threads; results do not depend on it), prints and writes.
fn execute(
    scenario: &Scenario,
    policies: &[PolicySpec],
    options: &RunOptions,
) -> Result<(), Failure> {
    let mut config = scenario.config.clone();
    config.check_invariants |= options.check_invariants;
    // Only the files of --out contain the decision log, so without it the runs keep none.
    let simulation = Simulation::new(config)
        .map_err(Failure::input)?
        .keep_decision_log(options.out.is_some());
    if let Some(dir) = &options.out {
        check_not_mixed(dir, OutputKind::Run)?;
        check_writable(dir)?;
    }

    let show_progress = !options.quiet && std::io::stderr().is_terminal();
    let (outputs, wall_seconds): (Vec<RunOutput>, Vec<f64>) =
        progress::run_policies(&simulation, policies, show_progress)?
            .into_iter()
            .unzip();
    let summary = Summary {
        scenario: &scenario.name,
        seed: scenario.config.seed,
        duration_seconds: scenario.config.duration.as_millis() / 1000,
        results: outputs.iter().map(|o| &o.report).collect(),
    };
    let summary_text = summary_json(&summary);

    match options.format {
        Format::Json => out!("{summary_text}"),
        Format::Table => {
            outln!(
                "{} (seed {}, {} simulated)",
                scenario.name,
                scenario.config.seed,
                scenario.config.duration
            );
            out!("{}", run_comparison_table(&outputs));
        }
    }
    // Wall-clock times go to stderr, so that stdout is the same for the same scenario and seed.
    if !options.quiet {
        for (output, seconds) in outputs.iter().zip(&wall_seconds) {
            errln!(
                "{} ran {} events in {:.2} s wall time",
                output.report.policy,
                output.report.events_processed,
                seconds
            );
        }
    }
    let mut warnings = Vec::new();
    for report in outputs.iter().map(|o| &o.report) {
        if report.pods_pending_at_end > 0 {
            let pods = match report.pods_pending_at_end {
                1 => "1 pod was".to_string(),
                count => format!("{count} pods were"),
            };
            // Failed launches come first, because they explain pending pods without any fault
            // of the instance types.
            let failures: Vec<String> = report
                .launch_failures
                .iter()
                .map(|(reason, count)| format!("{count} {reason}"))
                .collect();
            let check = if failures.is_empty() {
                String::new()
            } else {
                format!(
                    "launches failed ({}), see launch-failed in the decision log; also ",
                    failures.join(", ")
                )
            };
            warnings.push(format!(
                "under {}, {pods} still Pending at the end ({} of them for over an hour); {check}check the decision log for limits that held scale-up back (no-scale-up, scale-up-limited) and for nodes launched and removed in a loop, and that some instance type the policy may launch can hold them beside its DaemonSet pods",
                report.policy, report.pods_pending_over_an_hour_at_end
            ));
        }
    }
    // A warning about one policy is printed only when that policy runs.
    let concerns_a_run = |index: &usize| {
        scenario
            .warning_policies
            .get(index)
            .is_none_or(|name| policies.iter().any(|p| p.name() == name))
    };
    warnings.extend(
        scenario
            .warnings
            .iter()
            .enumerate()
            .filter(|(index, _)| concerns_a_run(index))
            .map(|(_, warning)| warning.clone()),
    );
    for warning in &warnings {
        errln!("warning: {warning}");
    }

    if let Some(dir) = &options.out {
        write_out(
            dir,
            scenario,
            &outputs,
            &wall_seconds,
            &warnings,
            summary_text,
            options,
        )?;
    }
    Ok(())
}

/// Writes the summary, time series, decision log, plots, HTML report and wall-clock times into
/// `dir`, all or nothing.
fn write_out(
    dir: &Path,
    scenario: &Scenario,
    outputs: &[RunOutput],
    wall_seconds: &[f64],
    warnings: &[String],
    summary_text: String,
    options: &RunOptions,
) -> Result<(), Failure> {
    // Draw the plots and the page; their time goes to timing.json beside the runs' times.
    let report_started = Instant::now();
    let plots = all_plots(outputs).map_err(|e| Failure {
        message: format!("{e}; this is a bug in autoscale-sim, please report it with the scenario"),
        code: 1,
    })?;
    let mut names = vec![
        "summary.json",
        "timeseries.csv",
        "decisions.jsonl",
        "report.html",
        "timing.json",
    ];
    names.extend(plots.iter().map(|plot| plot.file_name.as_str()));

    // Each file is staged as soon as it is made and then dropped, so that a long run's
    // outputs are not all in memory at once.
    let mut staged = StagedFiles::begin(dir, names.iter().copied()).map_err(Failure::input)?;
    let html = report_html(&HtmlReport {
        scenario: &scenario.name,
        description: scenario.description.as_deref(),
        config: &scenario.config,
        outputs,
        plots: &plots,
        warnings,
    });
    let report_seconds = report_started.elapsed().as_secs_f64();
    staged
        .stage("report.html", html.as_bytes())
        .map_err(Failure::input)?;
    drop(html);
    staged
        .stage_with("decisions.jsonl", |out| write_decisions_jsonl(outputs, out))
        .map_err(Failure::input)?;
    staged
        .stage("timeseries.csv", timeseries_csv(outputs).as_bytes())
        .map_err(Failure::input)?;
    staged
        .stage("summary.json", summary_text.as_bytes())
        .map_err(Failure::input)?;
    let timing: BTreeMap<&str, f64> = outputs
        .iter()
        .zip(wall_seconds)
        .map(|(o, s)| (o.report.policy.as_str(), *s))
        .collect();
    let timing_text = serde_json::to_string_pretty(&serde_json::json!({
        "wall_seconds": timing,
        "report_wall_seconds": report_seconds,
    }))
    .expect("timing serialises")
        + "\n";
    staged
        .stage("timing.json", timing_text.as_bytes())
        .map_err(Failure::input)?;
    for plot in &plots {
        staged
            .stage(&plot.file_name, plot.svg.as_bytes())
            .map_err(Failure::input)?;
    }
    staged.commit().map_err(Failure::input)?;
    let removed = remove_stale_plots(dir, &names, |name| {
        name.starts_with("nodes-") || name.starts_with("allocation-")
    });
    if !removed.is_empty() {
        errln!(
            "note: removed {} from an earlier run in {}: {}",
            counted(removed.len(), "per-policy plot"),
            dir.display(),
            removed.join(", ")
        );
    }

    if !options.quiet {
        errln!(
            "drew {} plots and report.html in {report_seconds:.2} s wall time",
            plots.len()
        );
    }
    if options.format == Format::Table {
        outln!(
            "wrote summary.json, timeseries.csv, decisions.jsonl, timing.json, report.html and {} SVG plots to {}",
            plots.len(),
            dir.display()
        );
    }
    Ok(())
}

/// Files that only `run` and `compare` write into `--out`.
const RUN_FILES: [&str; 4] = [
    "summary.json",
    "report.html",
    "timeseries.csv",
    "decisions.jsonl",
];

/// Files that only `sweep` and `merge` write into `--out`.
const SWEEP_FILES: [&str; 3] = ["points.json", "results.jsonl", "paired.csv"];

/// The kind of command that writes into `--out`, for [`check_not_mixed`].
#[derive(Clone, Copy)]
enum OutputKind {
    /// `run` or `compare`.
    Run,
    /// `sweep` or `merge`.
    Sweep,
}

/// Fails early, before any simulation runs, when `dir` contains the result of the other kind
/// of command, so that the two results would mix in one folder.
fn check_not_mixed(dir: &Path, kind: OutputKind) -> Result<(), Failure> {
    let (foreign, writer, other) = match kind {
        OutputKind::Run => (&SWEEP_FILES[..], "`sweep` or `merge`", "a run"),
        OutputKind::Sweep => (&RUN_FILES[..], "`run` or `compare`", "a sweep"),
    };
    let found: Vec<&str> = foreign
        .iter()
        .copied()
        .filter(|name| dir.join(name).is_file())
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    Err(Failure::input(format!(
        "--out {} contains files of {writer} ({}), and the files of {other} would mix with them; choose another folder, or remove those files first",
        dir.display(),
        found.join(", ")
    )))
}

/// Fails early, before any simulation runs, when `dir` cannot be created or written.
fn check_writable(dir: &Path) -> Result<(), Failure> {
    let unwritable = |e: std::io::Error| {
        Failure::input(format!(
            "cannot write to --out {}: {e}; choose a folder you can write to",
            dir.display()
        ))
    };
    if dir.exists() && !dir.is_dir() {
        return Err(Failure::input(format!(
            "--out {} is a file, not a folder; choose a folder",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(unwritable)?;
    let probe = dir.join(".autoscale-sim-write-check");
    std::fs::write(&probe, b"").map_err(unwritable)?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Removes the SVG plots in `dir` whose names `is_plot` accepts and that this run did not
/// write, so that a reused folder shows nothing of an earlier run. Such plots are a run's
/// per-policy plots (`nodes-NAME.svg`) or a sweep's plots of an axis it no longer has. Returns
/// their names, sorted; a file that cannot be removed is left in place.
fn remove_stale_plots(dir: &Path, written: &[&str], is_plot: impl Fn(&str) -> bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| is_plot(name) && name.ends_with(".svg") && !written.contains(&name.as_str()))
        .filter(|name| std::fs::remove_file(dir.join(name)).is_ok())
        .collect();
    removed.sort();
    removed
}

/// Parses `--seed`, with a message that gives the accepted range.
fn parse_seed(text: &str) -> Result<u64, String> {
    text.parse().map_err(|_| {
        format!(
            "the seed must be a whole number from 0 to {}; write one such as 42",
            u64::MAX
        )
    })
}

/// `count` and `noun`, with an "s" unless the count is 1.
fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("autoscale-sim").chain(args.iter().copied()))
            .expect("the arguments parse")
    }

    fn long_help(subcommand: &str) -> String {
        let mut command = Cli::command();
        command
            .find_subcommand_mut(subcommand)
            .expect("the subcommand exists")
            .render_long_help()
            .to_string()
    }

    #[test]
    fn compare_help_states_units_and_defaults() {
        let help = long_help("compare");

        for text in [
            "[default: the built-in diurnal-web scenario]",
            "[default: table]",
            "[default: write no files]",
            "report.html",
            "[default: the scenario's]",
            "relative to the current folder",
            "--quiet",
        ] {
            assert!(
                help.contains(text),
                "compare --help lacks {text:?}:\n{help}"
            );
        }
    }

    #[test]
    fn catalog_help_states_units_and_defaults() {
        let help = long_help("catalog");

        for text in [
            "in GiB",
            "in US dollars per hour",
            "[default: no minimum]",
            "[default: no maximum]",
            "[default: all families]",
            "amd64",
            "per vCPU-hour and per GiB-hour",
        ] {
            assert!(
                help.contains(text),
                "catalog --help lacks {text:?}:\n{help}"
            );
        }
    }

    #[test]
    fn optional_values_state_default() {
        let root = Cli::command();
        let mut missing = Vec::new();

        for command in root.get_subcommands() {
            for arg in command.get_arguments() {
                let help = arg
                    .get_long_help()
                    .or(arg.get_help())
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                let optional_value = arg.get_action().takes_values() && !arg.is_required_set();
                if optional_value
                    && arg.get_default_values().is_empty()
                    && !help.contains("[default:")
                {
                    missing.push(format!("{} --{}", command.get_name(), arg.get_id()));
                }
            }
        }

        assert!(
            missing.is_empty(),
            "options without a stated default: {missing:?}"
        );
    }

    #[test]
    fn catalog_min_above_max_is_input_error() {
        let cli = parse(&["catalog", "--min-vcpu", "8", "--max-vcpu", "4"]);

        let failure = dispatch(cli).unwrap_err();

        assert_eq!(failure.code, 2);
    }

    #[test]
    fn catalog_no_match_is_input_error() {
        let cli = parse(&["catalog", "--min-vcpu", "100000"]);

        let failure = dispatch(cli).unwrap_err();

        assert_eq!(failure.code, 2);
        assert!(
            failure
                .message
                .contains("no instance type matches --min-vcpu 100000")
        );
        assert!(failure.message.contains("vCPUs"));
    }

    #[test]
    fn catalog_rejects_bad_numbers() {
        for args in [
            ["catalog", "--min-memory", "-1"],
            ["catalog", "--min-memory", "NaN"],
            ["catalog", "--max-price", "cheap"],
            ["catalog", "--min-vcpu", "-2"],
            ["catalog", "--arch", "x86"],
        ] {
            let error = Cli::try_parse_from(std::iter::once("autoscale-sim").chain(args))
                .expect_err("the value is rejected");

            assert!(
                error.use_stderr(),
                "{args:?} is an input error (exit code 2)"
            );
        }
    }

    #[test]
    fn bash_completions_name_subcommands() {
        let script = completion_script(clap_complete::Shell::Bash);

        for subcommand in Cli::command().get_subcommands().map(|c| c.get_name()) {
            assert!(
                script.contains(subcommand),
                "the bash script lacks {subcommand}"
            );
        }
        assert!(
            script.contains("--max-vcpu"),
            "the bash script lacks options"
        );
    }

    /// Runs the bash script's completion function on `words` (the last one being completed)
    /// and returns the completions, or `None` when bash is not installed.
    fn complete_in_bash(words: &[&str]) -> Option<String> {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let program = format!(
            "{}\nCOMP_WORDS=({}); COMP_CWORD={}; _autoscale__sim autoscale-sim {} {}; echo \"${{COMPREPLY[*]}}\"",
            completion_script(clap_complete::Shell::Bash),
            quoted.join(" "),
            words.len() - 1,
            quoted[words.len() - 1],
            quoted[words.len() - 2],
        );
        let output = std::process::Command::new("bash")
            .args(["--norc", "-c", &program])
            .output()
            .ok()?;
        assert!(output.status.success(), "bash failed: {output:?}");
        Some(String::from_utf8(output.stdout).expect("UTF-8 completions"))
    }

    #[test]
    fn bash_completes_subcommand_options() {
        let Some(subcommands) = complete_in_bash(&["autoscale-sim", "c"]) else {
            eprintln!("skipped: bash is not installed");
            return;
        };
        let catalog = complete_in_bash(&["autoscale-sim", "catalog", "--m"]).unwrap();
        let shells = complete_in_bash(&["autoscale-sim", "completions", ""]).unwrap();

        assert_eq!(subcommands.trim(), "compare catalog completions");
        assert_eq!(
            catalog.trim(),
            "--min-vcpu --max-vcpu --min-memory --max-price"
        );
        assert_eq!(shells.trim(), "-h --help bash elvish fish powershell zsh");
    }

    #[test]
    fn completions_shells_parse() {
        for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
            let Command::Completions { .. } = parse(&["completions", shell]).command else {
                panic!("completions {shell} parses as Completions");
            };
        }
    }

    #[test]
    fn quiet_flag_parses() {
        let Command::Compare { options, .. } = parse(&["compare", "-q"]).command else {
            panic!("compare parses as Compare");
        };

        assert!(options.quiet);
    }
}
