//! The comparison table that `compare` prints and `report.html` shows: one row per policy,
//! with spot and launch-failure columns when a policy used spot capacity or a launch failed.

use autoscale_sim_sim::{RunOutput, RunReport};

/// Column headers of the comparison table, shared by the text table and the HTML report.
pub(crate) const COMPARISON_HEADERS: [&str; 16] = [
    "policy",
    "cost $",
    "node-h",
    "peak nodes",
    "min nodes",
    "launched",
    "terminated",
    "cpu alloc",
    "mem alloc",
    "pending p50 s",
    "p95 s",
    "max s",
    "pending pod-h",
    "evicted",
    "unplaced",
    "disruptions",
];

/// The p50 and p95 cells of a policy under which no pod was bound, where the report has 0.
pub(crate) const NO_POD_BOUND: &str = "no pod bound";

/// Formats one policy's cells of the comparison table, in [`COMPARISON_HEADERS`] order.
/// `none_bound` is true when no pod was bound in the run, so the percentiles have no value.
fn comparison_row(r: &RunReport, none_bound: bool) -> Vec<String> {
    let percentile = |seconds: f64| {
        if none_bound {
            NO_POD_BOUND.to_string()
        } else {
            format!("{seconds:.1}")
        }
    };
    vec![
        r.policy.clone(),
        format!("{:.2}", r.total_cost_usd),
        format!("{:.1}", r.node_hours),
        r.peak_nodes.to_string(),
        r.min_nodes.to_string(),
        r.nodes_launched.to_string(),
        r.nodes_terminated.to_string(),
        format!("{:.1}%", r.mean_cpu_allocation * 100.0),
        format!("{:.1}%", r.mean_memory_allocation * 100.0),
        percentile(r.pod_pending_p50_seconds),
        percentile(r.pod_pending_p95_seconds),
        format!("{:.1}", r.pod_pending_max_seconds),
        format!("{:.1}", r.pending_pod_seconds / 3600.0),
        r.pods_evicted.to_string(),
        r.pods_pending_at_end.to_string(),
        if r.disruptions_by_reason.is_empty() {
            "-".into()
        } else {
            r.disruptions_by_reason
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    ]
}

/// Column headers of the EC2 columns, inserted before `disruptions` when a policy used spot
/// capacity or a launch failed.
const EC2_HEADERS: [&str; 4] = ["spot $", "interrupted", "launch fails", "fallback h"];

/// Checks whether the table needs its EC2 columns: some policy paid for spot capacity, received
/// an interruption notice, had a launch fail or fell back to on-demand.
fn shows_ec2_columns(reports: &[RunReport]) -> bool {
    reports.iter().any(|r| {
        r.cost_by_capacity_type.contains_key("spot")
            || r.spot_interruptions > 0
            || !r.launch_failures.is_empty()
            || r.fallback_on_demand_seconds > 0.0
    })
}

/// Formats one policy's EC2 cells, in [`EC2_HEADERS`] order: spot cost in dollars,
/// interruption notices, failed launches of every reason, and hours in fallback to on-demand.
fn ec2_cells(r: &RunReport) -> Vec<String> {
    vec![
        format!(
            "{:.2}",
            r.cost_by_capacity_type.get("spot").copied().unwrap_or(0.0)
        ),
        r.spot_interruptions.to_string(),
        r.launch_failures.values().sum::<u32>().to_string(),
        format!("{:.1}", r.fallback_on_demand_seconds / 3600.0),
    ]
}

/// Builds the headers and the rows of the comparison table for `reports`: the base columns,
/// with the EC2 columns before the last one when [`shows_ec2_columns`] is true. `none_bound`
/// lists, per report, whether no pod was bound in its run.
pub(crate) fn comparison_columns(
    reports: &[RunReport],
    none_bound: &[bool],
) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let ec2 = shows_ec2_columns(reports);
    let last = COMPARISON_HEADERS.len() - 1;
    let mut headers = COMPARISON_HEADERS[..last].to_vec();
    if ec2 {
        headers.extend(EC2_HEADERS);
    }
    headers.push(COMPARISON_HEADERS[last]);
    let rows = reports
        .iter()
        .zip(none_bound)
        .map(|(r, &none_bound)| {
            let mut row = comparison_row(r, none_bound);
            if ec2 {
                let disruptions = row.pop().expect("a row has every base column");
                row.extend(ec2_cells(r));
                row.push(disruptions);
            }
            row
        })
        .collect();
    (headers, rows)
}

/// Renders the comparison table of `reports`: one row per policy. A run in which no pod was
/// bound and one whose pods were bound at once have the same report, so both rows show pending
/// percentiles of 0.0. [`run_comparison_table`] separates them.
pub fn comparison_table(reports: &[RunReport]) -> String {
    render_comparison(reports, &vec![false; reports.len()])
}

/// Renders the comparison table that `compare` and `run` print, one row per policy, from whole
/// runs. The p50 and p95 cells of a run in which no pod was bound read `no pod bound`.
pub fn run_comparison_table(outputs: &[RunOutput]) -> String {
    let reports: Vec<RunReport> = outputs.iter().map(|o| o.report.clone()).collect();
    render_comparison(&reports, &none_bound(outputs))
}

