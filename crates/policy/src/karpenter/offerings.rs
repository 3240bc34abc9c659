//! Offerings: which (instance type, zone, capacity type) a NodeClaim launches, the cache of
//! offerings EC2 recently could not fill, and spot interruption handling.

use autoscale_sim_cloud::{InstanceTypeIndex, Price};
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{CapacityType, LABEL_CAPACITY_TYPE, NodeId};

use super::{Karpenter, ResolvedPool};
use crate::api::{Actions, ClusterView, DisruptionReason};

/// How long an offering stays unavailable after InsufficientInstanceCapacity or an interruption
/// (aws/karpenter-provider-aws `pkg/cache/cache.go`, `UnavailableOfferingsTTL`).
pub(super) const UNAVAILABLE_OFFERINGS_TTL: SimDuration = SimDuration::from_mins(3);

/// Instance types sent to EC2 CreateFleet per NodeClaim, cheapest first.
pub(super) const MAX_INSTANCE_TYPES_AT_LAUNCH: usize = 60;

/// Spot offerings within this factor of the cheapest are candidates of the
/// price-capacity-optimized model.
/// NOTE: EC2's price-capacity-optimized strategy weighs price against pool depth with
/// unpublished data; this model takes the lowest interruption band among offerings priced
/// within 15 % of the cheapest.
const PRICE_CAPACITY_SLACK: f64 = 1.15;

/// The offering a launch goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Offering {
    /// Index into the pool's options.
    pub option: usize,
    pub zone: String,
    pub capacity_type: CapacityType,
    pub price: Price,
    /// The other offerings of the same capacity type sent in the same request, in order.
    pub alternatives: Vec<(InstanceTypeIndex, String)>,
}

impl Karpenter {
    /// Marks an offering unavailable for the cache's TTL.
    pub(super) fn mark_unavailable(
        &mut self,
        instance_type: InstanceTypeIndex,
        zone: &str,
        capacity_type: CapacityType,
        now: SimTime,
    ) {
        self.unavailable.insert(
            (instance_type, zone.to_string(), capacity_type),
            now + UNAVAILABLE_OFFERINGS_TTL,
        );
    }

    fn available(
        &self,
        instance_type: InstanceTypeIndex,
        zone: &str,
        capacity_type: CapacityType,
        now: SimTime,
    ) -> bool {
        // With no offering marked, the lookup key is not built, which saves copying the zone.
        self.unavailable.is_empty()
            || self
                .unavailable
                .get(&(instance_type, zone.to_string(), capacity_type))
                .is_none_or(|until| *until <= now)
    }

    /// Current spot price of an offering, from the policy's copy of the market.
    pub(super) fn spot_price(
        &self,
        view: &ClusterView<'_>,
        instance_type: InstanceTypeIndex,
        zone: &str,
    ) -> Option<Price> {
        let market = self.market.as_ref()?;
        Some(
            market
                .borrow_mut()
                .price(view.catalog, instance_type, zone, view.now),
        )
    }

    /// Highest current spot price of an instance type over the pool's available zones: the
    /// worst case a spot replacement could launch at (`Offerings.WorstLaunchPrice`).
    pub(super) fn worst_spot_price(
        &self,
        view: &ClusterView<'_>,
        pool: &ResolvedPool,
        instance_type: InstanceTypeIndex,
        zone: Option<&String>,
    ) -> Option<Price> {
        let zones: Vec<&String> = match zone {
            Some(z) => vec![z],
            None => pool.zones.iter().collect(),
        };
        zones
            .into_iter()
            .filter(|z| self.available(instance_type, z, CapacityType::Spot, view.now))
            .filter_map(|z| self.spot_price(view, instance_type, z))
            .max()
    }

    /// Lowest current price of option `option` over its available offerings that a NodeClaim
    /// of the pool may launch: in `zone` or else the pool's zones, spot and on-demand as the
    /// pool allows them and `only` keeps them. `None` when no such offering is available.
    /// Karpenter orders a NodeClaim's options by it (`InstanceTypes.OrderByPrice`,
    /// kubernetes-sigs/karpenter v1.14 `cloudprovider/types.go`).
    pub(super) fn cheapest_offering_price(
        &self,
        view: &ClusterView<'_>,
        pool: &ResolvedPool,
        option: usize,
        zone: Option<&String>,
        only: Option<CapacityType>,
    ) -> Option<Price> {
        let instance_type = pool.options[option].instance_type;
        let zones: Vec<&String> = match zone {
            Some(z) => vec![z],
            None => pool.zones.iter().collect(),
        };
        let spot = (pool.allows_spot && only != Some(CapacityType::OnDemand))
            .then(|| {
                zones
                    .iter()
                    .filter(|z| self.available(instance_type, z, CapacityType::Spot, view.now))
                    .filter_map(|z| self.spot_price(view, instance_type, z))
                    .min()
            })
            .flatten();
        let on_demand = (pool.allows_on_demand
            && only != Some(CapacityType::Spot)
            && zones
                .iter()
                .any(|z| self.available(instance_type, z, CapacityType::OnDemand, view.now)))
        .then_some(pool.options[option].price);
        spot.into_iter().chain(on_demand).min()
    }

