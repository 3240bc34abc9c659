//! The `autoscale-sim` command-line program; see `autoscale-sim --help`.

fn main() -> std::process::ExitCode {
    autoscale_sim_cli::run(std::env::args_os())
}
