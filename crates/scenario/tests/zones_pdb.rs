//! Runs the shipped three-zone scenario under both policies with the run invariants on, and
//! checks that node drains never evicted two pods of the PodDisruptionBudget's service at once.

use std::collections::BTreeMap;
use std::path::PathBuf;

use autoscale_sim_scenario::{Overrides, load};
use autoscale_sim_sim::Simulation;

#[test]
fn drains_respect_the_pdb() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/zones-pdb.yaml");
    let mut scenario = load(&path, &Overrides::default()).unwrap();
    scenario.config.check_invariants = true;
    let simulation = Simulation::new(scenario.config.clone()).unwrap();

    for policy in &scenario.policies {
        let output = simulation.run(policy);

        // Web evictions grouped by the moment they happened: the PDB (maxUnavailable 1) allows one.
        let mut web_evictions: BTreeMap<u64, u32> = BTreeMap::new();
        for decision in output.decisions.iter().filter(|d| d.action == "evict") {
            if decision
                .pod
                .as_deref()
                .is_some_and(|p| p.starts_with("web-"))
            {
                *web_evictions.entry(decision.time_ms).or_insert(0) += 1;
            }
        }
        assert!(
            !web_evictions.is_empty(),
            "{}: no web pod was evicted, so the check proves nothing",
            policy.name()
        );
        for (time_ms, count) in &web_evictions {
            assert_eq!(
                *count,
                1,
                "{}: {count} web pods evicted at {time_ms} ms",
                policy.name()
            );
        }
        assert_eq!(output.report.pods_pending_at_end, 0, "{}", policy.name());
        assert!(
            output.report.pods_succeeded > 0,
            "{}: no Job completed",
            policy.name()
        );
    }
}
