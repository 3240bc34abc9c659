//! Scale-up (`core/scaleup/orchestrator/orchestrator.go`, 1.36). It filters out pods that fit
//! on existing or upcoming nodes and estimates each node group with the binpacking estimator.
//! The expander chain chooses one option, which is capped by the cluster limits, split over
//! similar node groups, and executed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use autoscale_sim_cloud::Resources;
use autoscale_sim_engine::SimDuration;
use autoscale_sim_kube::plugins::node_affinity_matches;
use autoscale_sim_kube::{
    LABEL_ZONE, NodeState, Pod, PodId, PodSpec, passes_static_filters, tolerates_all,
};

use super::ClusterAutoscaler;
use super::asg::{Members, group_zones};
use super::balancing::{balance, explain_no_similar, similar};
use super::limits::QuotaTracker;
use super::template::Template;
use crate::api::{Actions, ClusterView, LaunchRequest};
use crate::topology::{Domain, TopologyTracker};

/// Pending pods marked Unschedulable, older than `new_pod_scale_up_delay` and not expendable
/// (priority at least `expendable_priority_cutoff`, `core/utils/expendable.go`), in queue order.
/// Pods nominated to a node wait for the victims of their preemption, so scale-up ignores them
/// (`FilterOutExpendableAndSplit`).
pub(super) fn unschedulable_pods<'a>(
    view: &ClusterView<'a>,
    new_pod_scale_up_delay: SimDuration,
    expendable_priority_cutoff: i32,
) -> Vec<&'a Pod> {
    view.cluster
        .pending_pods()
        .filter(|p| {
            p.unschedulable
                && !p.is_preempting()
                && view.now.since(p.created) >= new_pod_scale_up_delay
                && p.spec.priority >= expendable_priority_cutoff
        })
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

/// Outcome of one scale-up, in Cluster Autoscaler's terms (`status.ScaleUpStatus`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct ScaleUpStatus {
    /// Groups grown and by how many nodes, the chosen group first.
    pub grown: Vec<(usize, u32)>,
    /// Pods of the chosen option (`PodsTriggeredScaleUp`).
    pub triggered: Vec<PodId>,
    /// Pods no node group can hold (`PodsRemainUnschedulable`).
    pub remain_unschedulable: Vec<PodId>,
    /// Pods another group could hold, left for the next loop (`PodsAwaitEvaluation`).
    pub awaiting_evaluation: Vec<PodId>,
}

