//! Expanders: how Cluster Autoscaler picks one scale-up option (`expander/*` and
//! `expander/factory/chain.go`, 1.36).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use autoscale_sim_cloud::{MIB, Resources};
use rand::RngExt;
use regex::Regex;

use super::ClusterAutoscaler;
use super::scale_up::ScaleUpOption;
use super::template::Template;
use crate::api::ClusterView;

/// An expander: picks among scale-up options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expander {
    /// Uniformly at random.
    Random,
    /// The options that help the most pods.
    MostPods,
    /// The options that add the fewest nodes.
    LeastNodes,
    /// The options with the least wasted CPU plus memory, as a share of the template's capacity.
    LeastWaste,
    /// The options with the lowest price score (`expander/price/price.go`): node cost over pod
    /// cost, weighted by how far the node's size is from a preferred size.
    ///
    /// NOTE: the real AWS cloud provider has no pricing model, and Cluster Autoscaler exits at
    /// start when `--expander=price` is set on AWS. This model prices nodes at their EC2 price
    /// and pods at the GCE provider's base CPU and memory rates, the only rates in 1.36.
    Price,
    /// The options of the node groups with the highest priority in the
    /// `cluster-autoscaler-priority-expander` ConfigMap (`expander/priority/priority.go`).
    Priority,
}

impl Expander {
    /// Parses an `--expander` value.
    pub fn parse(name: &str) -> Option<Expander> {
        match name {
            "random" => Some(Expander::Random),
            "most-pods" => Some(Expander::MostPods),
            "least-nodes" => Some(Expander::LeastNodes),
            "least-waste" => Some(Expander::LeastWaste),
            "price" => Some(Expander::Price),
            "priority" => Some(Expander::Priority),
            _ => None,
        }
    }

    /// The flag value.
    pub fn as_str(self) -> &'static str {
        match self {
            Expander::Random => "random",
            Expander::MostPods => "most-pods",
            Expander::LeastNodes => "least-nodes",
            Expander::LeastWaste => "least-waste",
            Expander::Price => "price",
            Expander::Priority => "priority",
        }
    }
}

/// The `priorities` of the priority expander's ConfigMap: integer priorities, each with Go
/// (RE2) regular expressions matched anywhere in a node group's name.
#[derive(Clone, Debug)]
pub struct PriorityConfig {
    /// Priorities in increasing order, each with its compiled expressions.
    tiers: Vec<(i64, Vec<Regex>)>,
}

impl PartialEq for PriorityConfig {
    fn eq(&self, other: &Self) -> bool {
        self.tiers.len() == other.tiers.len()
            && self.tiers.iter().zip(&other.tiers).all(|(a, b)| {
                a.0 == b.0
                    && a.1.len() == b.1.len()
                    && a.1.iter().zip(&b.1).all(|(x, y)| x.as_str() == y.as_str())
            })
    }
}

/// A regular expression of the priority ConfigMap that does not compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityConfigError {
    /// The priority the expression is listed under.
    pub priority: i64,
    /// The expression.
    pub pattern: String,
    /// The compiler's message.
    pub message: String,
}

impl fmt::Display for PriorityConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "priority {}: {:?} is not a valid regular expression: {}",
            self.priority, self.pattern, self.message
        )
    }
}

impl std::error::Error for PriorityConfigError {}

impl PriorityConfig {
    /// Compiles the expressions of each priority.
    pub fn new(priorities: &BTreeMap<i64, Vec<String>>) -> Result<Self, PriorityConfigError> {
        let mut tiers = Vec::with_capacity(priorities.len());
        for (&priority, patterns) in priorities {
            let mut compiled = Vec::with_capacity(patterns.len());
            for pattern in patterns {
                let regex = Regex::new(pattern).map_err(|e| PriorityConfigError {
                    priority,
                    pattern: pattern.clone(),
                    message: e.to_string(),
                })?;
                compiled.push(regex);
            }
            tiers.push((priority, compiled));
        }
        Ok(PriorityConfig { tiers })
    }

    /// The highest priority whose expressions match `group`, if any does.
    pub fn priority_of(&self, group: &str) -> Option<i64> {
        self.tiers
            .iter()
            .rev()
            .find(|(_, patterns)| patterns.iter().any(|p| p.is_match(group)))
            .map(|(priority, _)| *priority)
    }
}

