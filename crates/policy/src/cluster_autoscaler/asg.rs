//! The EC2 Auto Scaling group behind a node group: which zone, instance type and capacity type
//! its next instance gets. Cluster Autoscaler only sets the desired capacity; the group
//! chooses the instances.
//!
//! Defaults are those of the Auto Scaling API's `InstancesDistribution` (Amazon EC2 Auto
//! Scaling API Reference): no on-demand base capacity, 100 % on-demand above it, `prioritized`
//! on-demand allocation (launch template overrides in order), `lowest-price` spot allocation
//! over 2 pools. The group spreads its instances evenly over its zones.

use autoscale_sim_cloud::{InstanceTypeIndex, InterruptionBand, Price};
use autoscale_sim_kube::{CapacityType, NodeState};

use super::{ClusterAutoscaler, NodeGroupConfig};
use crate::api::ClusterView;

/// An Auto Scaling group's mixed-instances policy: launch template overrides of several
/// instance types, and how instances are split between on-demand and spot.
///
/// The Cluster Autoscaler AWS documentation advises overrides of the same vCPU and memory,
/// because Cluster Autoscaler sizes every node of the group like the first override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MixedInstancesPolicy {
    /// The overrides after the first, which is the group's `instance_type`, in priority order.
    pub other_instance_types: Vec<InstanceTypeIndex>,
    /// `OnDemandBaseCapacity`: instances that are on-demand before any spot; default 0.
    pub on_demand_base_capacity: u32,
    /// `OnDemandPercentageAboveBaseCapacity`: share of on-demand instances above the base, in
    /// percent; default 100.
    pub on_demand_percentage_above_base_capacity: u32,
    /// `OnDemandAllocationStrategy`; default `prioritized`.
    pub on_demand_allocation_strategy: OnDemandAllocationStrategy,
    /// `SpotAllocationStrategy`; default `lowest-price`.
    pub spot_allocation_strategy: SpotAllocationStrategy,
    /// `SpotInstancePools`: cheapest spot pools per zone that `lowest-price` spreads over;
    /// default 2.
    pub spot_instance_pools: u32,
}

impl Default for MixedInstancesPolicy {
    fn default() -> Self {
        MixedInstancesPolicy {
            other_instance_types: vec![],
            on_demand_base_capacity: 0,
            on_demand_percentage_above_base_capacity: 100,
            on_demand_allocation_strategy: OnDemandAllocationStrategy::Prioritized,
            spot_allocation_strategy: SpotAllocationStrategy::LowestPrice,
            spot_instance_pools: 2,
        }
    }
}

/// Strategy by which an Auto Scaling group picks the instance type of an on-demand instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDemandAllocationStrategy {
    /// `prioritized`: the overrides in order.
    Prioritized,
    /// `lowest-price`: the cheapest override first.
    LowestPrice,
}

impl OnDemandAllocationStrategy {
    /// Parses the API value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "prioritized" => Some(Self::Prioritized),
            "lowest-price" => Some(Self::LowestPrice),
            _ => None,
        }
    }
}

/// Strategy by which an Auto Scaling group picks the spot pool of a spot instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpotAllocationStrategy {
    /// `lowest-price`: the fewest-used of the `SpotInstancePools` cheapest pools of the zone.
    LowestPrice,
    /// `capacity-optimized`: the deepest pool, modelled as the lowest interruption band, then
    /// the cheapest.
    CapacityOptimized,
    /// `capacity-optimized-prioritized`: the lowest interruption band, then the overrides in
    /// order.
    CapacityOptimizedPrioritized,
    /// `price-capacity-optimized`: among pools priced within 15 % of the cheapest, the lowest
    /// interruption band, then the cheapest.
    PriceCapacityOptimized,
}

impl SpotAllocationStrategy {
    /// Parses the API value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "lowest-price" => Some(Self::LowestPrice),
            "capacity-optimized" => Some(Self::CapacityOptimized),
            "capacity-optimized-prioritized" => Some(Self::CapacityOptimizedPrioritized),
            "price-capacity-optimized" => Some(Self::PriceCapacityOptimized),
            _ => None,
        }
    }
}

/// Spot pools priced within this factor of the cheapest are candidates of
/// `price-capacity-optimized`.
/// NOTE: EC2 weighs price against pool depth with data AWS does not publish; this is the same
/// assumption as the Karpenter model's.
const PRICE_CAPACITY_SLACK: f64 = 1.15;

