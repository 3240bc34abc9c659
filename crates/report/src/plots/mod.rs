//! SVG plots of runs, drawn with plotters.
//!
//! Every function takes the outputs of all policies of one comparison, in scenario order, so that
//! a policy keeps the colour of its position ([`policy_colour`]) in every plot and in the HTML
//! report. Time axes count hours (runs of up to two days) or days from the scenario's start.
//!
//! Runs longer than [`MAX_POINTS`] samples are drawn from fixed-size groups of consecutive
//! samples: time-weighted quantities (nodes, cost rate, resources, load) from each group's mean,
//! so that areas keep their integrals, and pending pods from each group's maximum, so that short
//! spikes stay visible. The caption then names the group length.

mod allocation;
mod comparison;
mod cost;
mod nodes;
mod pending;

pub use allocation::requested_vs_allocatable;
pub use comparison::cost_against_p95_pending;
pub use cost::cost_rate_and_load;
pub use nodes::nodes_by_instance_type;
pub use pending::{pending_pods, pending_time_histogram};

use autoscale_sim_sim::{RunOutput, Sample};
use plotters::style::RGBColor;

/// Width of every plot, in pixels (the SVG's `viewBox`; the HTML page scales it to fit).
pub const WIDTH: u32 = 1000;

/// Height of a plot with one panel, in pixels.
pub const HEIGHT: u32 = 440;

/// Most points drawn per line; longer runs are drawn from groups of consecutive samples.
pub const MAX_POINTS: usize = 1000;

/// Font family of every label. The SVG names a generic family, so the viewer's own sans-serif
/// font renders it and the page needs no font file.
const FONT: &str = "sans-serif";

/// Policy colours by position in the scenario: the Okabe–Ito palette, which readers with the
/// common forms of colour blindness can tell apart. Yellow comes last because it is faint on white.
const POLICY_COLOURS: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0xF0, 0xE4, 0x42),
];

/// Returns the colour of the policy at `index` in the scenario's policy list; the palette repeats
/// after eight policies.
pub fn policy_colour(index: usize) -> RGBColor {
    POLICY_COLOURS[index % POLICY_COLOURS.len()]
}

/// Returns [`policy_colour`] as a CSS hex colour such as `#0072b2`.
pub fn policy_colour_hex(index: usize) -> String {
    let RGBColor(red, green, blue) = policy_colour(index);
    format!("#{red:02x}{green:02x}{blue:02x}")
}

/// One drawn plot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plot {
    /// File name in the output folder, such as `cost-rate.svg`.
    pub file_name: String,
    /// One-line description for the HTML report.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// A plot that plotters could not draw.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the {plot} plot: {message}")]
pub struct PlotError {
    /// Which plot.
    pub plot: String,
    /// The drawing library's error.
    pub message: String,
}

/// Result of the drawing steps inside one plot function; plotters' errors convert into it.
type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// The drawing surface of one plot.
type Canvas<'a> =
    plotters::drawing::DrawingArea<plotters::backend::SVGBackend<'a>, plotters::coord::Shift>;

/// Font size of labels, tick labels and legends, in plotters units (the SVG font size is this
/// divided by 1.24, so 17 is about 13.7 px).
const LABEL_SIZE: u32 = 17;

/// Font size of captions, in plotters units.
const CAPTION_SIZE: u32 = 24;

/// Colour of the minor grid lines, one between each pair of labelled ticks.
const LIGHT_GRID: RGBColor = RGBColor(0xF0, 0xF0, 0xF0);

/// The sample mark of a legend entry.
#[derive(Clone, Copy, Debug)]
enum Mark {
    /// A line in this colour.
    Line(RGBColor),
    /// A filled square in this colour at this opacity (0 to 1).
    Fill(RGBColor, f64),
    /// A filled circle in this colour.
    Point(RGBColor),
    /// A hollow circle in this colour, for a policy the plot has no point for.
    Ring(RGBColor),
}

/// One legend entry.
#[derive(Clone, Debug)]
struct LegendEntry {
    label: String,
    mark: Mark,
}

