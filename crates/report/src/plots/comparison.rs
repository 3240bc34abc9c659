//! Total cost against the 95th percentile of pod pending time, one point per policy.

use autoscale_sim_sim::RunOutput;
use plotters::prelude::*;

use crate::NO_POD_BOUND;

use super::{
    FONT, HEIGHT, LABEL_SIZE, LIGHT_GRID, LegendEntry, Mark, PlotError, WIDTH, axis_number,
    caption_and_legend, policy_colour, render_svg,
};

/// Returns an axis range from 0 to 20 % above the largest finite value of `values`, or `0..1`
/// when no value is above 0. Starting at 0 keeps distances from the origin comparable.
fn range_from_zero(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let high = values.filter(|v| v.is_finite()).fold(0.0, f64::max);
    if high > 0.0 {
        0.0..high * 1.2
    } else {
        0.0..1.0
    }
}

/// Draws one point per policy at its total cost in dollars and its 95th percentile pod pending
/// time in seconds. The legend above the plot names each policy with both figures, so that
/// labels never overlap when two policies land close together. The lower left is better.
///
/// A policy under which no pod was bound has no pending percentile, although its report has 0.
/// It gets no point, because one at 0 would sit in the corner that reads best. Its legend entry
/// reads `no pod bound, not drawn` beside a hollow mark, as the comparison table's cells read
/// `no pod bound`.
pub fn cost_against_p95_pending(outputs: &[RunOutput]) -> Result<String, PlotError> {
    let none_bound = crate::none_bound(outputs);
    let points: Vec<(usize, (f64, f64))> = outputs
        .iter()
        .enumerate()
        .filter(|(index, _)| !none_bound[*index])
        .map(|(index, o)| {
            let report = &o.report;
            (
                index,
                (report.total_cost_usd, report.pod_pending_p95_seconds),
            )
        })
        .collect();
    let x_range = range_from_zero(points.iter().map(|(_, p)| p.0));
    let y_range = range_from_zero(points.iter().map(|(_, p)| p.1));
    let legend: Vec<LegendEntry> = outputs
        .iter()
        .zip(&none_bound)
        .enumerate()
        .map(|(index, (output, &unbound))| {
            let report = &output.report;
            let (policy, cost) = (&report.policy, report.total_cost_usd);
            if unbound {
                LegendEntry {
                    label: format!("{policy}: ${cost:.2}, {NO_POD_BOUND}, not drawn"),
                    mark: Mark::Ring(policy_colour(index)),
                }
            } else {
                let seconds = report.pod_pending_p95_seconds;
                LegendEntry {
                    label: format!("{policy}: ${cost:.2}, p95 {seconds:.1} s"),
                    mark: Mark::Point(policy_colour(index)),
                }
            }
        })
        .collect();

    render_svg("cost against pending time", (WIDTH, HEIGHT), |root| {
        let area = caption_and_legend(
            root,
            "Total cost against p95 pod pending time (lower left is better)",
            &legend,
        )?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .margin_top(4)
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(x_range, y_range)?;
        chart
            .configure_mesh()
            .x_desc("total cost ($)")
            .y_desc("p95 pod pending time (s)")
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .max_light_lines(1)
            .light_line_style(LIGHT_GRID)
            .draw()?;

        // Later policies are drawn on top; an outline keeps a covered point's edge visible.
        for &(policy, (cost, seconds)) in &points {
            chart.draw_series([
                Circle::new((cost, seconds), 9, policy_colour(policy).filled()),
                Circle::new((cost, seconds), 9, WHITE.stroke_width(2)),
            ])?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_data::*;
    use super::*;

    #[test]
    fn point_per_policy() {
        let outputs = two_policies();

        let svg = cost_against_p95_pending(&outputs).unwrap();

        assert_well_formed(&svg);
        assert!(svg.contains("total cost ($)"));
        assert!(svg.contains("p95 pod pending time (s)"));
        assert!(svg.contains("cluster-autoscaler: $30.50, p95 58.0 s"));
        assert!(svg.contains("karpenter: $21.50, p95 49.0 s"));
        // A point and a legend mark per policy.
        assert_eq!(count_elements(&svg, "circle", &["fill=\"#0072B2\""]), 2);
        assert_eq!(count_elements(&svg, "circle", &["fill=\"#D55E00\""]), 2);
    }

    #[test]
    fn no_bound_pod_not_drawn() {
        let mut outputs = two_policies();
        // No pod was bound under karpenter, so its report has percentiles of 0.
        outputs[1].pod_pending_times_ms.clear();
        outputs[1].report.pod_pending_p95_seconds = 0.0;

        let svg = cost_against_p95_pending(&outputs).unwrap();

        assert_well_formed(&svg);
        assert!(svg.contains("cluster-autoscaler: $30.50, p95 58.0 s"));
        assert!(
            svg.contains("karpenter: $21.50, no pod bound, not drawn"),
            "{svg}"
        );
        assert!(!svg.contains("p95 0.0 s"), "{svg}");
        // Karpenter has no filled point in the plot or the legend. Its legend mark is a ring.
        assert_eq!(count_elements(&svg, "circle", &["fill=\"#D55E00\""]), 0);
        assert_eq!(count_elements(&svg, "circle", &["stroke=\"#D55E00\""]), 1);
        assert_eq!(count_elements(&svg, "circle", &["fill=\"#0072B2\""]), 2);
    }

    #[test]
    fn ranges_start_at_zero() {
        assert_eq!(range_from_zero([10.0, 20.0].into_iter()), 0.0..24.0);
        assert_eq!(range_from_zero([0.0, 0.0].into_iter()), 0.0..1.0);
        assert_eq!(range_from_zero(std::iter::empty()), 0.0..1.0);
        assert_eq!(range_from_zero([f64::NAN, 5.0].into_iter()), 0.0..6.0);
    }
}