/// A group's instances that count toward its distribution: every node not being deleted.
#[derive(Clone, Debug, Default)]
pub(super) struct Members {
    total: u32,
    on_demand: u32,
    /// Instances per zone, indexed like the group's zones.
    per_zone: Vec<u32>,
    /// Spot instances per (instance type, zone index).
    spot_pools: Vec<(InstanceTypeIndex, usize, u32)>,
}

impl Members {
    /// Counts one more instance, as the launch just requested will be.
    pub(super) fn add(
        &mut self,
        capacity_type: CapacityType,
        instance_type: InstanceTypeIndex,
        zone: usize,
    ) {
        self.total += 1;
        if let Some(count) = self.per_zone.get_mut(zone) {
            *count += 1;
        }
        match capacity_type {
            CapacityType::OnDemand => self.on_demand += 1,
            CapacityType::Spot => match self
                .spot_pools
                .iter_mut()
                .find(|(t, z, _)| *t == instance_type && *z == zone)
            {
                Some((_, _, count)) => *count += 1,
                None => self.spot_pools.push((instance_type, zone, 1)),
            },
        }
    }

    fn spot_in_pool(&self, instance_type: InstanceTypeIndex, zone: usize) -> u32 {
        self.spot_pools
            .iter()
            .find(|(t, z, _)| *t == instance_type && *z == zone)
            .map_or(0, |(_, _, count)| *count)
    }
}

/// Returns the zones of a group: its own, or the region's first.
pub(super) fn group_zones<'a>(
    group: &'a NodeGroupConfig,
    view: &'a ClusterView<'_>,
) -> &'a [String] {
    if group.zones.is_empty() {
        &view.zones[..1]
    } else {
        &group.zones
    }
}

/// Lists every instance type of a group, the template's first.
pub(super) fn group_instance_types(group: &NodeGroupConfig) -> Vec<InstanceTypeIndex> {
    let mut types = vec![group.instance_type];
    if let Some(mixed) = &group.mixed_instances {
        types.extend(mixed.other_instance_types.iter().copied());
    }
    types
}

/// Checks whether the next instance of a group with `members` is on-demand, which it is while
/// the on-demand count is below the base plus the percentage of the instances above the base.
/// NOTE: the rounding of a fractional on-demand share is not documented; this model rounds up,
/// in favour of on-demand.
fn next_is_on_demand(policy: &MixedInstancesPolicy, members: &Members) -> bool {
    let size = members.total + 1;
    let base = size.min(policy.on_demand_base_capacity);
    let above = size - base;
    let above_on_demand = (above * policy.on_demand_percentage_above_base_capacity).div_ceil(100);
    members.on_demand < base + above_on_demand
}

impl ClusterAutoscaler {
    /// Counts the instances of `group` that are not being deleted.
    pub(super) fn members(&self, group: usize, view: &ClusterView<'_>) -> Members {
        let config = &self.config.node_groups[group];
        let zones = group_zones(config, view);
        let mut members = Members {
            per_zone: vec![0; zones.len()],
            ..Members::default()
        };
        for node in view.cluster.nodes() {
            if node.owner != config.name || node.state == NodeState::Deleting {
                continue;
            }
            let zone = zones.iter().position(|z| *z == node.zone).unwrap_or(0);
            members.add(node.capacity_type, node.instance_type, zone);
        }
        members
    }

    /// Returns the capacity type of the group's next instance and the offerings (instance type,
    /// zone) the Auto Scaling group tries for it, in order. Zones with the fewest instances come
    /// first, and within a zone the types follow the allocation strategy.
    pub(super) fn next_instance(
        &self,
        group: usize,
        view: &ClusterView<'_>,
        members: &Members,
    ) -> (CapacityType, Vec<(InstanceTypeIndex, usize)>) {
        let config = &self.config.node_groups[group];
        let zones = group_zones(config, view);
        let capacity_type = match &config.mixed_instances {
            None => config.capacity_type,
            Some(policy) if next_is_on_demand(policy, members) => CapacityType::OnDemand,
            Some(_) => CapacityType::Spot,
        };

        let mut zone_order: Vec<usize> = (0..zones.len()).collect();
        zone_order.sort_by_key(|&z| (members.per_zone.get(z).copied().unwrap_or(0), z));
        let types = group_instance_types(config);
        let mut offerings = Vec::with_capacity(zone_order.len() * types.len());
        for zone in zone_order {
            let ordered = match (&config.mixed_instances, capacity_type) {
                (None, _) => types.clone(),
                (Some(policy), CapacityType::OnDemand) => {
                    self.order_on_demand(policy, &types, view)
                }
                (Some(policy), CapacityType::Spot) => {
                    self.order_spot(policy, &types, &zones[zone], zone, members, view)
                }
            };
            offerings.extend(ordered.into_iter().map(|t| (t, zone)));
        }
        (capacity_type, offerings)
    }