/// Height of one legend row, in pixels.
const LEGEND_ROW: u32 = 24;

/// Left edge of the legend, in pixels: in line with the plot's vertical axis.
const LEGEND_LEFT: i32 = 76;

/// Lays `entries` out left to right from [`LEGEND_LEFT`], wrapping at the canvas' right edge,
/// and returns each entry's top-left corner. Label widths are estimated at 8 px per character,
/// an estimate above the average character width of a 13.7 px sans-serif font.
fn legend_layout(entries: &[LegendEntry], width: u32) -> Vec<(i32, i32)> {
    let right = width as i32 - 12;
    let mut corners = Vec::new();
    let (mut x, mut y) = (LEGEND_LEFT, 0);
    for entry in entries {
        let entry_width = 30 + 8 * entry.label.chars().count() as i32 + 26;
        if x > LEGEND_LEFT && x + entry_width > right {
            x = LEGEND_LEFT;
            y += LEGEND_ROW as i32;
        }
        corners.push((x, y));
        x += entry_width;
    }
    corners
}

/// Draws `caption` and, below it, the legend `entries` in rows; returns the area left for the
/// plot. Legends sit above the plot so they never cover data.
fn caption_and_legend<'a>(
    root: &Canvas<'a>,
    caption: &str,
    entries: &[LegendEntry],
) -> Result<Canvas<'a>, Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    let area = root.titled(caption, (FONT, CAPTION_SIZE))?;
    let corners = legend_layout(entries, area.dim_in_pixel().0);
    let rows = corners
        .last()
        .map_or(0, |(_, y)| *y as u32 / LEGEND_ROW + 1);
    let (legend, plot) = area.split_vertically(rows * LEGEND_ROW + 6);
    let font =
        TextStyle::from((FONT, LABEL_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (entry, (x, y)) in entries.iter().zip(corners) {
        let middle = y + LEGEND_ROW as i32 / 2;
        match entry.mark {
            Mark::Line(colour) => legend.draw(&PathElement::new(
                [(x, middle), (x + 22, middle)],
                colour.stroke_width(3),
            ))?,
            Mark::Fill(colour, opacity) => legend.draw(&Rectangle::new(
                [(x, middle - 7), (x + 22, middle + 7)],
                colour.mix(opacity).filled(),
            ))?,
            Mark::Point(colour) => {
                legend.draw(&Circle::new((x + 11, middle), 7, colour.filled()))?
            }
            Mark::Ring(colour) => {
                legend.draw(&Circle::new((x + 11, middle), 6, colour.stroke_width(2)))?
            }
        }
        legend.draw(&Text::new(
            entry.label.clone(),
            (x + 30, middle),
            font.clone(),
        ))?;
    }
    Ok(plot)
}
/// Runs `draw` on an SVG canvas of `size` pixels and returns the SVG text.
fn render_svg(
    plot: &str,
    size: (u32, u32),
    draw: impl FnOnce(&Canvas<'_>) -> DrawResult,
) -> Result<String, PlotError> {
    use plotters::prelude::*;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        let result = root
            .fill(&WHITE)
            .map_err(Into::into)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(Into::into));
        result.map_err(|error| PlotError {
            plot: plot.to_string(),
            message: error.to_string(),
        })?;
    }
    Ok(svg)
}