/// Keeps the options (indices into `names`, from `live`) of the highest priority. A group that
/// matches no expression is left out; when no option matches, or there is no ConfigMap, every
/// option passes. The real filter starts its running maximum at -1, so a priority below -1
/// never selects anything.
pub(super) fn priority_filter(
    config: Option<&PriorityConfig>,
    names: &[&str],
    live: &[usize],
) -> Vec<usize> {
    let Some(config) = config else {
        return live.to_vec();
    };
    let mut best = Vec::new();
    let mut best_priority = -1;
    for &i in live {
        let Some(priority) = config.priority_of(names[i]) else {
            continue;
        };
        if priority < best_priority {
            continue;
        }
        if priority > best_priority {
            best_priority = priority;
            best.clear();
        }
        best.push(i);
    }
    if best.is_empty() { live.to_vec() } else { best }
}

/// Least-waste score of an option: unused share of CPU plus unused share of memory over the
/// template's capacity times the node count (`expander/waste/waste.go`).
pub(super) fn waste_score(template: &Template, option: &ScaleUpOption) -> f64 {
    let available_cpu = template.capacity.cpu_millis as f64 * f64::from(option.node_count);
    let available_memory = template.capacity.memory_bytes as f64 * f64::from(option.node_count);
    let waste_cpu = (available_cpu - option.requests.cpu_millis as f64) / available_cpu;
    let waste_memory = (available_memory - option.requests.memory_bytes as f64) / available_memory;
    waste_cpu + waste_memory
}

/// Base CPU price of the GCE pricing model, in dollars per core-hour
/// (`cpuPricePerHour`, `cloudprovider/gce/gce_price_info.go`, 1.36).
const POD_CPU_PRICE_PER_HOUR: f64 = 0.033174;

/// Base memory price of the GCE pricing model, in dollars per GiB-hour
/// (`memoryPricePerHourPerGb`, the same file).
const POD_MEMORY_PRICE_PER_GIB_HOUR: f64 = 0.004446;

/// Price of an hour of a pod with these requests on a perfectly fitting machine
/// (`GcePriceModel.PodPrice`), in dollars.
pub(super) fn pod_price(requests: Resources) -> f64 {
    requests.cpu_millis as f64 / 1000.0 * POD_CPU_PRICE_PER_HOUR
        + requests.memory_bytes as f64 / autoscale_sim_cloud::GIB as f64
            * POD_MEMORY_PRICE_PER_GIB_HOUR
}

/// Price of the 0.5-CPU, 500 MiB pod that steadies the price ratio (`priceStabilizationPod`).
pub(super) fn stabilization_price() -> f64 {
    pod_price(Resources::new(500, 500 * MIB, 1))
}

/// CPU of the node size the price expander prefers for a cluster of `node_count` nodes, in
/// millicores: it doubles each time the cluster triples (`SimplePreferredNodeProvider`,
/// `expander/price/preferred.go`).
pub(super) fn preferred_node_cpu_millis(node_count: usize) -> i64 {
    match node_count {
        0..=2 => 1000,
        3..=6 => 2000,
        7..=20 => 4000,
        21..=60 => 8000,
        61..=200 => 16_000,
        _ => 32_000,
    }
}

/// What the price expander weighs for one option, in dollars per hour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct PriceInputs {
    /// Price of one node of the group.
    pub node_price: f64,
    /// CPU capacity of the group's template, in millicores.
    pub node_cpu_millis: i64,
    /// Summed price of the option's pods.
    pub pods_price: f64,
    /// Nodes the option adds.
    pub node_count: u32,
}

/// Price score of an option, lower is better (`priceBased.BestOptions`): node cost over pod
/// cost, both steadied by the stabilization pod, times the node's unfitness to the preferred
/// size, which fades as the option adds more nodes.
pub(super) fn price_score(
    inputs: PriceInputs,
    stabilization: f64,
    preferred_cpu_millis: i64,
) -> f64 {
    let total_node_price = inputs.node_price * f64::from(inputs.node_count);
    let price_sub_score = (total_node_price + stabilization) / (inputs.pods_price + stabilization);
    let preferred = preferred_cpu_millis as f64;
    let evaluated = inputs.node_cpu_millis.max(1) as f64;
    let unfitness = (preferred / evaluated).max(evaluated / preferred);
    // The unfitness matters less as the option adds more nodes.
    let fade = 1.0 - ((f64::from(inputs.node_count) - 1.0) / 15.0).tanh();
    let suppressed = (unfitness - 1.0) * fade + 1.0;
    suppressed * price_sub_score
}

