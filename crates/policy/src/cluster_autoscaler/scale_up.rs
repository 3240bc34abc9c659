//! Scale-up: filter out pods that fit on existing or upcoming nodes, estimate each node group
//! with the binpacking estimator, and let the expander chain choose one option.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::Resources;
use autoscale_sim_engine::SimDuration;
use autoscale_sim_kube::{
    NodeState, Pod, PodId, PodSpec, passes_static_filters, selector_matches, tolerates_all,
};
use rand::RngExt;

use super::template::{Template, group_zone};
use super::{ClusterAutoscaler, Expander};
use crate::api::{Actions, ClusterView, LaunchRequest};
use crate::topology::{Domain, TopologyTracker};
use autoscale_sim_kube::LABEL_ZONE;

/// Pending pods marked Unschedulable and older than `new_pod_scale_up_delay`, in queue order.
pub(super) fn unschedulable_pods<'a>(
    view: &ClusterView<'a>,
    new_pod_scale_up_delay: SimDuration,
) -> Vec<&'a Pod> {
    view.cluster
        .pending_pods()
        .filter(|p| p.unschedulable && view.now.since(p.created) >= new_pod_scale_up_delay)
        .collect()
}

/// One way to scale up: grow `group` by `node_count` nodes to help `pods`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ScaleUpOption {
    pub group: usize,
    pub node_count: u32,
    pub pods: Vec<PodId>,
    pub requests: Resources,
}

/// Whether a pod passes the template's taint and node-selector checks.
fn fits_template_statically(spec: &PodSpec, template: &Template) -> bool {
    tolerates_all(&spec.tolerations, &template.taints)
        && selector_matches(&spec.node_selector, &template.labels)
}

/// Pods grouped by their shared spec (same owner), in order of first appearance.
fn equivalence_groups(pods: &[&Pod]) -> Vec<(Arc<PodSpec>, Vec<PodId>)> {
    let mut groups: Vec<(Arc<PodSpec>, Vec<PodId>)> = Vec::new();
    for pod in pods {
        match groups
            .iter_mut()
            .find(|(spec, _)| Arc::ptr_eq(spec, &pod.spec))
        {
            Some((_, ids)) => ids.push(pod.id),
            None => groups.push((pod.spec.clone(), vec![pod.id])),
        }
    }
    groups
}

/// The binpacking estimator (`estimator/binpacking_estimator.go`): equivalence groups in
/// decreasing order of `cpu/allocatable + memory/allocatable`; within a group, first fit on the
/// nodes already added, then only the last added node, adding a node when the pod does not fit
/// and stopping the group when even an empty new node would not hold it.
#[cfg(test)]
pub(super) fn estimate(
    template: &Template,
    groups: &[(Arc<PodSpec>, Vec<PodId>)],
    node_limit: u32,
) -> (u32, Vec<PodId>, Resources) {
    let empty = autoscale_sim_kube::Cluster::default();
    let mut tracker = TopologyTracker::new(&empty, &[]);
    estimate_with(template, groups, node_limit, &mut tracker)
}

/// A node the estimator adds: free room, pod count, host ports in use and its domains.
struct EstimatedNode {
    free: Resources,
    pods: u32,
    ports: Vec<u16>,
    domain: Domain,
}

impl EstimatedNode {
    fn takes(&self, spec: &PodSpec, tracker: &TopologyTracker<'_>) -> bool {
        spec.requests.fits_in(&self.free)
            && spec.host_ports.iter().all(|p| !self.ports.contains(p))
            && tracker.allows_simulated(spec, &self.domain)
    }

    fn add(&mut self, spec: &Arc<PodSpec>, tracker: &mut TopologyTracker<'_>) {
        self.free -= spec.requests;
        self.pods += 1;
        self.ports.extend(spec.host_ports.iter().copied());
        tracker.place(spec, self.domain.clone());
    }
}