    /// Returns the instance types that the AWS provider sends to EC2 for a NodeClaim with
    /// `options`, which may launch in `zone` (or the pool's zones) and as `only` (or as the
    /// pool allows). Bare-metal sizes and types with GPUs are dropped unless nothing else
    /// remains, and not at all for a NodePool with minValues (`filterExoticInstanceTypes`).
    /// Then the 60 cheapest by their cheapest offering are kept (`Truncate`, which orders by
    /// `OrderByPrice`; aws/karpenter-provider-aws v1.14 `pkg/providers/instance/instance.go`).
    /// The sort is stable, so ties keep the options' order.
    pub(super) fn launch_types(
        &self,
        view: &ClusterView<'_>,
        pool_index: usize,
        options: &[usize],
        zone: Option<&String>,
        only: Option<CapacityType>,
    ) -> Vec<usize> {
        let pool = &self.pools.as_ref().expect("pools resolved")[pool_index];
        // Gaudi accelerators count among the GPUs, and Inferentia and Trainium chips as Neuron
        // devices.
        let is_exotic = |option: usize| {
            let instance_type = view.catalog.get(pool.options[option].instance_type);
            instance_type.size.contains("metal")
                || instance_type.gpu_count > 0
                || instance_type.neuron_devices > 0
        };
        let filter_exotic =
            pool.min_values.is_empty() && options.iter().any(|&option| !is_exotic(option));
        let mut sendable: Vec<usize> = options
            .iter()
            .copied()
            .filter(|&option| !filter_exotic || !is_exotic(option))
            .collect();
        // An on-demand-only NodeClaim's options are already in price order (the pool's), unless
        // an offering is marked unavailable, so the sort is needed only then or with spot.
        let spot = pool.allows_spot && only != Some(CapacityType::OnDemand);
        if spot || !self.unavailable.is_empty() {
            sendable.sort_by_cached_key(|&option| {
                self.cheapest_offering_price(view, pool, option, zone, only)
                    .map_or(u64::MAX, |price| price.0)
            });
        }
        sendable.truncate(MAX_INSTANCE_TYPES_AT_LAUNCH);
        sendable
    }