/// Keeps the options with the lowest price score; `scores` is indexed like the options.
pub(super) fn price_filter(scores: &[f64], live: &[usize]) -> Vec<usize> {
    best_of(live, |i| scores[i])
}

/// Keeps the options with the smallest `value`.
fn best_of(live: &[usize], value: impl Fn(usize) -> f64) -> Vec<usize> {
    let best = live.iter().map(|&i| value(i)).fold(f64::INFINITY, f64::min);
    live.iter().copied().filter(|&i| value(i) == best).collect()
}

impl ClusterAutoscaler {
    /// Runs the expander chain over `options` (`chainStrategy.BestOption`): each expander
    /// narrows the options, the chain stops once one is left, and a tie after the last goes to
    /// `random`. Returns the index of the choice and a description of the options weighed, for
    /// the decision log.
    pub(super) fn choose(
        &mut self,
        view: &ClusterView<'_>,
        templates: &[Template],
        options: &[ScaleUpOption],
    ) -> (usize, String) {
        let wastes: Vec<f64> = options
            .iter()
            .map(|o| waste_score(&templates[o.group], o))
            .collect();
        let uses_price = self.config.expanders.contains(&Expander::Price);
        let prices: Vec<f64> = if uses_price {
            self.price_scores(view, templates, options)
        } else {
            Vec::new()
        };
        let names: Vec<&str> = options
            .iter()
            .map(|o| self.config.node_groups[o.group].name.as_str())
            .collect();

        let mut live: Vec<usize> = (0..options.len()).collect();
        for expander in self.config.expanders.clone() {
            if live.len() <= 1 {
                break;
            }
            live = match expander {
                Expander::Random => vec![live[self.rng.random_range(0..live.len())]],
                Expander::MostPods => best_of(&live, |i| -(options[i].pods.len() as f64)),
                Expander::LeastNodes => best_of(&live, |i| f64::from(options[i].node_count)),
                Expander::LeastWaste => best_of(&live, |i| wastes[i]),
                Expander::Price => price_filter(&prices, &live),
                Expander::Priority => {
                    priority_filter(self.config.priorities.as_ref(), &names, &live)
                }
            };
        }
        let pick = if live.len() == 1 {
            live[0]
        } else {
            live[self.rng.random_range(0..live.len())]
        };

        let mut weighed = String::new();
        for (i, option) in options.iter().enumerate() {
            if i > 0 {
                weighed.push_str("; ");
            }
            let _ = write!(
                weighed,
                "{} +{} for {} pods, waste {:.3}",
                names[i],
                option.node_count,
                option.pods.len(),
                wastes[i]
            );
            if uses_price {
                let _ = write!(weighed, ", price score {:.3}", prices[i]);
            }
            if self.config.expanders.contains(&Expander::Priority)
                && let Some(config) = &self.config.priorities
            {
                match config.priority_of(names[i]) {
                    Some(priority) => {
                        let _ = write!(weighed, ", priority {priority}");
                    }
                    None => weighed.push_str(", no priority"),
                }
            }
        }
        (pick, weighed)
    }

    /// Price scores of the options, indexed like them.
    fn price_scores(
        &self,
        view: &ClusterView<'_>,
        templates: &[Template],
        options: &[ScaleUpOption],
    ) -> Vec<f64> {
        // The preferred node comes from the registered nodes (`nodeLister.List()`).
        let registered = view
            .cluster
            .nodes()
            .filter(|n| n.ready_at.is_some())
            .count();
        let preferred = preferred_node_cpu_millis(registered);
        let stabilization = stabilization_price();
        options
            .iter()
            .map(|option| {
                let pods_price = option
                    .pods
                    .iter()
                    .filter_map(|id| view.cluster.pod(*id))
                    .map(|pod| pod_price(pod.spec.requests))
                    .sum();
                let inputs = PriceInputs {
                    node_price: self.node_price_per_hour(view, option.group),
                    node_cpu_millis: templates[option.group].capacity.cpu_millis,
                    pods_price,
                    node_count: option.node_count,
                };
                price_score(inputs, stabilization, preferred)
            })
            .collect()
    }
}