/// Draws every plot of a comparison: the cost and pending-time comparison, the cost rate with
/// the load, pending pods, the histogram of pod pending time, and per policy the nodes by instance
/// type and requested versus allocatable resources.
pub fn all_plots(outputs: &[RunOutput]) -> Result<Vec<Plot>, PlotError> {
    let mut plots = vec![
        Plot {
            file_name: "cost-vs-p95-pending.svg".into(),
            title: "Total cost against 95th percentile pod pending time, one point per policy"
                .into(),
            svg: cost_against_p95_pending(outputs)?,
        },
        Plot {
            file_name: "cost-rate.svg".into(),
            title: "Cost rate of the running nodes, with the load on the right axis".into(),
            svg: cost_rate_and_load(outputs)?,
        },
        Plot {
            file_name: "pending-pods.svg".into(),
            title: "Pending pods over time".into(),
            svg: pending_pods(outputs)?,
        },
        Plot {
            file_name: "pending-time.svg".into(),
            title: "Distribution of pod pending time over the bound pods".into(),
            svg: pending_time_histogram(outputs)?,
        },
    ];
    let names = file_stems(outputs);
    for (index, output) in outputs.iter().enumerate() {
        plots.push(Plot {
            file_name: format!("nodes-{}.svg", names[index]),
            title: format!("{}: nodes by instance type", output.report.policy),
            svg: nodes_by_instance_type(outputs, index)?,
        });
    }
    for (index, output) in outputs.iter().enumerate() {
        plots.push(Plot {
            file_name: format!("allocation-{}.svg", names[index]),
            title: format!(
                "{}: requested and allocatable CPU and memory",
                output.report.policy
            ),
            svg: requested_vs_allocatable(outputs, index)?,
        });
    }
    Ok(plots)
}

/// File-name stems for the policies: the name with every character other than ASCII letters,
/// digits, `-`, `_` and `.` replaced by `_`, and the position appended when two stems collide.
fn file_stems(outputs: &[RunOutput]) -> Vec<String> {
    let sanitized: Vec<String> = outputs
        .iter()
        .map(|o| {
            let stem: String = o
                .report
                .policy
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if stem.is_empty() || stem.starts_with('.') {
                format!("policy{stem}")
            } else {
                stem
            }
        })
        .collect();
    sanitized
        .iter()
        .enumerate()
        .map(|(index, stem)| {
            if sanitized.iter().filter(|s| *s == stem).count() > 1 {
                format!("{stem}-{}", index + 1)
            } else {
                stem.clone()
            }
        })
        .collect()
}

/// The time axis shared by the time-series plots.
#[derive(Clone, Copy, Debug, PartialEq)]
struct TimeAxis {
    /// Seconds per axis unit: 3600 (hours) or 86,400 (days).
    unit_seconds: f64,
    /// Axis description, with the unit.
    label: &'static str,
    /// Right end of the axis, in axis units: the last sample's time, at least one minute.
    end: f64,
}

impl TimeAxis {
    /// Chooses hours for runs whose samples span up to two days and days for longer ones.
    fn of(outputs: &[RunOutput]) -> TimeAxis {
        let last = outputs
            .iter()
            .flat_map(|o| o.samples.last())
            .map(|s| s.time_seconds)
            .max()
            .unwrap_or(0)
            .max(60);
        let (unit_seconds, label) = if last <= 2 * 86_400 {
            (3600.0, "time since start (hours)")
        } else {
            (86_400.0, "time since start (days)")
        };
        TimeAxis {
            unit_seconds,
            label,
            end: last as f64 / unit_seconds,
        }
    }

    /// Converts seconds since the start to axis units.
    fn at(&self, seconds: f64) -> f64 {
        seconds / self.unit_seconds
    }
}

/// One line of a time-series plot.
struct Series {
    /// Legend label.
    label: String,
    colour: RGBColor,
    /// Points as (time in axis units, value).
    points: Vec<(f64, f64)>,
}

impl Series {
    fn legend_entry(&self) -> LegendEntry {
        LegendEntry {
            label: self.label.clone(),
            mark: Mark::Line(self.colour),
        }
    }
}

/// Builds one line per policy, in the policy's colour, from `value` of its samples.
fn policy_lines(
    outputs: &[RunOutput],
    axis: &TimeAxis,
    how: Reduce,
    value: impl Fn(&Sample) -> f64 + Copy,
) -> Vec<Series> {
    outputs
        .iter()
        .enumerate()
        .map(|(index, output)| Series {
            label: output.report.policy.clone(),
            colour: policy_colour(index),
            points: reduce(&output.samples, axis, how, value),
        })
        .collect()
}

/// Reduction of a group of consecutive samples to one point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reduce {
    /// The mean, for quantities whose integral over time matters.
    Mean,
    /// The maximum, for spikes that must stay visible.
    Max,
}

