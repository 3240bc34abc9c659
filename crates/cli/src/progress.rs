//! Runs the policies in parallel threads, with a spinner per policy on stderr for long runs.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use autoscale_sim_sim::{PolicySpec, RunOutput, Simulation};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::Failure;

/// Runs shorter than this draw no spinner, so quick runs print nothing extra.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Interval between checks for finished runs and between spinner frames.
const TICK: Duration = Duration::from_millis(100);

/// Spinner line: policy name, elapsed wall-clock time, state. The simulation reports no
/// progress of its own, so the spinner shows that a run is alive, not how far it is.
const TEMPLATE: &str = "{spinner} {prefix}  {elapsed:>4}  {msg}";

/// One spinner per policy, drawn together on stderr.
struct Spinners {
    lines: MultiProgress,
    bars: Vec<ProgressBar>,
}

impl Spinners {
    /// Starts spinners for `names`, with the elapsed time counted from `started`; runs already
    /// finished (with their wall-clock seconds in `finished`) show as done.
    fn start(names: &[&str], finished: &[Option<f64>], started: Instant) -> Spinners {
        let lines = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let style = ProgressStyle::with_template(TEMPLATE)
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bars = names
            .iter()
            .zip(finished)
            .map(|(name, done)| {
                let bar = lines.add(
                    ProgressBar::new_spinner()
                        .with_style(style.clone())
                        .with_prefix(format!("{name:<width$}"))
                        .with_elapsed(started.elapsed()),
                );
                match done {
                    Some(seconds) => bar.finish_with_message(format!("done in {seconds:.1} s")),
                    None => {
                        bar.set_message("running");
                        bar.enable_steady_tick(TICK);
                    }
                }
                bar
            })
            .collect();
        Spinners { lines, bars }
    }

    fn finish(&self, index: usize, seconds: f64) {
        self.bars[index].finish_with_message(format!("done in {seconds:.1} s"));
    }

    /// Removes the spinners from the terminal.
    fn clear(self) {
        for bar in &self.bars {
            bar.finish_and_clear();
        }
        let _ = self.lines.clear();
    }
}

/// Runs every policy on its own thread and returns the outputs in policy order, each with its
/// wall-clock time in seconds. Results do not depend on the thread count. With `show`, a run
/// still going after [`SHOW_AFTER`] draws one spinner per policy until all have finished.
pub(crate) fn run_policies(
    simulation: &Simulation,
    policies: &[PolicySpec],
    show: bool,
) -> Result<Vec<(RunOutput, f64)>, Failure> {
    std::thread::scope(|scope| {
        // Start one thread per policy; each reports its index when it is done.
        let started = Instant::now();
        let (sender, receiver) = mpsc::channel::<(usize, f64)>();
        let handles: Vec<_> = policies
            .iter()
            .enumerate()
            .map(|(index, policy)| {
                let sender = sender.clone();
                scope.spawn(move || {
                    let run_started = Instant::now();
                    let output = simulation.run(policy);
                    let seconds = run_started.elapsed().as_secs_f64();
                    let _ = sender.send((index, seconds));
                    (output, seconds)
                })
            })
            .collect();
        drop(sender);

        // Wait for them, drawing spinners once the first second has passed. A thread that
        // panics drops its sender unsent, so the loop still ends when every thread has.
        let names: Vec<&str> = policies.iter().map(|p| p.name()).collect();
        let mut finished: Vec<Option<f64>> = vec![None; policies.len()];
        let mut spinners: Option<Spinners> = None;
        loop {
            match receiver.recv_timeout(TICK) {
                Ok((index, seconds)) => {
                    finished[index] = Some(seconds);
                    if let Some(spinners) = &spinners {
                        spinners.finish(index, seconds);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if show
                && spinners.is_none()
                && started.elapsed() >= SHOW_AFTER
                && finished.iter().any(Option::is_none)
            {
                spinners = Some(Spinners::start(&names, &finished, started));
            }
        }
        if let Some(spinners) = spinners {
            spinners.clear();
        }

        handles
            .into_iter()
            .zip(&names)
            .map(|(handle, name)| {
                handle.join().map_err(|_| Failure {
                    message: format!(
                        "the run of policy {name} stopped with a panic (message above); \
                         this is a bug in autoscale-sim, please report it with the scenario"
                    ),
                    code: 1,
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
    }
}