/// Lists, per run, whether no pod was bound in it.
pub(crate) fn none_bound(outputs: &[RunOutput]) -> Vec<bool> {
    outputs
        .iter()
        .map(|o| o.pod_pending_times_ms.is_empty())
        .collect()
}

/// Renders the table of [`comparison_columns`] and the fleet snapshots below it.
fn render_comparison(reports: &[RunReport], none_bound: &[bool]) -> String {
    let (headers, rows) = comparison_columns(reports, none_bound);
    let mut out = render_table(&headers, &rows);

    // Fleet snapshots, one line per policy and moment.
    let mut snapshot_lines = Vec::new();
    for report in reports {
        for snapshot in &report.snapshots {
            let fleet = if snapshot.nodes.is_empty() {
                "no nodes".to_string()
            } else {
                snapshot
                    .nodes
                    .iter()
                    .map(|(t, n)| format!("{n} x {t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            snapshot_lines.push(format!(
                "  {:<22} {:<20} {fleet}",
                report.policy, snapshot.label
            ));
        }
    }
    if !snapshot_lines.is_empty() {
        out.push_str("\nFleet at snapshot times:\n");
        for line in snapshot_lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 || i == cells.len() - 1 {
                    format!("{c:<w$}", w = widths[i])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(headers.iter().map(|h| h.to_string()).collect());
    out.push_str(&format!(
        "|{}|\n",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    ));
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn table_aligns_columns() {
        let a = RunReport {
            policy: "cluster-autoscaler".into(),
            total_cost_usd: 100.0,
            ..Default::default()
        };
        let b = RunReport {
            policy: "karpenter".into(),
            total_cost_usd: 80.5,
            ..Default::default()
        };
        let table = comparison_table(&[a, b]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines
                .iter()
                .all(|l| l.chars().count() == lines[0].chars().count())
        );
        assert!(lines[3].contains("80.50"));
    }

    #[test]
    fn no_bound_pod_shown_as_such() {
        let output = |policy: &str, pod_pending_times_ms: Vec<u64>| RunOutput {
            report: RunReport {
                policy: policy.into(),
                ..Default::default()
            },
            samples: vec![],
            decisions: vec![],
            pod_pending_times_ms,
        };
        // No pod was bound under static; karpenter's one pod was bound at once.
        let runs = [output("static", vec![]), output("karpenter", vec![0])];

        let table = run_comparison_table(&runs);
        let lines: Vec<&str> = table.lines().collect();

        assert_eq!(
            lines[2],
            concat!(
                "| static    |   0.00 |    0.0 |          0 |         0 |        0 |          0 |",
                "      0.0% |      0.0% |  no pod bound | no pod bound |   0.0 |           0.0 |",
                "       0 |        0 | -           |"
            )
        );
        assert_eq!(
            lines[3],
            concat!(
                "| karpenter |   0.00 |    0.0 |          0 |         0 |        0 |          0 |",
                "      0.0% |      0.0% |           0.0 |          0.0 |   0.0 |           0.0 |",
                "       0 |        0 | -           |"
            )
        );
        // The report alone cannot tell the two apart.
        assert!(!comparison_table(&[runs[0].report.clone()]).contains("no pod bound"));
    }

    #[test]
    fn spot_columns_only_with_spot() {
        let on_demand = RunReport {
            policy: "cluster-autoscaler".into(),
            cost_by_capacity_type: BTreeMap::from([("on-demand".to_string(), 10.0)]),
            ..Default::default()
        };
        let spot = RunReport {
            policy: "karpenter".into(),
            cost_by_capacity_type: BTreeMap::from([
                ("on-demand".to_string(), 2.0),
                ("spot".to_string(), 4.25),
            ]),
            spot_interruptions: 3,
            launch_failures: BTreeMap::from([
                ("InsufficientInstanceCapacity".to_string(), 5),
                ("RegistrationTimeout".to_string(), 1),
            ]),
            fallback_on_demand_seconds: 5_400.0,
            ..Default::default()
        };

        let plain = comparison_table(std::slice::from_ref(&on_demand));
        let with_spot = comparison_table(&[on_demand, spot]);

        assert!(!plain.contains("spot $"), "{plain}");
        let header = with_spot.lines().next().unwrap();
        assert!(
            header.contains("| spot $ | interrupted | launch fails | fallback h | disruptions"),
            "{header}"
        );
        let karpenter = with_spot.lines().nth(3).unwrap();
        assert!(karpenter.contains("|   4.25 |"), "{karpenter}");
        assert!(karpenter.contains("|           3 |"), "{karpenter}");
        assert!(karpenter.contains("|            6 |"), "{karpenter}");
        assert!(karpenter.contains("|        1.5 |"), "{karpenter}");
        let widths: Vec<usize> = with_spot
            .lines()
            .take(4)
            .map(|l| l.chars().count())
            .collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{with_spot}");
    }
}