/// Group sizes, in samples, that read as round spans with the default one-minute sample
/// interval (5 min, 15 min, 1 h, ...).
const ROUND_GROUP_SIZES: [usize; 15] = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 360];

/// Returns the number of consecutive samples drawn as one point so that at most [`MAX_POINTS`]
/// remain: the smallest of [`ROUND_GROUP_SIZES`] that is large enough, or the exact size beyond
/// them.
fn group_size(samples: usize) -> usize {
    let needed = samples.div_ceil(MAX_POINTS).max(1);
    ROUND_GROUP_SIZES
        .iter()
        .copied()
        .find(|size| *size >= needed)
        .unwrap_or(needed)
}

/// Reduces `samples` to at most [`MAX_POINTS`] points `(time in axis units, value)`: one per
/// group of [`group_size`] samples, placed at the middle of the group's sample times. Non-finite
/// values are left out of their group.
fn reduce(
    samples: &[Sample],
    axis: &TimeAxis,
    how: Reduce,
    value: impl Fn(&Sample) -> f64,
) -> Vec<(f64, f64)> {
    reduce_values(
        &samples.iter().map(|s| s.time_seconds).collect::<Vec<_>>(),
        &samples.iter().map(value).collect::<Vec<_>>(),
        axis,
        how,
    )
}

/// Reduces parallel slices of sample times (seconds) and values, as [`reduce`] does.
fn reduce_values(times: &[u64], values: &[f64], axis: &TimeAxis, how: Reduce) -> Vec<(f64, f64)> {
    let size = group_size(times.len());
    times
        .chunks(size)
        .zip(values.chunks(size))
        .filter_map(|(times, values)| {
            let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            if finite.is_empty() {
                return None;
            }
            let value = match how {
                Reduce::Mean => finite.iter().sum::<f64>() / finite.len() as f64,
                Reduce::Max => finite.iter().copied().fold(f64::MIN, f64::max),
            };
            let middle = (times[0] + times[times.len() - 1]) as f64 / 2.0;
            Some((axis.at(middle), value))
        })
        .collect()
}

/// Returns the caption suffix that names the group length when samples are grouped, such as
/// ` (mean of each 12 min)`, or an empty string when every sample is drawn.
fn grouping_note(samples: &[Sample], how: Reduce) -> String {
    let size = group_size(samples.len());
    if size == 1 || samples.len() < 2 {
        return String::new();
    }
    let interval = samples[1]
        .time_seconds
        .saturating_sub(samples[0].time_seconds);
    let span = interval * size as u64;
    let span = if span % 3600 == 0 {
        format!("{} h", span / 3600)
    } else if span % 60 == 0 {
        format!("{} min", span / 60)
    } else {
        format!("{span} s")
    };
    let word = match how {
        Reduce::Mean => "mean",
        Reduce::Max => "maximum",
    };
    format!(" ({word} of each {span})")
}

/// Returns the top of a value axis: the largest finite value plus 8 % headroom, so that lines do
/// not touch the top edge, or `fallback` when no value is above 0.
fn upper_bound(values: impl Iterator<Item = f64>, fallback: f64) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0, f64::max);
    if max > 0.0 { max * 1.08 } else { fallback }
}

/// Returns the top of a count axis (nodes, pods) and its number of labels, so that every label
/// is a whole number: the largest value plus 8 % headroom rounded up, and at least 4.
fn count_axis(values: impl Iterator<Item = f64>) -> (f64, usize) {
    let top = upper_bound(values, 4.0).ceil().max(4.0);
    (top, (top as usize + 1).min(11))
}

