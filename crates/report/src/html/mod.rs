//! `report.html`: one self-contained page with the scenario, the comparison table, the plots
//! and a filterable decision log.
//!
//! The page loads nothing: the plots are inline SVG, the styles and the filter script are inline,
//! and the text uses the viewer's system fonts. Its bytes depend only on the runs, so the same
//! scenario and seed give the same page.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use autoscale_sim_cloud::Resources;
use autoscale_sim_sim::{Replicas, RunOutput, SimConfig};

use crate::plots::{Plot, policy_colour_hex};
#[cfg(test)]
use crate::table::COMPARISON_HEADERS;
use crate::{comparison_columns, none_bound};

/// Styles of the page.
const CSS: &str = include_str!("report.css");

/// The decision log's filter script.
const SCRIPT: &str = include_str!("report.js");

/// Everything the HTML report shows.
#[derive(Clone, Copy, Debug)]
pub struct HtmlReport<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// The scenario's description, if it has one.
    pub description: Option<&'a str>,
    /// The setup the runs shared: seed, start, duration, zones, loads and workloads.
    pub config: &'a SimConfig,
    /// One output per policy, in scenario order (which sets each policy's colour).
    pub outputs: &'a [RunOutput],
    /// The plots to inline, in page order, such as those of [`crate::plots::all_plots`].
    pub plots: &'a [Plot],
    /// Warnings about the scenario, listed above the results.
    pub warnings: &'a [String],
}

/// Renders the report as one HTML document.
pub fn report_html(report: &HtmlReport<'_>) -> String {
    let mut page = String::with_capacity(1 << 20);
    let title = escape(report.scenario);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}: autoscale-sim report</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n\
         <h1><span class=\"tool\">autoscale-sim report</span>{title}</h1>\n"
    );
    if let Some(description) = report.description.filter(|d| !d.trim().is_empty()) {
        let _ = writeln!(page, "<p class=\"description\">{}</p>", escape(description));
    }
    page.push_str(
        "<nav><a href=\"#scenario\">Scenario</a><a href=\"#comparison\">Comparison</a>\
         <a href=\"#plots\">Plots</a><a href=\"#fleet\">Cost and fleet</a>\
         <a href=\"#decisions\">Decision log</a></nav>\n",
    );

    scenario_section(&mut page, report);
    comparison_section(&mut page, report.outputs);
    plots_section(&mut page, report.plots);
    fleet_section(&mut page, report.outputs);
    decisions_section(&mut page, report.outputs);

    let _ = write!(
        page,
        "<footer>Written by autoscale-sim {}. The same scenario and seed give the same page; \
         the data is also in summary.json, timeseries.csv and decisions.jsonl beside it.</footer>\n\
         </main>\n",
        env!("CARGO_PKG_VERSION")
    );
    // The data is most of a long run's page, so the page grows once to take it.
    let data = decision_data(report.outputs);
    page.reserve(data.len() + SCRIPT.len() + 128);
    page.push_str("<script id=\"decision-data\" type=\"application/json\">");
    page.push_str(&data);
    drop(data);
    let _ = write!(
        page,
        "</script>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    );
    page
}

/// Writes the scenario's facts, its workloads and its warnings.
fn scenario_section(page: &mut String, report: &HtmlReport<'_>) {
    let config = report.config;
    page.push_str("<section id=\"scenario\">\n<h2>Scenario</h2>\n<dl class=\"facts\">\n");
    let loads = if config.loads.is_empty() {
        "none".to_string()
    } else {
        let names: Vec<&str> = config.loads.iter().map(|l| l.name.as_str()).collect();
        escape(&names.join(", "))
    };
    let policies: Vec<String> = report
        .outputs
        .iter()
        .enumerate()
        .map(|(index, o)| policy_label(index, &o.report.policy))
        .collect();
    let facts = [
        ("seed", config.seed.to_string()),
        ("start", format_utc(config.start_unix_secs)),
        ("duration", escape(&config.duration.to_string())),
        (
            "sample interval",
            escape(&config.sample_interval.to_string()),
        ),
        ("zones", escape(&config.zones.join(", "))),
        ("loads", loads),
        ("policies", policies.join(" ")),
    ];
    for (name, value) in facts {
        let _ = writeln!(page, "<div><dt>{name}</dt><dd>{value}</dd></div>");
    }
    page.push_str("</dl>\n");

    page.push_str(
        "<h3>Workloads</h3>\n<div class=\"wide\"><table>\n<thead><tr><th>kind</th><th>name</th>\
         <th>requests per pod</th><th>replicas</th></tr></thead>\n<tbody>\n",
    );
    for deployment in &config.deployments {
        let replicas = match &deployment.replicas {
            Replicas::Fixed(count) => count.to_string(),
            Replicas::Hpa { load, spec } => format!(
                "HPA on load {}: {} per replica, {} to {} replicas",
                config.loads.get(*load).map_or("?", |l| l.name.as_str()),
                spec.target_per_replica,
                spec.min_replicas,
                spec.max_replicas
            ),
        };
        let _ = writeln!(
            page,
            "<tr><td>Deployment</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&deployment.name),
            format_requests(&deployment.spec.requests),
            escape(&replicas)
        );
    }
    for daemonset in &config.daemonsets {
        let _ = writeln!(
            page,
            "<tr><td>DaemonSet</td><td>{}</td><td>{}</td><td>one per node it tolerates</td></tr>",
            escape(&daemonset.name),
            format_requests(&daemonset.spec.requests)
        );
    }
    page.push_str("</tbody>\n</table></div>\n");

    if !report.warnings.is_empty() {
        page.push_str("<h3>Warnings</h3>\n<ul class=\"warnings\">\n");
        for warning in report.warnings {
            let _ = writeln!(page, "<li>{}</li>", escape(warning));
        }
        page.push_str("</ul>\n");
    }
    page.push_str("</section>\n");
}