/// [`estimate`] with the inter-pod constraints of the pods already in the cluster and placed
/// by earlier steps of the same loop.
pub(super) fn estimate_with(
    template: &Template,
    groups: &[(Arc<PodSpec>, Vec<PodId>)],
    node_limit: u32,
    tracker: &mut TopologyTracker<'_>,
) -> (u32, Vec<PodId>, Resources) {
    let allocatable = template.allocatable;
    let score = |spec: &PodSpec| {
        spec.requests.cpu_millis as f64 / allocatable.cpu_millis.max(1) as f64
            + spec.requests.memory_bytes as f64 / allocatable.memory_bytes.max(1) as f64
    };
    let mut ordered: Vec<&(Arc<PodSpec>, Vec<PodId>)> = groups.iter().collect();
    ordered.sort_by(|a, b| score(&b.0).total_cmp(&score(&a.0)));

    let zone = template.labels.get(LABEL_ZONE).cloned();
    let fresh = |index: usize| EstimatedNode {
        free: template.free(),
        pods: 0,
        ports: template.daemon_ports.clone(),
        domain: Domain {
            hostname: format!("template-node-{index}"),
            zone: zone.clone(),
        },
    };
    let mut nodes: Vec<EstimatedNode> = Vec::new();
    let mut placed = Vec::new();
    let mut requests = Resources::ZERO;
    for (spec, ids) in ordered {
        if !fits_template_statically(spec, template) || !fresh(usize::MAX).takes(spec, tracker) {
            continue;
        }
        let mut rest = ids.as_slice();

        // First fit on nodes added so far; stop at the first pod that fits nowhere.
        while let Some((&pod, tail)) = rest.split_first() {
            let Some(slot) = nodes.iter().position(|n| n.takes(spec, tracker)) else {
                break;
            };
            nodes[slot].add(spec, tracker);
            placed.push(pod);
            requests += spec.requests;
            rest = tail;
        }

        // Then only the last added node, opening new nodes while the limit allows.
        for &pod in rest {
            let fits_last = nodes.last().is_some_and(|n| n.takes(spec, tracker));
            if !fits_last {
                if nodes.last().is_some_and(|n| n.pods == 0) || nodes.len() as u32 >= node_limit {
                    break;
                }
                nodes.push(fresh(nodes.len()));
                if !nodes.last().expect("just pushed").takes(spec, tracker) {
                    break;
                }
            }
            nodes
                .last_mut()
                .expect("a node was just ensured")
                .add(spec, tracker);
            placed.push(pod);
            requests += spec.requests;
        }
    }
    let node_count = nodes.iter().filter(|n| n.pods > 0).count() as u32;
    (node_count, placed, requests)
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

impl ClusterAutoscaler {
    /// Launches each group's minimum size at the start, as the Auto Scaling group itself does.
    pub(super) fn launch_min_sizes(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        for group in 0..self.config.node_groups.len() {
            let min = self.config.node_groups[group].min_size;
            for _ in 0..min {
                let reason = format!(
                    "Auto Scaling group {} starts at its minimum size {min}",
                    self.config.node_groups[group].name
                );
                self.launch(group, reason, view, actions);
            }
        }
    }

    fn launch(
        &mut self,
        group: usize,
        reason: String,
        view: &ClusterView<'_>,
        actions: &mut Actions,
    ) {
        let config = &self.config.node_groups[group];
        let mut labels =
            crate::requirements::instance_type_labels(view.catalog.get(config.instance_type));
        labels.extend(config.labels.clone());
        let id = actions.launch(LaunchRequest {
            owner: config.name.clone(),
            instance_type: config.instance_type,
            capacity_type: config.capacity_type,
            zone: group_zone(config, view),
            labels,
            taints: config.taints.clone(),
            reason,
            alternatives: vec![],
        });
        self.upcoming.insert(id, group);
    }

    /// Drops the pods that fit on existing Ready nodes or on upcoming nodes (first fit in queue
    /// order), as the `filter_out_schedulable` pod-list processor does.
    fn filter_out_schedulable<'a>(
        &self,
        view: &ClusterView<'_>,
        pending: &[&'a Pod],
    ) -> Vec<&'a Pod> {
        // Ready nodes as they are, and upcoming nodes as copies of their group's template.
        struct Slot {
            free: Resources,
            template: Option<Template>,
            id: autoscale_sim_kube::NodeId,
            ports: Vec<u16>,
        }
        // Host ports matter only when a pending pod asks for one.
        let any_host_ports = pending.iter().any(|p| !p.spec.host_ports.is_empty());
        let mut slots: Vec<Slot> = Vec::new();
        for node in view.cluster.nodes() {
            if node.is_schedulable() {
                let ports = if any_host_ports {
                    autoscale_sim_kube::plugins::used_host_ports(node, view.cluster)
                        .into_iter()
                        .collect()
                } else {
                    Vec::new()
                };
                slots.push(Slot {
                    free: node.free(),
                    template: None,
                    id: node.id,
                    ports,
                });
            } else if node.state == NodeState::Launching
                && let Some(group) = self.group_of(&node.owner)
            {
                let template = self.template(group, view);
                let ports = template.daemon_ports.clone();
                slots.push(Slot {
                    free: template.free(),
                    template: Some(template),
                    id: node.id,
                    ports,
                });
            }
        }

        let mut tracker = TopologyTracker::new(view.cluster, view.zones);
        let mut remaining = Vec::new();
        // For a pod spec without inter-pod constraints or host ports, the first slot that can
        // take it never moves backwards within this pass (slots only lose capacity), so the
        // search for the next pod of the same spec starts where the last one ended; `None`
        // means no slot is left for that spec. The result is the same first fit as a full scan.
        let mut resume: BTreeMap<*const PodSpec, Option<usize>> = BTreeMap::new();
        for &pod in pending {
            let spec = &pod.spec;
            let key = Arc::as_ptr(spec);
            let cacheable = spec.host_ports.is_empty() && !tracker.constrained(spec);
            let start = if cacheable {
                match resume.get(&key) {
                    Some(None) => {
                        remaining.push(pod);
                        continue;
                    }
                    Some(Some(index)) => *index,
                    None => 0,
                }
            } else {
                0
            };
            let position = slots[start..].iter().position(|slot| {
                let fits = spec.requests.fits_in(&slot.free)
                    && spec.host_ports.iter().all(|p| !slot.ports.contains(p));
                if !fits {
                    return false;
                }
                let node = view.cluster.node(slot.id).expect("slot node exists");
                match &slot.template {
                    Some(t) => {
                        let domain = Domain {
                            hostname: node.name.clone(),
                            zone: t.labels.get(LABEL_ZONE).cloned(),
                        };
                        fits_template_statically(spec, t) && tracker.allows_simulated(spec, &domain)
                    }
                    None => {
                        passes_static_filters(spec, node) && tracker.allows_existing(spec, node)
                    }
                }
            });
            let position = position.map(|offset| start + offset);
            if cacheable {
                resume.insert(key, position);
            }
            match position {
                Some(index) => {
                    let slot = &mut slots[index];
                    slot.free -= spec.requests;
                    slot.ports.extend(spec.host_ports.iter().copied());
                    let node = view.cluster.node(slot.id).expect("slot node exists");
                    tracker.place(
                        spec,
                        Domain {
                            hostname: node.name.clone(),
                            zone: Some(node.zone.clone()),
                        },
                    );
                }
                None => remaining.push(pod),
            }
        }
        remaining
    }

    /// Scale-up for the pods no existing or upcoming node can take; returns whether a group grew.
    pub(super) fn scale_up(
        &mut self,
        view: &ClusterView<'_>,
        pending: &[&Pod],
        actions: &mut Actions,
    ) -> bool {
        let remaining = self.filter_out_schedulable(view, pending);
        if remaining.is_empty() {
            return false;
        }
        let total_nodes = view.cluster.node_count() as u32;
        if self.config.max_nodes_total > 0 && total_nodes >= self.config.max_nodes_total {
            return false;
        }

        // Estimate every group that can still grow.
        let groups = equivalence_groups(&remaining);
        let sizes = self.target_sizes(view);
        let mut options = Vec::new();
        for (index, group) in self.config.node_groups.iter().enumerate() {
            if sizes[index] >= group.max_size
                || self.backoff.get(&index).is_some_and(|b| b.active(view.now))
            {
                continue;
            }
            let mut limit = (group.max_size - sizes[index]).min(self.config.max_nodes_per_scaleup);
            if self.config.max_nodes_total > 0 {
                limit = limit.min(self.config.max_nodes_total - total_nodes);
            }
            let template = self.template(index, view);
            let mut tracker = TopologyTracker::new(view.cluster, view.zones);
            let (node_count, pods, requests) =
                estimate_with(&template, &groups, limit, &mut tracker);
            if node_count > 0 && !pods.is_empty() {
                options.push(ScaleUpOption {
                    group: index,
                    node_count,
                    pods,
                    requests,
                });
            }
        }
        if options.is_empty() {
            return false;
        }

        // Choose one option and launch its nodes.
        let (chosen, weighed) = self.choose(view, options);
        let group_name = self.config.node_groups[chosen.group].name.clone();
        for _ in 0..chosen.node_count {
            let reason = format!(
                "ScaleUp: node group {group_name} +{} for {} unschedulable pods; expander {} chose it among [{weighed}]",
                chosen.node_count,
                chosen.pods.len(),
                self.config
                    .expanders
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            );
            self.launch(chosen.group, reason, view, actions);
        }
        true
    }

    /// Runs the expander chain; a tie after the last expander goes to `random`, as in the
    /// real chain. Returns the choice and a description of the options weighed.
    fn choose(
        &mut self,
        view: &ClusterView<'_>,
        mut options: Vec<ScaleUpOption>,
    ) -> (ScaleUpOption, String) {
        let templates: Vec<Template> = options
            .iter()
            .map(|o| self.template(o.group, view))
            .collect();
        let weighed = options
            .iter()
            .zip(&templates)
            .map(|(o, t)| {
                format!(
                    "{} +{} for {} pods, waste {:.3}",
                    self.config.node_groups[o.group].name,
                    o.node_count,
                    o.pods.len(),
                    waste_score(t, o)
                )
            })
            .collect::<Vec<_>>()
            .join("; ");

        let mut keep: Vec<bool> = vec![true; options.len()];
        for expander in self.config.expanders.clone() {
            if keep.iter().filter(|k| **k).count() <= 1 {
                break;
            }
            let live: Vec<usize> = (0..options.len()).filter(|i| keep[*i]).collect();
            let best_of = |value: &dyn Fn(usize) -> f64| -> Vec<usize> {
                let best = live.iter().map(|&i| value(i)).fold(f64::INFINITY, f64::min);
                live.iter().copied().filter(|&i| value(i) == best).collect()
            };
            let winners: Vec<usize> = match expander {
                Expander::Random => vec![live[self.rng.random_range(0..live.len())]],
                Expander::MostPods => best_of(&|i| -(options[i].pods.len() as f64)),
                Expander::LeastNodes => best_of(&|i| f64::from(options[i].node_count)),
                Expander::LeastWaste => best_of(&|i| waste_score(&templates[i], &options[i])),
            };
            for (i, k) in keep.iter_mut().enumerate() {
                *k = winners.contains(&i);
            }
        }
        let live: Vec<usize> = (0..options.len()).filter(|i| keep[*i]).collect();
        let pick = if live.len() == 1 {
            live[0]
        } else {
            live[self.rng.random_range(0..live.len())]
        };
        (options.swap_remove(pick), weighed)
    }
}
