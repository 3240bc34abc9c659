//! The StatefulSet controller: pods named by ordinal, created from the lowest ordinal up and
//! removed from the highest down (kubernetes/kubernetes `pkg/controller/statefulset`).

use autoscale_sim_engine::SimTime;
use autoscale_sim_kube::{Owner, PodId, PodPhase};

use super::{Departure, World};
use crate::config::{PodManagementPolicy, ReplicaController};

impl World {
    /// Replica count of Deployment or StatefulSet `index` for its HPA: a Deployment's pods, a
    /// StatefulSet's `spec.replicas`.
    pub(super) fn current_replicas(&self, index: usize) -> u32 {
        match self.config.deployments[index].controller {
            ReplicaController::ReplicaSet => self.deployments[index].pods.len() as u32,
            ReplicaController::StatefulSet(_) => self.deployments[index].desired,
        }
    }

    /// Brings StatefulSet `index` towards its desired count. Ordinals at or above the count are
    /// deleted from the highest down. Missing ordinals below it are created from the lowest up,
    /// each under its old name once the old pod is gone. With OrderedReady one pod changes at a
    /// time, so a pod is created only when every lower ordinal is Running, and deleted only when
    /// every higher ordinal is gone.
    pub(super) fn sync_statefulset(&mut self, index: usize, now: SimTime) {
        let ReplicaController::StatefulSet(policy) = self.config.deployments[index].controller
        else {
            return;
        };
        let ordered = policy == PodManagementPolicy::OrderedReady;
        let desired = self.deployments[index].desired;
        let cluster = &self.cluster;
        self.deployments[index]
            .ordinals
            .retain(|_, id| cluster.pod(*id).is_some());

        // Scale down, highest ordinal first.
        let excess: Vec<(u32, PodId)> = self.deployments[index]
            .ordinals
            .range(desired..)
            .map(|(ordinal, id)| (*ordinal, *id))
            .collect();
        let mut waiting = false;
        for (_, id) in excess.into_iter().rev() {
            let terminating = self
                .cluster
                .pod(id)
                .is_some_and(|p| p.phase == PodPhase::Terminating);
            if !terminating {
                self.terminate_pod(id, Departure::ScaledDown, now);
            }
            if ordered {
                waiting = true;
                break;
            }
        }

        // Scale up or replace, lowest ordinal first.
        if !waiting {
            for ordinal in 0..desired {
                match self.deployments[index].ordinals.get(&ordinal).copied() {
                    Some(id) => {
                        let running = self
                            .cluster
                            .pod(id)
                            .is_some_and(|p| p.phase == PodPhase::Running);
                        if ordered && !running {
                            break;
                        }
                    }
                    None => {
                        let owner = Owner::StatefulSet {
                            set: index as u32,
                            ordinal,
                        };
                        let spec = self.config.deployments[index].spec.clone();
                        let id = self.cluster.create_pod(owner, spec, now);
                        self.deployments[index].ordinals.insert(ordinal, id);
                        if ordered {
                            break;
                        }
                    }
                }
            }
        }

        let state = &mut self.deployments[index];
        state.pods = state.ordinals.values().copied().collect();
        self.queue_schedule();
    }
}