/// Formats an axis value without trailing zeros: `0`, `2.5`, `1200`.
fn axis_number(value: &f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    if rounded == rounded.trunc() {
        format!("{rounded:.0}")
    } else {
        let text = format!("{rounded:.3}");
        text.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
pub(crate) mod test_data {
    //! Small runs for the plot and HTML tests.

    use autoscale_sim_sim::{Decision, RunOutput, RunReport, Sample};

    /// Builds a run of `minutes` one-minute samples whose fleet moves between `types`.
    pub(crate) fn run(policy: &str, minutes: u64, types: &[&str]) -> RunOutput {
        let samples = (0..minutes)
            .map(|minute| {
                let count = 1 + (minute % 5) as u32;
                let fleet = types
                    .iter()
                    .enumerate()
                    .map(|(i, t)| format!("{t}={}", count + i as u32))
                    .collect::<Vec<_>>()
                    .join(";");
                Sample {
                    policy: policy.into(),
                    time_seconds: minute * 60,
                    hour_of_day: 0.0,
                    load: 100.0 + minute as f64,
                    pods: 10,
                    pods_pending: minute % 3,
                    nodes: types.len() as u32 * count,
                    nodes_launching: 0,
                    cpu_requested_millis: 3_000 + minute as i64,
                    cpu_allocatable_millis: 8_000,
                    memory_requested_bytes: 4 << 30,
                    memory_allocatable_bytes: 16 << 30,
                    cost_rate_usd_per_hour: 0.5 + minute as f64 / 100.0,
                    fleet,
                }
            })
            .collect();
        RunOutput {
            report: RunReport {
                policy: policy.into(),
                total_cost_usd: 12.5 + policy.len() as f64,
                cost_by_instance_type: types
                    .iter()
                    .map(|t| {
                        (
                            t.to_string(),
                            (12.5 + policy.len() as f64) / types.len() as f64,
                        )
                    })
                    .collect(),
                pod_pending_p50_seconds: 3.0,
                pod_pending_p95_seconds: 40.0 + policy.len() as f64,
                pod_pending_p99_seconds: 60.0,
                pod_pending_max_seconds: 90.0,
                ..Default::default()
            },
            samples,
            pod_pending_times_ms: vec![
                0,
                0,
                2_000,
                (40 + policy.len() as u64) * 1000,
                60_000,
                90_000,
            ],
            decisions: vec![Decision {
                time_ms: 60_000,
                time: "0d00:01:00.000".into(),
                policy: policy.into(),
                action: "launch".into(),
                node: "node-1".into(),
                instance_type: types.first().copied().unwrap_or("m5.large").into(),
                zone: "us-east-1a".into(),
                pod: None,
                reason: "Launch".into(),
                detail: "2 pods unschedulable <pending>".into(),
            }],
        }
    }

    /// Two policies over six hours.
    pub(crate) fn two_policies() -> Vec<RunOutput> {
        vec![
            run("cluster-autoscaler", 360, &["c5d.4xlarge", "r5.2xlarge"]),
            run("karpenter", 360, &["m5a.4xlarge"]),
        ]
    }

    /// Counts the `tag` elements of `svg` whose attributes contain every one of `fragments`,
    /// such as a series' colour and line width. plotters writes one element per line.
    pub(crate) fn count_elements(svg: &str, tag: &str, fragments: &[&str]) -> usize {
        let open = format!("<{tag} ");
        svg.lines()
            .filter(|line| line.starts_with(&open) && fragments.iter().all(|f| line.contains(f)))
            .count()
    }

    /// Checks that every opening tag of `svg` is closed in order, like an XML parser would.
    pub(crate) fn assert_well_formed(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').expect("every tag ends") + start;
            let tag = &rest[start + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().expect("a closing tag has an opening tag");
                assert_eq!(open, name.trim(), "tags close in order");
            } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
                let name = tag.split_whitespace().next().expect("a tag has a name");
                stack.push(name.to_string());
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed tags {stack:?}");
        assert!(
            svg.trim_start().starts_with("<svg"),
            "the document is an SVG"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::test_data::*;
    use super::*;

    #[test]
    fn colours_repeat_after_palette() {
        assert_eq!(policy_colour(0), policy_colour(8));
        assert_ne!(policy_colour(0), policy_colour(1));
        assert_eq!(policy_colour_hex(0), "#0072b2");
    }

    #[test]
    fn time_axis_hours_or_days() {
        let short = TimeAxis::of(&[run("a", 360, &["m5.large"])]);
        let long = TimeAxis::of(&[run("a", 3 * 1440, &["m5.large"])]);

        assert_eq!(short.label, "time since start (hours)");
        assert!((short.end - 359.0 / 60.0).abs() < 1e-9);
        assert_eq!(long.label, "time since start (days)");
    }

    #[test]
    fn reduce_keeps_at_most_max_points() {
        let output = run("a", 7 * 1440, &["m5.large"]);
        let axis = TimeAxis::of(std::slice::from_ref(&output));

        let mean = reduce(&output.samples, &axis, Reduce::Mean, |s| s.load);
        let max = reduce(&output.samples, &axis, Reduce::Max, |s| {
            s.pods_pending as f64
        });

        assert!(mean.len() <= MAX_POINTS);
        assert!(mean.len() > MAX_POINTS / 2);
        assert!(
            max.iter().all(|(_, v)| *v == 2.0),
            "each group keeps its peak"
        );
        assert_eq!(
            grouping_note(&output.samples, Reduce::Max),
            " (maximum of each 12 min)"
        );
        assert_eq!(grouping_note(&output.samples[..100], Reduce::Mean), "");
    }

    #[test]
    fn group_sizes_round() {
        assert_eq!(group_size(0), 1);
        assert_eq!(group_size(360), 1);
        assert_eq!(group_size(1001), 2);
        assert_eq!(group_size(7 * 1440), 12);
        assert_eq!(group_size(30 * 1440), 60);
        assert_eq!(group_size(1_000_000), 1000);
    }

    #[test]
    fn reduce_skips_non_finite() {
        let axis = TimeAxis {
            unit_seconds: 3600.0,
            label: "",
            end: 1.0,
        };

        let points = reduce_values(&[0, 60], &[f64::NAN, 2.0], &axis, Reduce::Mean);
        let none = reduce_values(&[0], &[f64::INFINITY], &axis, Reduce::Mean);

        assert_eq!(points.len(), 1);
        assert_eq!(points[0].1, 2.0);
        assert!(none.is_empty());
    }

    #[test]
    fn file_stems_are_safe_and_unique() {
        let outputs = vec![
            run("a/b", 2, &[]),
            run("a b", 2, &[]),
            run("../x", 2, &[]),
            run("", 2, &[]),
        ];

        let stems = file_stems(&outputs);

        assert_eq!(stems, ["a_b-1", "a_b-2", "policy.._x", "policy"]);
    }

    #[test]
    fn all_plots_one_file_each() {
        let outputs = two_policies();

        let plots = all_plots(&outputs).unwrap();

        let names: Vec<&str> = plots.iter().map(|p| p.file_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "cost-vs-p95-pending.svg",
                "cost-rate.svg",
                "pending-pods.svg",
                "pending-time.svg",
                "nodes-cluster-autoscaler.svg",
                "nodes-karpenter.svg",
                "allocation-cluster-autoscaler.svg",
                "allocation-karpenter.svg",
            ]
        );
        for plot in &plots {
            assert_well_formed(&plot.svg);
        }
    }

    #[test]
    fn plots_of_no_policies() {
        let plots = all_plots(&[]).unwrap();

        assert_eq!(plots.len(), 4);
        for plot in &plots {
            assert_well_formed(&plot.svg);
        }
    }

    #[test]
    fn count_axis_whole_labels() {
        assert_eq!(count_axis([1.0].into_iter()), (4.0, 5));
        assert_eq!(count_axis(std::iter::empty()), (4.0, 5));
        assert_eq!(count_axis([9.0].into_iter()), (10.0, 11));
        assert_eq!(count_axis([18.0].into_iter()), (20.0, 11));
    }

    #[test]
    fn axis_numbers_trim_zeros() {
        assert_eq!(axis_number(&0.0), "0");
        assert_eq!(axis_number(&2.5), "2.5");
        assert_eq!(axis_number(&1200.0), "1200");
        assert_eq!(axis_number(&0.125), "0.125");
    }
}