    /// Chooses the offering a NodeClaim with `options` launches, as the AWS provider does. It
    /// launches spot when the pool allows it and a spot offering is available, else on-demand,
    /// among at most the 60 types [`Karpenter::launch_types`] sends. When both capacity types
    /// are allowed, spot offerings priced above the cheapest on-demand one are dropped.
    /// On-demand goes to the lowest price (`lowest-price`), spot to the price-capacity-optimized
    /// model. `only` restricts the capacity type.
    pub(super) fn choose_offering(
        &self,
        view: &ClusterView<'_>,
        pool_index: usize,
        options: &[usize],
        zone: Option<&String>,
        only: Option<CapacityType>,
    ) -> Option<Offering> {
        let pool = &self.pools.as_ref().expect("pools resolved")[pool_index];
        let zones: Vec<String> = match zone {
            Some(z) => vec![z.clone()],
            None => {
                // Least-used zones first, so equal prices spread the pool over the zones. The
                // pool's nodes are counted per zone in one sweep over the cluster, and the
                // stable sort keeps the pool's zone order among zones with equal counts.
                let mut nodes_per_zone = vec![0usize; pool.zones.len()];
                for node in view.cluster.nodes() {
                    if node.owner == pool.config.name
                        && let Some(index) = pool.zones.iter().position(|z| *z == node.zone)
                    {
                        nodes_per_zone[index] += 1;
                    }
                }
                // A zone listed twice takes the count of its first entry, as the sweep counted
                // its nodes there.
                let mut zones_by_use: Vec<(usize, &String)> = pool
                    .zones
                    .iter()
                    .map(|zone| {
                        let first = pool.zones.iter().position(|z| z == zone);
                        (first.map_or(0, |index| nodes_per_zone[index]), zone)
                    })
                    .collect();
                zones_by_use.sort_by_key(|&(count, _)| count);
                zones_by_use
                    .into_iter()
                    .map(|(_, zone)| zone.clone())
                    .collect()
            }
        };
        let sent = self.launch_types(view, pool_index, options, zone, only);

        // On-demand: the lowest price among available offerings (`lowest-price`).
        let mut on_demand_list: Vec<(usize, &String)> = Vec::new();
        if pool.allows_on_demand && only != Some(CapacityType::Spot) {
            for &option in &sent {
                let instance_type = pool.options[option].instance_type;
                for zone in zones
                    .iter()
                    .filter(|z| self.available(instance_type, z, CapacityType::OnDemand, view.now))
                {
                    on_demand_list.push((option, zone));
                }
            }
        }
        let on_demand = on_demand_list.first().map(|(option, zone)| Offering {
            option: *option,
            zone: (*zone).clone(),
            capacity_type: CapacityType::OnDemand,
            price: pool.options[*option].price,
            alternatives: on_demand_list
                .iter()
                .skip(1)
                .map(|(o, z)| (pool.options[*o].instance_type, (*z).clone()))
                .collect(),
        });

        // Spot: price-capacity-optimized among available offerings.
        if let Some(market) = self
            .market
            .as_ref()
            .filter(|_| pool.allows_spot && only != Some(CapacityType::OnDemand))
        {
            let mut spot: Vec<(Offering, autoscale_sim_cloud::InterruptionBand)> = Vec::new();
            for &option in &sent {
                let instance_type = pool.options[option].instance_type;
                let band = market.borrow().band(view.catalog, instance_type);
                for zone in &zones {
                    if !self.available(instance_type, zone, CapacityType::Spot, view.now) {
                        continue;
                    }
                    let price = self
                        .spot_price(view, instance_type, zone)
                        .expect("the market exists");
                    if on_demand
                        .as_ref()
                        .is_some_and(|od| only.is_none() && price > od.price)
                    {
                        continue;
                    }
                    spot.push((
                        Offering {
                            option,
                            zone: zone.clone(),
                            capacity_type: CapacityType::Spot,
                            price,
                            alternatives: Vec::new(),
                        },
                        band,
                    ));
                }
            }
            if let Some(cheapest) = spot.iter().map(|(o, _)| o.price).min() {
                // Rank: within the price slack, lowest band then price; then the rest by price.
                let limit = (cheapest.0 as f64 * PRICE_CAPACITY_SLACK) as u64;
                spot.sort_by_key(|(o, band)| {
                    let within = o.price.0 <= limit;
                    (!within, if within { Some(*band) } else { None }, o.price)
                });
                let alternatives = spot
                    .iter()
                    .skip(1)
                    .map(|(o, _)| (pool.options[o.option].instance_type, o.zone.clone()))
                    .collect();
                let (mut first, _) = spot.swap_remove(0);
                first.alternatives = alternatives;
                return Some(first);
            }
        }
        on_demand
    }

    /// Handles a spot interruption notice: the offering becomes unavailable, and the node is
    /// cordoned and drained at once (the AWS provider's interruption controller, CordonAndDrain).
    pub(super) fn on_interruption(
        &mut self,
        node: NodeId,
        view: &ClusterView<'_>,
        actions: &mut Actions,
    ) {
        let Some(n) = view.cluster.node(node) else {
            return;
        };
        if self.pool_index(&n.owner).is_none() {
            return;
        }
        self.mark_unavailable(n.instance_type, &n.zone, CapacityType::Spot, view.now);
        let detail = format!(
            "Interrupted: spot interruption notice for node {} ({} in {}); offering unavailable for {}",
            n.name,
            view.catalog.get(n.instance_type).name,
            n.zone,
            UNAVAILABLE_OFFERINGS_TTL
        );
        self.delete(actions, n, DisruptionReason::Interrupted, detail);
        self.disrupting.insert(node);
        // Karpenter's provisioner wakes for a node that is being deleted and finds its pods a
        // place before they are evicted.
        self.trigger_batch(view, actions);
    }
}

/// The `karpenter.sh/capacity-type` label value of a capacity type.
pub(super) fn capacity_label(capacity_type: CapacityType) -> (String, String) {
    (
        LABEL_CAPACITY_TYPE.to_string(),
        capacity_type.label().to_string(),
    )
}