/// Writes the comparison table: one row per policy.
fn comparison_section(page: &mut String, outputs: &[RunOutput]) {
    page.push_str("<section id=\"comparison\">\n<h2>Comparison</h2>\n");
    page.push_str(
        "<p>Cost is EC2 Linux billing per second from the time an instance is running, with a 60 s \
         minimum: on-demand nodes at the list price, spot nodes at the spot price in force each \
         second. Allocation is \
         requested over allocatable resources of Ready nodes, weighted by time. Pending times \
         run from pod creation to binding, over the pods that were bound; max also counts pods \
         still Pending at the end, and unplaced counts those pods.</p>\n",
    );
    page.push_str("<div class=\"wide\"><table id=\"comparison-table\">\n<thead><tr>");
    let reports: Vec<_> = outputs.iter().map(|o| o.report.clone()).collect();
    let (headers, rows) = comparison_columns(&reports, &none_bound(outputs));
    let last = headers.len() - 1;
    for (column, header) in headers.iter().enumerate() {
        let class = if column == 0 || column == last {
            ""
        } else {
            " class=\"number\""
        };
        // Headers wrap between words only, so that `node-h` stays whole.
        let words: Vec<String> = header
            .split(' ')
            .map(|word| format!("<span class=\"word\">{}</span>", escape(word)))
            .collect();
        let _ = write!(page, "<th{class}>{}</th>", words.join(" "));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for (index, row) in rows.iter().enumerate() {
        page.push_str("<tr>");
        for (column, cell) in row.iter().enumerate() {
            if column == 0 {
                let _ = write!(page, "<td>{}</td>", policy_label(index, cell));
            } else if column == last {
                let _ = write!(page, "<td>{}</td>", escape(cell));
            } else {
                let _ = write!(page, "<td class=\"number\">{}</td>", escape(cell));
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// Writes the cost by instance type and the fleet at the scenario's snapshot times, side by
/// side when the page is wide enough.
fn fleet_section(page: &mut String, outputs: &[RunOutput]) {
    page.push_str(
        "<section id=\"fleet\">\n<h2>Cost and fleet by instance type</h2>\n\
         <div class=\"side-by-side\">\n",
    );

    // Cost by instance type: one row per type any policy ran, one column per policy.
    let types: BTreeSet<&str> = outputs
        .iter()
        .flat_map(|o| o.report.cost_by_instance_type.keys().map(String::as_str))
        .collect();
    page.push_str(
        "<div>\n<h3>Cost by instance type ($)</h3>\n<div class=\"wide\"><table>\n<thead><tr>\
         <th>instance type</th>",
    );
    for (index, output) in outputs.iter().enumerate() {
        let _ = write!(
            page,
            "<th class=\"number\">{}</th>",
            policy_label(index, &output.report.policy)
        );
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for instance_type in types {
        let _ = write!(page, "<tr><td>{}</td>", escape(instance_type));
        for output in outputs {
            let cell = output
                .report
                .cost_by_instance_type
                .get(instance_type)
                .map_or("-".to_string(), |usd| format!("{usd:.2}"));
            let _ = write!(page, "<td class=\"number\">{cell}</td>");
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table></div>\n</div>\n");

    let snapshots: Vec<(usize, &RunOutput)> = outputs
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.report.snapshots.is_empty())
        .collect();
    if !snapshots.is_empty() {
        page.push_str(
            "<div>\n<h3>Fleet at snapshot times</h3>\n<div class=\"wide\"><table>\n<thead><tr>\
             <th>policy</th><th>snapshot</th><th class=\"number\">time since start</th>\
             <th>nodes (launching and deleting included)</th></tr></thead>\n<tbody>\n",
        );
        for (index, output) in snapshots {
            for snapshot in &output.report.snapshots {
                let fleet = if snapshot.nodes.is_empty() {
                    "no nodes".to_string()
                } else {
                    snapshot
                        .nodes
                        .iter()
                        .map(|(name, count)| format!("{count} x {name}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let _ = writeln!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td class=\"number\">{}</td>\
                     <td class=\"fleet\">{}</td></tr>",
                    policy_label(index, &output.report.policy),
                    escape(&snapshot.label),
                    format_elapsed(snapshot.time_seconds),
                    escape(&fleet)
                );
            }
        }
        page.push_str("</tbody>\n</table></div>\n</div>\n");
    }
    page.push_str("</div>\n</section>\n");
}

/// Writes each plot as an inline SVG with its title and file name below it.
fn plots_section(page: &mut String, plots: &[Plot]) {
    page.push_str("<section id=\"plots\">\n<h2>Plots</h2>\n");
    for plot in plots {
        let _ = write!(
            page,
            "<figure aria-label=\"{}\">\n{}<figcaption>{} ({})</figcaption>\n</figure>\n",
            escape(&plot.title),
            inline_svg(&plot.svg),
            escape(&plot.title),
            escape(&plot.file_name)
        );
    }
    page.push_str("</section>\n");
}

/// Writes the decision log's filters and its empty table, which the script fills.
fn decisions_section(page: &mut String, outputs: &[RunOutput]) {
    page.push_str(
        "<section id=\"decisions\">\n<h2>Decision log</h2>\n\
         <p>The entries of decisions.jsonl (launches, failed launches, readiness, cordons, \
         deletions, evictions and terminations, each with its reason), in time order per policy. \
         Time is days and hh:mm:ss.mmm since the start. Click a node to show only its \
         decisions.</p>\n\
         <div class=\"controls\">\n\
         <label>policy<select id=\"filter-policy\"><option value=\"\">all</option></select></label>\n\
         <label>action<select id=\"filter-action\"><option value=\"\">all</option></select></label>\n\
         <label>reason<select id=\"filter-reason\"><option value=\"\">all</option></select></label>\n\
         <label>node<input id=\"filter-node\" type=\"search\" placeholder=\"name or part of it\"></label>\n\
         <label>pod or detail contains<input id=\"filter-text\" type=\"search\"></label>\n\
         <button id=\"filter-clear\" type=\"button\">Clear filters</button>\n\
         </div>\n",
    );
    let total: usize = outputs.iter().map(|o| o.decisions.len()).sum();
    let _ = write!(
        page,
        "<p id=\"decision-count\">{total} decisions; turn on JavaScript to list and filter them \
         here, or read decisions.jsonl.</p>\n\
         <div class=\"wide\"><table id=\"decision-table\">\n<thead><tr>\
         <th class=\"number\">time</th><th>policy</th><th>action</th><th>node</th>\
         <th>instance type</th><th>zone</th><th>pod</th><th>reason</th><th>detail</th>\
         </tr></thead>\n<tbody></tbody>\n</table></div>\n</section>\n"
    );
}

/// Serialises the decision log for the script: policy colours and names, then one array per
/// decision, with `<` escaped so that no text can close the `<script>` element. The rows are
/// written straight from the decisions, with no JSON tree of them in memory.
fn decision_data(outputs: &[RunOutput]) -> String {
    /// One decision as the script reads it.
    struct Row<'a>(usize, &'a autoscale_sim_sim::Decision);

    impl serde::Serialize for Row<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let Row(index, d) = *self;
            (
                &d.time,
                index,
                &d.action,
                &d.node,
                &d.instance_type,
                &d.zone,
                d.pod.as_deref().unwrap_or(""),
                &d.reason,
                &d.detail,
            )
                .serialize(serializer)
        }
    }

    /// The rows of every run, in run order.
    struct Rows<'a>(&'a [RunOutput]);

    impl serde::Serialize for Rows<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(
                self.0.iter().enumerate().flat_map(|(index, output)| {
                    output.decisions.iter().map(move |d| Row(index, d))
                }),
            )
        }
    }

    /// The whole document, its keys in alphabetical order, as earlier versions wrote them.
    #[derive(serde::Serialize)]
    struct Data<'a> {
        colours: Vec<String>,
        policies: Vec<&'a str>,
        rows: Rows<'a>,
    }

    let data = Data {
        colours: (0..outputs.len()).map(policy_colour_hex).collect(),
        policies: outputs.iter().map(|o| o.report.policy.as_str()).collect(),
        rows: Rows(outputs),
    };
    let mut text = serde_json::to_string(&data).expect("decisions serialise");
    if text.contains('<') {
        text = text.replace('<', "\\u003c");
    }
    text
}

/// Prepares an SVG document for inlining: an SVG element inside HTML needs no namespace
/// declaration, and leaving it out keeps the page free of any URL.
fn inline_svg(svg: &str) -> String {
    let text = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    text.replacen("<svg ", "<svg role=\"img\" ", 1)
}

/// Returns a policy's name after a square of its colour.
fn policy_label(index: usize, name: &str) -> String {
    format!(
        "<span class=\"policy\"><span class=\"swatch\" style=\"background:{}\"></span>{}</span>",
        policy_colour_hex(index),
        escape(name)
    )
}

/// Escapes the characters that HTML text and quoted attribute values give meaning to.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Formats pod requests as `1.5 vCPU, 8 GiB`, with memory in MiB when it is not whole GiB and
/// a resource left out when none is requested.
fn format_requests(requests: &Resources) -> String {
    const MIB: i64 = 1 << 20;
    const GIB: i64 = 1 << 30;
    let mut parts = Vec::new();
    if requests.cpu_millis != 0 {
        parts.push(format!("{} vCPU", requests.cpu_millis as f64 / 1000.0));
    }
    let memory = requests.memory_bytes;
    if memory != 0 {
        parts.push(if memory % GIB == 0 {
            format!("{} GiB", memory / GIB)
        } else if memory % MIB == 0 {
            format!("{} MiB", memory / MIB)
        } else {
            format!("{memory} bytes")
        });
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// Formats seconds since the start as `2d 05:00` (days, hours and minutes).
fn format_elapsed(seconds: u64) -> String {
    let days = seconds / 86_400;
    let hours = seconds % 86_400 / 3600;
    let minutes = seconds % 3600 / 60;
    format!("{days}d {hours:02}:{minutes:02}")
}

/// Formats seconds since the Unix epoch as `2026-01-05 00:00 UTC`.
fn format_utc(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let second_of_day = unix_secs.rem_euclid(86_400);
    let (year, month, day) = civil_date(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        second_of_day / 3600,
        second_of_day % 3600 / 60
    )
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day), counting in
/// 400-year eras of 146,097 days whose years start on 1 March, so that leap days fall last.
fn civil_date(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use autoscale_sim_cloud::{Catalog, GIB};
    use autoscale_sim_engine::SimDuration;
    use autoscale_sim_kube::PodSpec;
    use autoscale_sim_sim::{Deployment, FleetSnapshot};

    use super::*;
    use crate::plots::all_plots;
    use crate::plots::test_data::{assert_well_formed, two_policies};

    fn config() -> SimConfig {
        let mut config = SimConfig::new(
            "small",
            7,
            SimDuration::from_hours(6),
            Arc::new(Catalog::builtin()),
        );
        config.start_unix_secs = 1_767_571_200; // 2026-01-05 00:00 UTC
        config.deployments.push(Deployment {
            controller: Default::default(),
            name: "api".into(),
            spec: Arc::new(PodSpec {
                requests: Resources::new(1500, 8 * GIB, 1),
                ..Default::default()
            }),
            replicas: Replicas::Fixed(4),
            startup_latency: Default::default(),
        });
        config
    }

    fn render(outputs: &[RunOutput], description: Option<&str>, warnings: &[String]) -> String {
        let plots = all_plots(outputs).unwrap();
        report_html(&HtmlReport {
            scenario: "small <web>",
            description,
            config: &config(),
            outputs,
            plots: &plots,
            warnings,
        })
    }

    #[test]
    fn page_is_self_contained() {
        let outputs = two_policies();

        let page = render(&outputs, Some("A test & more"), &[]);

        assert!(!page.contains("http://"), "no http:// reference");
        assert!(!page.contains("https://"), "no https:// reference");
        assert!(!page.contains(" src="), "nothing is loaded from a file");
        assert!(!page.contains("<link"), "no style sheet or font is linked");
        assert!(!page.contains("@import"), "no style sheet is imported");
        assert!(!page.contains("url("), "no style refers to a file");
    }

    #[test]
    fn page_has_table_and_policies() {
        let outputs = two_policies();

        let page = render(&outputs, None, &[]);

        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>small &lt;web&gt;: autoscale-sim report</title>"));
        assert!(page.contains("<table id=\"comparison-table\">"));
        for header in COMPARISON_HEADERS {
            let last_word = header.rsplit(' ').next().unwrap();
            assert!(
                page.contains(&format!(
                    "<span class=\"word\">{}</span></th>",
                    escape(last_word)
                )),
                "{header}"
            );
        }
        assert!(
            page.contains("<span class=\"word\">pending</span> <span class=\"word\">p50</span>")
        );
        for (index, policy) in ["cluster-autoscaler", "karpenter"].iter().enumerate() {
            let label = policy_label(index, policy);
            assert!(
                page.matches(&label).count() >= 3,
                "{policy} in the facts, comparison and cost tables"
            );
        }
        assert!(
            page.contains("<td class=\"number\">30.50</td>"),
            "cost cell"
        );
        assert!(page.contains("2026-01-05 00:00 UTC"));
        assert!(page.contains("<td>api</td><td>1.5 vCPU, 8 GiB</td><td>4</td>"));
    }

    #[test]
    fn page_inlines_every_plot() {
        let outputs = two_policies();
        let plots = all_plots(&outputs).unwrap();

        let page = render(&outputs, None, &[]);

        assert_eq!(page.matches("<svg role=\"img\" ").count(), plots.len());
        assert_eq!(page.matches("</svg>").count(), plots.len());
        for plot in &plots {
            assert!(page.contains(&format!("({})</figcaption>", plot.file_name)));
        }
        let first = page.find("<svg").unwrap();
        let end = page.find("</svg>").unwrap() + "</svg>".len();
        assert_well_formed(&page[first..end]);
    }

    #[test]
    fn decision_data_cannot_close_script() {
        let outputs = two_policies();

        let data = decision_data(&outputs);
        let page = render(&outputs, None, &[]);

        assert!(!data.contains('<'));
        assert!(data.contains("\\u003cpending>"));
        let parsed: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(parsed["rows"].as_array().unwrap().len(), 2);
        assert_eq!(parsed["policies"][1], "karpenter");
        assert_eq!(parsed["colours"][1], "#d55e00");
        assert_eq!(page.matches("</script>").count(), 2);
        assert!(page.contains("id=\"filter-node\""));
        assert!(page.contains("id=\"filter-reason\""));
    }

    #[test]
    fn user_text_is_escaped() {
        let mut outputs = two_policies();
        outputs[0].report.policy = "<b>bold</b>".into();
        outputs[0].report.snapshots = vec![FleetSnapshot {
            label: "night <1>".into(),
            time_seconds: 86_400 + 5 * 3600,
            nodes: [("m5.large".to_string(), 2)].into(),
        }];
        let warnings = vec!["field \"x\" is <ignored>".to_string()];

        let page = render(&outputs, Some("<script>alert(1)</script>"), &warnings);

        assert!(!page.contains("<b>bold</b>"));
        assert!(page.contains("&lt;b&gt;bold&lt;/b&gt;"));
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("field &quot;x&quot; is &lt;ignored&gt;"));
        assert!(page.contains(
            "night &lt;1&gt;</td><td class=\"number\">1d 05:00</td><td class=\"fleet\">2 x m5.large"
        ));
    }

    #[test]
    fn page_without_policies() {
        let page = render(&[], None, &[]);

        assert!(page.contains("<tbody>\n</tbody>"));
        assert!(page.contains("0 decisions"));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(
            format_utc(1_767_571_200 + 14 * 3600 + 30 * 60),
            "2026-01-05 14:30 UTC"
        );
        assert_eq!(format_utc(-86_400), "1969-12-31 00:00 UTC");
    }

    #[test]
    fn requests_formats() {
        assert_eq!(
            format_requests(&Resources::new(100, 128 << 20, 1)),
            "0.1 vCPU, 128 MiB"
        );
        assert_eq!(format_requests(&Resources::new(2000, 0, 1)), "2 vCPU");
        assert_eq!(format_requests(&Resources::new(0, 1 << 30, 1)), "1 GiB");
        assert_eq!(format_requests(&Resources::new(0, 0, 1)), "none");
        assert_eq!(
            format_requests(&Resources::new(250, 1000, 1)),
            "0.25 vCPU, 1000 bytes"
        );
    }
}
