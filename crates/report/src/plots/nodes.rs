//! Nodes over time, stacked by instance type.

use std::collections::BTreeMap;

use autoscale_sim_sim::RunOutput;
use plotters::prelude::*;

use super::{
    FONT, HEIGHT, LABEL_SIZE, LIGHT_GRID, LegendEntry, Mark, PlotError, Reduce, TimeAxis, WIDTH,
    axis_number, caption_and_legend, count_axis, grouping_note, reduce_values, render_svg,
};

/// Instance-type colours (Tableau 10 without its grey), given to the types with the most
/// node-minutes over all policies, so a type has the same colour in every policy's plot.
const TYPE_COLOURS: [RGBColor; 9] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
];

/// Colour of the band that gathers the instance types beyond the palette.
const OTHER_COLOUR: RGBColor = RGBColor(0xBA, 0xB0, 0xAC);

/// Splits a sample's `fleet` (`type=count` pairs joined by `;`) into pairs; malformed pairs are
/// left out.
fn parse_fleet(fleet: &str) -> impl Iterator<Item = (&str, u32)> {
    fleet.split(';').filter_map(|pair| {
        let (name, count) = pair.split_once('=')?;
        Some((name, count.trim().parse().ok()?))
    })
}

/// Ranks instance types by node-minutes over all outputs, most first, ties by name.
fn ranked_types(outputs: &[RunOutput]) -> Vec<String> {
    let mut minutes: BTreeMap<&str, u64> = BTreeMap::new();
    for sample in outputs.iter().flat_map(|o| &o.samples) {
        for (name, count) in parse_fleet(&sample.fleet) {
            *minutes.entry(name).or_default() += u64::from(count);
        }
    }
    let mut ranked: Vec<(&str, u64)> = minutes.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked
        .into_iter()
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Draws the nodes of `outputs[policy]` over time as areas stacked by instance type (launching
/// and deleting nodes included), the type with the most node-minutes at the bottom. Types beyond
/// the nine with the most node-minutes over all policies share one grey band.
///
/// # Panics
///
/// Panics when `policy` is not an index into `outputs`.
pub fn nodes_by_instance_type(outputs: &[RunOutput], policy: usize) -> Result<String, PlotError> {
    let output = &outputs[policy];
    let axis = TimeAxis::of(outputs);

    // Bands: the palette's types in rank order, then one band for all the others.
    let ranked = ranked_types(outputs);
    let coloured = &ranked[..ranked.len().min(TYPE_COLOURS.len())];
    let band_of = |name: &str| {
        coloured
            .iter()
            .position(|t| t == name)
            .unwrap_or(coloured.len())
    };
    let mut counts = vec![vec![0.0; output.samples.len()]; coloured.len() + 1];
    let mut others: Vec<&str> = Vec::new();
    for (index, sample) in output.samples.iter().enumerate() {
        for (name, count) in parse_fleet(&sample.fleet) {
            let band = band_of(name);
            counts[band][index] += f64::from(count);
            if band == coloured.len() && !others.contains(&name) {
                others.push(name);
            }
        }
    }

    // Stack: each band's top is the sum of the bands below it and its own count.
    let times: Vec<u64> = output.samples.iter().map(|s| s.time_seconds).collect();
    let mut running = vec![0.0; times.len()];
    let mut stacked = Vec::new();
    for (band, values) in counts.iter().enumerate() {
        if values.iter().all(|v| *v == 0.0) {
            continue;
        }
        for (total, value) in running.iter_mut().zip(values) {
            *total += value;
        }
        let (label, colour) = if band < coloured.len() {
            (coloured[band].clone(), TYPE_COLOURS[band])
        } else {
            let label = match others.len() {
                1 => others[0].to_string(),
                n => format!("{n} other types"),
            };
            (label, OTHER_COLOUR)
        };
        stacked.push((
            label,
            colour,
            reduce_values(&times, &running, &axis, Reduce::Mean),
        ));
    }
    // One scale for every policy's plot, so that their heights compare.
    let (top, labels) = count_axis(outputs.iter().flat_map(|o| &o.samples).map(|sample| {
        parse_fleet(&sample.fleet)
            .map(|(_, count)| f64::from(count))
            .sum()
    }));
    let caption = format!(
        "{}: nodes by instance type{}",
        output.report.policy,
        grouping_note(&output.samples, Reduce::Mean)
    );

    // Legend from the top band down, as the bands appear.
    let legend: Vec<LegendEntry> = stacked
        .iter()
        .rev()
        .map(|(label, colour, _)| LegendEntry {
            label: label.clone(),
            mark: Mark::Fill(*colour, 1.0),
        })
        .collect();

    render_svg("nodes by instance type", (WIDTH, HEIGHT), |root| {
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
            .y_desc("nodes (launching and deleting included)")
            .y_labels(labels)
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .max_light_lines(1)
            .light_line_style(LIGHT_GRID)
            .draw()?;

        // The highest band first, so each lower band is painted over the part that is its own.
        for (_, colour, points) in stacked.iter().rev() {
            chart.draw_series(AreaSeries::new(
                points.iter().copied(),
                0.0,
                colour.filled(),
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
    fn fleet_parse_skips_malformed() {
        let pairs: Vec<(&str, u32)> =
            parse_fleet("m5.large=2;bad;c5.xlarge=x;r5.large=1").collect();

        assert_eq!(pairs, [("m5.large", 2), ("r5.large", 1)]);
        assert_eq!(parse_fleet("").count(), 0);
    }

    #[test]
    fn one_band_per_type() {
        let outputs = two_policies();

        let svg = nodes_by_instance_type(&outputs, 0).unwrap();

        assert_well_formed(&svg);
        assert!(svg.contains("cluster-autoscaler: nodes by instance type"));
        assert!(svg.contains("time since start (hours)"));
        assert!(svg.contains("nodes (launching and deleting included)"));
        assert!(svg.contains("\nc5d.4xlarge\n"));
        assert!(svg.contains("\nr5.2xlarge\n"));
        assert!(
            !svg.contains("m5a.4xlarge"),
            "karpenter's type is not in this plot"
        );
        assert_eq!(count_elements(&svg, "polygon", &[]), 2, "one band per type");
    }

    #[test]
    fn type_colours_shared_between_policies() {
        // c5.large has half the node-minutes of m5.large over all runs, so it ranks second.
        let outputs = vec![
            run("a", 60, &["m5.large"]),
            run("b", 60, &["m5.large"]),
            run("c", 60, &["c5.large"]),
        ];
        let second = "fill=\"#F28E2B\"";

        let a = nodes_by_instance_type(&outputs, 0).unwrap();
        let c = nodes_by_instance_type(&outputs, 2).unwrap();

        assert_eq!(count_elements(&a, "polygon", &["fill=\"#4E79A7\""]), 1);
        assert_eq!(count_elements(&c, "polygon", &[second]), 1);
        assert_eq!(count_elements(&c, "polygon", &[]), 1);
    }

    #[test]
    fn policies_share_node_scale() {
        // cluster-autoscaler peaks at 11 nodes of two types, karpenter at 5 of one type.
        let outputs = two_policies();

        let karpenter = nodes_by_instance_type(&outputs, 1).unwrap();

        assert!(
            karpenter.contains("\n10\n"),
            "karpenter's axis reaches cluster-autoscaler's peak"
        );
    }

    #[test]
    fn types_beyond_palette_share_band() {
        let names: Vec<String> = (0..12).map(|i| format!("m{i}.large")).collect();
        let types: Vec<&str> = names.iter().map(String::as_str).collect();
        let outputs = vec![run("many", 30, &types)];

        let svg = nodes_by_instance_type(&outputs, 0).unwrap();

        assert!(svg.contains("3 other types"));
        assert_eq!(count_elements(&svg, "polygon", &[]), 10);
        assert_eq!(count_elements(&svg, "polygon", &["fill=\"#BAB0AC\""]), 1);
    }

    #[test]
    fn empty_run_draws_axes() {
        let outputs = vec![run("idle", 0, &[])];

        let svg = nodes_by_instance_type(&outputs, 0).unwrap();

        assert_well_formed(&svg);
        assert_eq!(count_elements(&svg, "polygon", &[]), 0);
    }
}
