//! Requested against allocatable CPU and memory of one policy.

use autoscale_sim_sim::RunOutput;
use plotters::prelude::*;

use super::{
    FONT, LABEL_SIZE, LIGHT_GRID, LegendEntry, Mark, PlotError, Reduce, TimeAxis, WIDTH,
    axis_number, caption_and_legend, grouping_note, policy_colour, reduce, render_svg, upper_bound,
};

/// Height of the two-panel plot, in pixels.
const HEIGHT: u32 = 640;

/// Opacity of the requested area, so the allocatable line stays visible on top of it.
const REQUESTED_OPACITY: f64 = 0.35;

/// Bytes in a GiB.
const GIB: f64 = (1u64 << 30) as f64;

/// Draws two panels for `outputs[policy]`, CPU in vCPU and memory in GiB, in the policy's
/// colour. Each panel draws the allocatable resources of Ready nodes as a line and the requests
/// of the pods bound to them (DaemonSet pods included) as a filled area.
///
/// # Panics
///
/// Panics when `policy` is not an index into `outputs`.
pub fn requested_vs_allocatable(outputs: &[RunOutput], policy: usize) -> Result<String, PlotError> {
    let output = &outputs[policy];
    let axis = TimeAxis::of(outputs);
    let colour = policy_colour(policy);
    // One scale per resource for every policy's plot, so that their heights compare.
    let cpu_top = upper_bound(
        outputs
            .iter()
            .flat_map(|o| &o.samples)
            .map(|s| s.cpu_requested_millis.max(s.cpu_allocatable_millis) as f64 / 1000.0),
        1.0,
    );
    let memory_top = upper_bound(
        outputs
            .iter()
            .flat_map(|o| &o.samples)
            .map(|s| s.memory_requested_bytes.max(s.memory_allocatable_bytes) as f64 / GIB),
        1.0,
    );
    let panels = [
        (
            "CPU (vCPU)",
            cpu_top,
            reduce(&output.samples, &axis, Reduce::Mean, |s| {
                s.cpu_requested_millis as f64 / 1000.0
            }),
            reduce(&output.samples, &axis, Reduce::Mean, |s| {
                s.cpu_allocatable_millis as f64 / 1000.0
            }),
        ),
        (
            "memory (GiB)",
            memory_top,
            reduce(&output.samples, &axis, Reduce::Mean, |s| {
                s.memory_requested_bytes as f64 / GIB
            }),
            reduce(&output.samples, &axis, Reduce::Mean, |s| {
                s.memory_allocatable_bytes as f64 / GIB
            }),
        ),
    ];
    let caption = format!(
        "{}: requested and allocatable resources of Ready nodes{}",
        output.report.policy,
        grouping_note(&output.samples, Reduce::Mean)
    );

    let legend = [
        LegendEntry {
            label: "requested by pods on Ready nodes".into(),
            mark: Mark::Fill(colour, REQUESTED_OPACITY),
        },
        LegendEntry {
            label: "allocatable of Ready nodes".into(),
            mark: Mark::Line(colour),
        },
    ];

    render_svg("requested and allocatable", (WIDTH, HEIGHT), |root| {
        let area = caption_and_legend(root, &caption, &legend)?;
        for (panel, (unit, top, requested, allocatable)) in
            area.split_evenly((2, 1)).iter().zip(&panels)
        {
            let mut chart = ChartBuilder::on(panel)
                .margin(12)
                .margin_top(4)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(0.0..axis.end, 0.0..*top)?;
            chart
                .configure_mesh()
                .x_desc(axis.label)
                .y_desc(*unit)
                .x_label_formatter(&axis_number)
                .y_label_formatter(&axis_number)
                .label_style((FONT, LABEL_SIZE))
                .axis_desc_style((FONT, LABEL_SIZE))
                .max_light_lines(1)
                .light_line_style(LIGHT_GRID)
                .draw()?;

            chart.draw_series(AreaSeries::new(
                requested.iter().copied(),
                0.0,
                colour.mix(REQUESTED_OPACITY).filled(),
            ))?;
            chart.draw_series(LineSeries::new(
                allocatable.iter().copied(),
                colour.stroke_width(2),
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
    fn two_panels_two_series_each() {
        let outputs = two_policies();

        let svg = requested_vs_allocatable(&outputs, 1).unwrap();

        assert_well_formed(&svg);
        assert!(svg.contains("karpenter: requested and allocatable resources of Ready nodes"));
        assert!(svg.contains("\nCPU (vCPU)\n"));
        assert!(svg.contains("\nmemory (GiB)\n"));
        assert!(svg.contains("requested by pods on Ready nodes"));
        assert!(svg.contains("allocatable of Ready nodes"));
        assert_eq!(svg.matches("time since start (hours)").count(), 2);
        assert_eq!(
            count_elements(&svg, "polygon", &[]),
            2,
            "a requested area per panel"
        );
        assert_eq!(
            count_elements(
                &svg,
                "polyline",
                &["stroke=\"#D55E00\"", "stroke-width=\"2\""]
            ),
            2,
            "an allocatable line per panel in karpenter's colour"
        );
    }
}
