//! Cost rate of every policy, with the load on a second axis.

use autoscale_sim_sim::RunOutput;
use plotters::prelude::*;

use super::{
    FONT, HEIGHT, LABEL_SIZE, LIGHT_GRID, LegendEntry, Mark, PlotError, Reduce, Series, TimeAxis,
    WIDTH, axis_number, caption_and_legend, grouping_note, policy_lines, reduce, render_svg,
    upper_bound,
};

/// Colour of the load, drawn behind the cost lines.
const LOAD_COLOUR: RGBColor = RGBColor(0x99, 0x99, 0x99);

/// Draws the cost rate of each policy's nodes in $/h (the sum of their hourly prices, launching
/// and deleting nodes included) as one line per policy, and the load as a grey area on the right
/// axis. All policies of a comparison face the same load, so it is drawn once, from the first
/// policy's samples.
pub fn cost_rate_and_load(outputs: &[RunOutput]) -> Result<String, PlotError> {
    let axis = TimeAxis::of(outputs);
    let lines = policy_lines(outputs, &axis, Reduce::Mean, |s| s.cost_rate_usd_per_hour);
    let load: Vec<(f64, f64)> = outputs
        .first()
        .map(|o| reduce(&o.samples, &axis, Reduce::Mean, |s| s.load))
        .unwrap_or_default();
    let cost_top = upper_bound(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)), 1.0);
    let load_top = upper_bound(load.iter().map(|p| p.1), 1.0);
    let caption = format!(
        "Cost rate and load{}",
        outputs
            .first()
            .map(|o| grouping_note(&o.samples, Reduce::Mean))
            .unwrap_or_default()
    );

    let mut legend = vec![LegendEntry {
        label: "load (right axis)".into(),
        mark: Mark::Fill(LOAD_COLOUR, 0.4),
    }];
    legend.extend(lines.iter().map(Series::legend_entry));

    render_svg("cost rate", (WIDTH, HEIGHT), |root| {
        let area = caption_and_legend(root, &caption, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .margin_top(4)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .right_y_label_area_size(64)
            .build_cartesian_2d(0.0..axis.end, 0.0..cost_top)?
            .set_secondary_coord(0.0..axis.end, 0.0..load_top);
        chart
            .configure_mesh()
            .x_desc(axis.label)
            .y_desc("cost rate ($/h)")
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .max_light_lines(1)
            .light_line_style(LIGHT_GRID)
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("load (sum of the scenario loads)")
            .y_label_formatter(&axis_number)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .draw()?;

        chart.draw_secondary_series(
            AreaSeries::new(load.iter().copied(), 0.0, LOAD_COLOUR.mix(0.22).filled())
                .border_style(LOAD_COLOUR.stroke_width(1)),
        )?;
        for line in &lines {
            chart.draw_series(LineSeries::new(
                line.points.iter().copied(),
                line.colour.stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_data::*;
    use super::*;

    #[test]
    fn line_per_policy_and_load() {
        let outputs = two_policies();

        let svg = cost_rate_and_load(&outputs).unwrap();

        assert_well_formed(&svg);
        assert!(svg.contains("cost rate ($/h)"));
        assert!(svg.contains("load (sum of the scenario loads)"));
        assert!(svg.contains("time since start (hours)"));
        assert!(svg.contains("cluster-autoscaler"));
        assert!(svg.contains("karpenter"));
        assert!(svg.contains("load (right axis)"));
        assert_eq!(count_elements(&svg, "polygon", &[]), 1, "the load area");
        assert_eq!(
            count_elements(&svg, "polyline", &["stroke=\"#999999\""]),
            1,
            "its border"
        );
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
        assert_eq!(
            count_elements(&svg, "polyline", &["stroke=\"#D55E00\""]),
            2,
            "line and legend"
        );
    }
}