    fn order_on_demand(
        &self,
        policy: &MixedInstancesPolicy,
        types: &[InstanceTypeIndex],
        view: &ClusterView<'_>,
    ) -> Vec<InstanceTypeIndex> {
        let mut ordered = types.to_vec();
        if policy.on_demand_allocation_strategy == OnDemandAllocationStrategy::LowestPrice {
            // A stable sort keeps the override order among equal prices.
            ordered.sort_by_key(|&t| view.catalog.get(t).on_demand_price);
        }
        ordered
    }

    fn order_spot(
        &self,
        policy: &MixedInstancesPolicy,
        types: &[InstanceTypeIndex],
        zone_name: &str,
        zone: usize,
        members: &Members,
        view: &ClusterView<'_>,
    ) -> Vec<InstanceTypeIndex> {
        let priced: Vec<(InstanceTypeIndex, Price, InterruptionBand)> = types
            .iter()
            .map(|&t| {
                let price = self.spot_price(view, t, zone_name);
                (t, price, self.interruption_band(view, t))
            })
            .collect();
        let mut by_price = priced.clone();
        by_price.sort_by_key(|&(_, price, _)| price);
        match policy.spot_allocation_strategy {
            SpotAllocationStrategy::LowestPrice => {
                // The fewest-used of the cheapest pools takes the instance, which spreads the
                // group evenly over them.
                let pools = (policy.spot_instance_pools.max(1) as usize).min(by_price.len());
                let first = (0..pools)
                    .min_by_key(|&i| (members.spot_in_pool(by_price[i].0, zone), i))
                    .unwrap_or(0);
                let chosen = by_price.remove(first);
                std::iter::once(chosen)
                    .chain(by_price)
                    .map(|(t, _, _)| t)
                    .collect()
            }
            SpotAllocationStrategy::CapacityOptimized => {
                by_price.sort_by_key(|&(_, price, band)| (band, price));
                by_price.into_iter().map(|(t, _, _)| t).collect()
            }
            SpotAllocationStrategy::CapacityOptimizedPrioritized => {
                let mut ordered = priced;
                ordered.sort_by_key(|&(_, _, band)| band);
                ordered.into_iter().map(|(t, _, _)| t).collect()
            }
            SpotAllocationStrategy::PriceCapacityOptimized => {
                let cheapest = by_price.first().map_or(0.0, |(_, p, _)| p.0 as f64);
                let (mut near, far): (Vec<_>, Vec<_>) = by_price
                    .into_iter()
                    .partition(|(_, p, _)| p.0 as f64 <= cheapest * PRICE_CAPACITY_SLACK);
                near.sort_by_key(|&(_, price, band)| (band, price));
                near.into_iter().chain(far).map(|(t, _, _)| t).collect()
            }
        }
    }

    /// Current spot price of an offering; the on-demand price without a market.
    pub(super) fn spot_price(
        &self,
        view: &ClusterView<'_>,
        instance_type: InstanceTypeIndex,
        zone: &str,
    ) -> Price {
        match &self.market {
            Some(market) => market
                .borrow_mut()
                .price(view.catalog, instance_type, zone, view.now),
            None => view.catalog.get(instance_type).on_demand_price,
        }
    }

    fn interruption_band(
        &self,
        view: &ClusterView<'_>,
        instance_type: InstanceTypeIndex,
    ) -> InterruptionBand {
        self.market
            .as_ref()
            .map(|market| market.borrow().band(view.catalog, instance_type))
            .unwrap_or_default()
    }

    /// Hourly price, in dollars, of the node the group would launch next, for the price
    /// expander: its first offering at its capacity type.
    pub(super) fn node_price_per_hour(&self, view: &ClusterView<'_>, group: usize) -> f64 {
        let members = self.members(group, view);
        let (capacity_type, offerings) = self.next_instance(group, view, &members);
        let config = &self.config.node_groups[group];
        let (instance_type, zone) = offerings
            .first()
            .copied()
            .unwrap_or((config.instance_type, 0));
        let price = match capacity_type {
            CapacityType::OnDemand => view.catalog.get(instance_type).on_demand_price,
            CapacityType::Spot => {
                self.spot_price(view, instance_type, &group_zones(config, view)[zone])
            }
        };
        price.0 as f64 / 1e6
    }
}