/// Whether a pod passes the template's taint and node affinity checks.
fn fits_template_statically(spec: &PodSpec, template: &Template) -> bool {
    tolerates_all(&spec.tolerations, &template.taints)
        && node_affinity_matches(spec, &template.labels)
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
    fn fresh(template: &Template, index: usize) -> Self {
        EstimatedNode {
            free: template.free(),
            pods: 0,
            ports: template.daemon_ports.clone(),
            domain: Domain {
                hostname: format!("template-node-{index}"),
                zone: template.labels.get(LABEL_ZONE).cloned(),
            },
        }
    }

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

/// Checks whether the first pod of an equivalence group fits on an empty node of the template
/// (`SchedulablePodGroups`).
fn schedulable_on(spec: &PodSpec, template: &Template, tracker: &TopologyTracker<'_>) -> bool {
    fits_template_statically(spec, template)
        && EstimatedNode::fresh(template, usize::MAX).takes(spec, tracker)
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

    let mut nodes: Vec<EstimatedNode> = Vec::new();
    let mut placed = Vec::new();
    let mut requests = Resources::ZERO;
    for (spec, ids) in ordered {
        if !schedulable_on(spec, template, tracker) {
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
                nodes.push(EstimatedNode::fresh(template, nodes.len()));
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

/// Smallest of the estimator's positive node limits (`thresholdBasedEstimationLimiter`); `None`
/// when one of them leaves no room at all.
fn node_limit(limits: &[i64]) -> Option<u32> {
    let mut limit: Option<i64> = None;
    for &value in limits {
        if value < 0 {
            return None;
        }
        if value > 0 {
            limit = Some(limit.map_or(value, |l| l.min(value)));
        }
    }
    Some(limit.map_or(u32::MAX, |l| l.min(i64::from(u32::MAX)) as u32))
}

/// Returns the reason a node group is not an option in this loop, in Cluster Autoscaler's words.
fn skip_reason(
    autoscaler: &ClusterAutoscaler,
    group: usize,
    size: u32,
    quota: &QuotaTracker,
    view: &ClusterView<'_>,
) -> Option<String> {
    let config = &autoscaler.config.node_groups[group];
    if let Some(backoff) = autoscaler.backoff.get(&group)
        && backoff.active(view.now)
    {
        return Some(format!("backed off until {}", backoff.until));
    }
    if size >= config.max_size {
        return Some("max size reached".into());
    }
    if quota.allowed(group, 1) < 1 {
        return Some(format!(
            "max cluster resources reached: {}",
            quota.exceeded(group).join(" and ")
        ));
    }
    None
}

impl ClusterAutoscaler {
    /// Launches each group's minimum size at the start, as the Auto Scaling group itself does.
    pub(super) fn launch_min_sizes(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        for group in 0..self.config.node_groups.len() {
            let min = self.config.node_groups[group].min_size;
            let reason = format!(
                "Auto Scaling group {} starts at its minimum size {min}",
                self.config.node_groups[group].name
            );
            self.launch(group, min, &reason, view, actions);
        }
    }

    /// Grows `group` by `count` nodes, each placed by the Auto Scaling group (zone, instance
    /// type, capacity type).
    fn launch(
        &mut self,
        group: usize,
        count: u32,
        reason: &str,
        view: &ClusterView<'_>,
        actions: &mut Actions,
    ) {
        if count == 0 {
            return;
        }
        let mut members: Members = self.members(group, view);
        for _ in 0..count {
            let (capacity_type, offerings) = self.next_instance(group, view, &members);
            let config = &self.config.node_groups[group];
            let zones = group_zones(config, view);
            let (instance_type, zone) = offerings[0];
            let mut labels =
                crate::requirements::instance_type_labels(view.catalog.get(instance_type));
            labels.extend(config.labels.clone());
            let id = actions.launch(LaunchRequest {
                owner: config.name.clone(),
                instance_type,
                capacity_type,
                zone: zones[zone].clone(),
                labels,
                taints: config.taints.clone(),
                annotations: BTreeMap::new(),
                reason: reason.to_string(),
                alternatives: offerings[1..]
                    .iter()
                    .map(|&(t, z)| (t, zones[z].clone()))
                    .collect(),
            });
            members.add(capacity_type, instance_type, zone);
            self.upcoming.insert(id, group);
        }
    }

    /// Drops the pods that fit on existing Ready nodes or on upcoming nodes (first fit in queue
    /// order), as the `filter_out_schedulable` pod-list processor does. Returns the pods left
    /// and a tracker with the placements of inter-pod constrained pods. The processor places
    /// the pods it drops in the cluster snapshot, so the estimator counts them.
    fn filter_out_schedulable<'a, 'v>(
        &self,
        view: &ClusterView<'v>,
        templates: &[Template],
        pending: &[&'a Pod],
    ) -> (Vec<&'a Pod>, TopologyTracker<'v>) {
        // Ready nodes as they are, and upcoming nodes as copies of their group's template.
        struct Slot<'n> {
            free: Resources,
            template: Option<usize>,
            node: &'n autoscale_sim_kube::Node,
            ports: Vec<u16>,
        }
        // Host ports matter only when a pending pod requests one.
        let any_host_ports = pending.iter().any(|p| !p.spec.host_ports.is_empty());
        let mut slots: Vec<Slot> = Vec::with_capacity(view.cluster.node_count());
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
                    node,
                    ports,
                });
            } else if node.state == NodeState::Launching
                && let Some(group) = self.group_of(node)
                && !self.backed_off(group, view.now)
            {
                // Since 1.36 a backed-off group's nodes are not upcoming
                // (`ClusterStateRegistry.GetUpcomingNodes`).
                let template = &templates[group];
                slots.push(Slot {
                    free: template.free(),
                    template: Some(group),
                    node,
                    ports: template.daemon_ports.clone(),
                });
            }
        }

        let mut tracker = TopologyTracker::new(view.cluster, view.zones);
        // When no pending pod needs topology checks, no pod with required anti-affinity is
        // placed, so the tracker allows every placement and need not record them.
        let tracking = pending.iter().any(|pod| tracker.constrained(&pod.spec));
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
                let node = slot.node;
                match slot.template {
                    Some(group) if tracking => {
                        let template = &templates[group];
                        let domain = Domain {
                            hostname: node.name.clone(),
                            zone: template.labels.get(LABEL_ZONE).cloned(),
                        };
                        fits_template_statically(spec, template)
                            && tracker.allows_simulated(spec, &domain)
                    }
                    Some(group) => fits_template_statically(spec, &templates[group]),
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
                    if tracking {
                        let node = slot.node;
                        tracker.place(
                            spec,
                            Domain {
                                hostname: node.name.clone(),
                                zone: Some(node.zone.clone()),
                            },
                        );
                    }
                }
                None => remaining.push(pod),
            }
        }
        (remaining, tracker)
    }

    /// Scale-up for the pods no existing or upcoming node can take; returns whether a group grew.
    pub(super) fn scale_up(
        &mut self,
        view: &ClusterView<'_>,
        templates: &[Template],
        pending: &[&Pod],
        actions: &mut Actions,
    ) -> bool {
        !self
            .scale_up_status(view, templates, pending, actions)
            .grown
            .is_empty()
    }

    /// [`ClusterAutoscaler::scale_up`], returning what it did with the pods.
    pub(super) fn scale_up_status(
        &mut self,
        view: &ClusterView<'_>,
        templates: &[Template],
        pending: &[&Pod],
        actions: &mut Actions,
    ) -> ScaleUpStatus {
        // Without pending pods nothing remains, so the walk over the nodes is skipped.
        if pending.is_empty() {
            self.max_total_reached = false;
            self.no_scale_up_noted = None;
            return ScaleUpStatus::default();
        }
        let (remaining, placed) = self.filter_out_schedulable(view, templates, pending);
        if remaining.is_empty() {
            self.max_total_reached = false;
            self.no_scale_up_noted = None;
            return ScaleUpStatus::default();
        }
        // `--max-nodes-total` stops scale-up once the Ready nodes reach it
        // (`ScaleUpLimitedByMaxNodesTotal` in `core/static_autoscaler.go`).
        let max_total = i64::from(self.config.max_nodes_total);
        let ready = view
            .cluster
            .nodes()
            .filter(|n| n.state != NodeState::Launching)
            .count() as i64;
        let reached = max_total > 0 && ready >= max_total;
        if reached && !self.max_total_reached {
            let plural = |count: i64, noun: &str| match count {
                1 => format!("1 {noun}"),
                _ => format!("{count} {noun}s"),
            };
            let detail = format!(
                "no scale-up for {} with {} Ready, at --max-nodes-total={max_total}",
                plural(remaining.len() as i64, "unschedulable pod"),
                plural(ready, "node"),
            );
            actions.note(
                None,
                "scale-up-limited",
                "ScaleUpLimitedByMaxNodesTotal",
                detail,
            );
        }
        self.max_total_reached = reached;
        if reached {
            return ScaleUpStatus {
                remain_unschedulable: remaining.iter().map(|p| p.id).collect(),
                ..ScaleUpStatus::default()
            };
        }

        // Filter the node groups (`filterValidScaleUpNodeGroups`).
        let groups = equivalence_groups(&remaining);
        let sizes = self.target_sizes(view);
        let mut quota = self.max_quota(view, templates);
        // Every node in the snapshot, upcoming ones included.
        let current_nodes = view.cluster.node_count() as i64;
        let group_count = self.config.node_groups.len();
        let mut skipped: Vec<(usize, String)> = Vec::new();
        let mut valid = vec![false; group_count];
        for group in 0..group_count {
            match skip_reason(self, group, sizes[group], &quota, view) {
                Some(reason) => skipped.push((group, reason)),
                None => valid[group] = true,
            }
        }

        // Which equivalence groups fit an empty node of each valid group (`SchedulablePodGroups`).
        let mut schedulable: Vec<Vec<bool>> = vec![Vec::new(); group_count];
        for group in (0..group_count).filter(|g| valid[*g]) {
            schedulable[group] = groups
                .iter()
                .map(|(spec, _)| schedulable_on(spec, &templates[group], &placed))
                .collect();
        }
        // Similar groups of each valid group (`ComputeSimilarNodeGroups`): valid, with similar
        // templates, and able to hold every equivalence group the group can hold.
        let similar_of: Vec<Vec<usize>> = (0..group_count)
            .map(|group| {
                if !self.config.balancing.enabled || !valid[group] {
                    return Vec::new();
                }
                (0..group_count)
                    .filter(|&other| other != group && valid[other])
                    .filter(|&other| {
                        similar(&templates[group], &templates[other], &self.config.balancing)
                    })
                    .filter(|&other| {
                        schedulable[group]
                            .iter()
                            .zip(&schedulable[other])
                            .all(|(mine, theirs)| !mine || *theirs)
                    })
                    .collect()
            })
            .collect();

        // Estimate every valid group (`ComputeExpansionOption`).
        let room = |group: usize| {
            i64::from(self.config.node_groups[group].max_size) - i64::from(sizes[group])
        };
        let mut options = Vec::new();
        for group in (0..group_count).filter(|g| valid[*g]) {
            let similar_room: i64 = similar_of[group].iter().map(|&g| room(g).max(0)).sum();
            let cluster_room = if max_total > 0 {
                if max_total <= current_nodes {
                    -1
                } else {
                    max_total - current_nodes
                }
            } else {
                0
            };
            let Some(limit) = node_limit(&[
                i64::from(self.config.max_nodes_per_scaleup),
                room(group) + similar_room,
                cluster_room,
            ]) else {
                continue;
            };
            let mut tracker = placed.clone();
            let (node_count, pods, requests) =
                estimate_with(&templates[group], &groups, limit, &mut tracker);
            if node_count > 0 && !pods.is_empty() {
                options.push(ScaleUpOption {
                    group,
                    node_count,
                    pods,
                    requests,
                });
            }
        }
        let never_schedulable =
            |index: usize| (0..group_count).all(|g| !valid[g] || !schedulable[g][index]);
        let remain_unschedulable: Vec<PodId> = groups
            .iter()
            .enumerate()
            .filter(|(index, _)| never_schedulable(*index))
            .flat_map(|(_, (_, ids))| ids.iter().copied())
            .collect();
        if options.is_empty() {
            self.note_no_scale_up(remaining.len(), &skipped, &valid, actions);
            return ScaleUpStatus {
                remain_unschedulable,
                ..ScaleUpStatus::default()
            };
        }
        self.no_scale_up_noted = None;

        // Choose one option, then cap it by `--max-nodes-total` (`GetCappedNewNodeCount`) and
        // the core and memory limits (`applyLimits`).
        let (pick, weighed) = self.choose(view, templates, &options);
        let best = options.swap_remove(pick);
        let mut new_nodes = i64::from(best.node_count);
        let mut caps = Vec::new();
        if max_total > 0 && new_nodes + current_nodes > max_total {
            new_nodes = max_total - current_nodes;
            if new_nodes < 1 {
                return ScaleUpStatus {
                    remain_unschedulable,
                    ..ScaleUpStatus::default()
                };
            }
            caps.push(format!("--max-nodes-total={max_total}"));
        }
        let before_quota = new_nodes as u32;
        let new_nodes = quota.allowed(best.group, before_quota);
        if new_nodes < before_quota {
            caps.push("the cluster's core or memory limit (--cores-total, --memory-total)".into());
        }

        // Split over similar groups that still have quota for a node (`balanceScaleUps`), then
        // cap each group's part by what quota is left (`capScaleUpsByQuota`).
        let mut targets = vec![(
            best.group,
            sizes[best.group],
            self.config.node_groups[best.group].max_size,
        )];
        for &other in &similar_of[best.group] {
            if quota.allowed(other, 1) >= 1 {
                targets.push((other, sizes[other], self.config.node_groups[other].max_size));
            }
        }
        let mut grown = Vec::new();
        for part in balance(&targets, new_nodes) {
            let delta = quota.allowed(part.group, part.new - part.current);
            quota.consume(part.group, delta);
            if delta > 0 {
                grown.push((part.group, delta));
            }
        }

        // Classify the pods and describe the decision for the log.
        let best_name = self.config.node_groups[best.group].name.clone();
        let awaiting_evaluation: Vec<PodId> = groups
            .iter()
            .enumerate()
            .filter(|(index, _)| {
                let on_best = schedulable[best.group].get(*index) == Some(&true);
                !never_schedulable(*index) && !on_best
            })
            .flat_map(|(_, (_, ids))| ids.iter().copied())
            .collect();
        let mut reason = format!(
            "ScaleUp: node group {best_name} +{new_nodes} for {} unschedulable pods",
            best.pods.len()
        );
        if !caps.is_empty() {
            // Names the limit that cut the chosen option, which the option list does not show.
            let _ = write!(
                reason,
                ", capped from +{} by {}",
                best.node_count,
                caps.join(" and ")
            );
        }
        if self.config.balancing.enabled && similar_of[best.group].is_empty() {
            // Tells an operator why --balance-similar-node-groups did not split this scale-up.
            let others: Vec<usize> = (0..group_count)
                .filter(|&other| other != best.group && valid[other])
                .collect();
            let explanation = explain_no_similar(
                best.group,
                &others,
                templates,
                |group| self.config.node_groups[group].name.clone(),
                &self.config.balancing,
            );
            let _ = write!(
                reason,
                ", no similar node group to balance with ({explanation})"
            );
        }
        if grown.len() > 1 || grown.first().is_some_and(|(g, _)| *g != best.group) {
            reason.push_str(", balanced over similar node groups as ");
            for (i, (group, delta)) in grown.iter().enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                let _ = write!(
                    reason,
                    "{separator}{} +{delta}",
                    self.config.node_groups[*group].name
                );
            }
        }
        let _ = write!(
            reason,
            "; {} pods remain unschedulable, {} await evaluation; expander {} chose it among [{weighed}]",
            remain_unschedulable.len(),
            awaiting_evaluation.len(),
            self.config
                .expanders
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(","),
        );
        if !skipped.is_empty() {
            reason.push_str("; skipped node groups: ");
            for (i, (group, why)) in skipped.iter().enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                let _ = write!(
                    reason,
                    "{separator}{} ({why})",
                    self.config.node_groups[*group].name
                );
            }
        }

        // Execute (`ExecuteScaleUps`): each group grows and records its scale-up request.
        for &(group, delta) in &grown {
            self.launch(group, delta, &reason, view, actions);
            self.register_scale_up(group, delta, view.now);
        }
        ScaleUpStatus {
            grown,
            triggered: best.pods,
            remain_unschedulable,
            awaiting_evaluation,
        }
    }

    /// Writes a `no-scale-up` note when no node group can take any of the `pods` unschedulable
    /// pods, once while the same groups are skipped for the same reasons. Cluster Autoscaler
    /// gives each such pod a NotTriggerScaleUp event that names the reasons
    /// (`processors/status/eventing_scale_up_processor.go`, 1.36).
    fn note_no_scale_up(
        &mut self,
        pods: usize,
        skipped: &[(usize, String)],
        valid: &[bool],
        actions: &mut Actions,
    ) {
        let name = |group: usize| self.config.node_groups[group].name.as_str();
        let mut reasons: Vec<String> = skipped
            .iter()
            .map(|(group, why)| format!("{} ({why})", name(*group)))
            .collect();
        let unfit: Vec<&str> = (0..valid.len())
            .filter(|group| valid[*group])
            .map(name)
            .collect();
        if !unfit.is_empty() {
            reasons.push(format!(
                "{} (no node of the group can take the pods)",
                unfit.join(", ")
            ));
        }
        let key = reasons.join(", ");
        if self.no_scale_up_noted.as_ref() == Some(&key) {
            return;
        }
        let pods = match pods {
            1 => "1 unschedulable pod".to_string(),
            count => format!("{count} unschedulable pods"),
        };
        let detail = format!("no scale-up for {pods}: {key}");
        actions.note(None, "no-scale-up", "NotTriggerScaleUp", detail);
        self.no_scale_up_noted = Some(key);
    }

    /// Grows every group below its minimum size (`ScaleUpToNodeGroupMinSize`, with
    /// `--enforce-node-group-min-size`); returns whether a group grew.
    pub(super) fn scale_up_to_min_size(
        &mut self,
        view: &ClusterView<'_>,
        templates: &[Template],
        actions: &mut Actions,
    ) -> bool {
        let sizes = self.target_sizes(view);
        // The quota is checked, not consumed, per group, as the real loop does.
        let quota = self.max_quota(view, templates);
        let max_total = i64::from(self.config.max_nodes_total);
        let mut grown = false;
        for (group, &target) in sizes.iter().enumerate() {
            let min = self.config.node_groups[group].min_size;
            if target >= min || self.backed_off(group, view.now) || quota.allowed(group, 1) < 1 {
                continue;
            }
            let mut count = i64::from(quota.allowed(group, min - target));
            // NOTE: 1.36 caps by `--max-nodes-total` with the group's target size where the
            // cluster's node count belongs (`GetCappedNewNodeCount(newNodeCount, targetSize)`);
            // the model does the same.
            if max_total > 0 && count + i64::from(target) > max_total {
                count = max_total - i64::from(target);
                if count < 1 {
                    continue;
                }
            }
            let count = count as u32;
            let reason = format!(
                "ScaleUpToNodeGroupMinSize: node group {} +{count} toward its minimum size {min} (--enforce-node-group-min-size)",
                self.config.node_groups[group].name
            );
            self.launch(group, count, &reason, view, actions);
            self.register_scale_up(group, count, view.now);
            grown = true;
        }
        grown
    }
}
