//! Pending pods over time and the percentiles of pod pending time.

use autoscale_sim_sim::RunOutput;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    FONT, HEIGHT, LABEL_SIZE, LIGHT_GRID, LegendEntry, Mark, PlotError, Reduce, Series, TimeAxis,
    WIDTH, axis_number, caption_and_legend, count_axis, grouping_note, policy_colour, policy_lines,
    render_svg, upper_bound,
};

/// Draws the number of Pending pods over time, one line per policy. When samples are grouped,
/// each point is the group's maximum, so a short backlog stays visible.
pub fn pending_pods(outputs: &[RunOutput]) -> Result<String, PlotError> {
    let axis = TimeAxis::of(outputs);
    let lines = policy_lines(outputs, &axis, Reduce::Max, |s| s.pods_pending as f64);
    let (top, labels) = count_axis(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)));
    let caption = format!(
        "Pending pods{}",
        outputs
            .first()
            .map(|o| grouping_note(&o.samples, Reduce::Max))
            .unwrap_or_default()
    );

    let legend: Vec<LegendEntry> = lines.iter().map(Series::legend_entry).collect();

    render_svg("pending pods", (WIDTH, HEIGHT), |root| {
        let area = caption_and_legend(root, &caption, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .margin_top(4)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..axis.end, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc(axis.label)
            .y_desc("pending pods (count)")
            .y_labels(labels)
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .max_light_lines(1)
            .light_line_style(LIGHT_GRID)
            .draw()?;
        for line in &lines {
            chart.draw_series(LineSeries::new(
                line.points.iter().copied(),
                line.colour.stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

/// Percentile labels of [`pending_time_percentiles`], in bar order.
const PERCENTILES: [&str; 4] = ["p50", "p95", "p99", "max"];

/// Draws the pod pending time (creation to binding) as grouped bars, one bar per policy, each
/// labelled with its value in seconds. The groups are the 50th, 95th and 99th percentiles over
/// the pods that were bound, and the maximum, which includes pods still Pending at the end.
///
/// NOTE: a run's output carries only these four figures, not every pod's pending time, so the
/// distribution is drawn from them rather than as a histogram.
pub fn pending_time_percentiles(outputs: &[RunOutput]) -> Result<String, PlotError> {
    let values: Vec<[f64; 4]> = outputs
        .iter()
        .map(|o| {
            let r = &o.report;
            [
                r.pod_pending_p50_seconds,
                r.pod_pending_p95_seconds,
                r.pod_pending_p99_seconds,
                r.pod_pending_max_seconds,
            ]
        })
        .collect();
    let top = upper_bound(values.iter().flatten().copied(), 1.0) * 1.08;
    let bar_width = 0.8 / outputs.len().max(1) as f64;

    let legend: Vec<LegendEntry> = outputs
        .iter()
        .enumerate()
        .map(|(index, output)| LegendEntry {
            label: output.report.policy.clone(),
            mark: Mark::Fill(policy_colour(index), 1.0),
        })
        .collect();

    render_svg("pending time percentiles", (WIDTH, HEIGHT), |root| {
        let area = caption_and_legend(
            root,
            "Pod pending time, creation to binding (max includes pods still Pending)",
            &legend,
        )?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .margin_top(4)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..PERCENTILES.len() as f64 - 0.5, 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(PERCENTILES.len())
            .x_label_formatter(&|x| {
                let index = x.round();
                if (x - index).abs() < 1e-6 && index >= 0.0 {
                    PERCENTILES
                        .get(index as usize)
                        .copied()
                        .unwrap_or_default()
                        .to_string()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&axis_number)
            .x_desc("percentile over bound pods")
            .y_desc("pending time (s)")
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .max_light_lines(1)
            .light_line_style(LIGHT_GRID)
            .draw()?;

        let value_font =
            TextStyle::from((FONT, 16).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (policy, seconds) in values.iter().enumerate() {
            let colour = policy_colour(policy);
            let left = |group: usize| group as f64 - 0.4 + policy as f64 * bar_width;
            chart.draw_series(seconds.iter().enumerate().map(|(group, value)| {
                Rectangle::new(
                    [(left(group), 0.0), (left(group) + bar_width, *value)],
                    colour.filled(),
                )
            }))?;
            chart.draw_series(seconds.iter().enumerate().map(|(group, value)| {
                Text::new(
                    format!("{} s", axis_number(&value.round())),
                    (left(group) + bar_width / 2.0, *value),
                    value_font.clone(),
                )
            }))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_data::*;
    use super::*;

    #[test]
    fn pending_line_per_policy() {
        let outputs = two_policies();

        let svg = pending_pods(&outputs).unwrap();

        assert_well_formed(&svg);
        assert!(svg.contains("pending pods (count)"));
        assert!(svg.contains("time since start (hours)"));
        assert!(svg.contains("cluster-autoscaler"));
        assert!(svg.contains("karpenter"));
        assert_eq!(
            count_elements(&svg, "polyline", &["stroke-width=\"2\""]),
            2,
            "a line per policy"
        );
        assert_eq!(
            count_elements(&svg, "polyline", &["stroke=\"#0072B2\""]),
            2,
            "line and legend"
        );
    }

    #[test]
    fn percentile_bars_per_policy() {
        let outputs = two_policies();

        let svg = pending_time_percentiles(&outputs).unwrap();

        assert_well_formed(&svg);
        assert!(svg.contains("pending time (s)"));
        assert!(svg.contains("percentile over bound pods"));
        for label in PERCENTILES {
            // plotters writes a text element's content on a line of its own.
            assert!(
                svg.contains(&format!(">\n{label}\n<")),
                "axis label {label}"
            );
        }
        assert!(svg.contains("karpenter"));
        assert!(svg.contains("58 s"), "cluster-autoscaler's p95 is labelled");
        assert!(svg.contains("49 s"), "karpenter's p95 is labelled");
        assert_eq!(
            count_elements(&svg, "rect", &["fill=\"#0072B2\""]),
            5,
            "4 bars and a legend"
        );
        assert_eq!(
            count_elements(&svg, "rect", &["fill=\"#D55E00\""]),
            5,
            "4 bars and a legend"
        );
    }
}
