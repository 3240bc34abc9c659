//! Karpenter manifests as users keep them: NodePools and EC2NodeClasses inline under
//! `karpenter`, or in files of several YAML documents (`karpenter.manifests`). An EC2NodeClass
//! counts only through `spec.kubelet` (maxPods, kubeReserved, systemReserved, evictionHard),
//! which sets the allocatable of the nodes of every NodePool that names it in `nodeClassRef`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use autoscale_sim_cloud::{EvictionThreshold, KubeletConfig};
use autoscale_sim_engine::SimDuration;
use autoscale_sim_kube::quantity;
use autoscale_sim_policy::{KarpenterVersion, NodePool, NodePoolUpdate};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Ctx, Result, build_node_pool, location};
use crate::error::ScenarioError;
use crate::schema::{
    EC2_NODE_CLASS_UNMODELLED, EC2NodeClassManifest, KUBELET_UNMODELLED, KarpenterYaml,
    KubeletYaml, NodePoolManifest, Scalar,
};

/// A NodePool built from a manifest, with the EC2NodeClass it names, until every class is known.
struct PendingPool {
    pool: NodePool,
    node_class: Option<String>,
    file: PathBuf,
    location: Option<(u64, u64)>,
    field: String,
}

/// The `kind` of a manifest document, read before the document itself.
#[derive(Deserialize)]
struct KindProbe {
    #[serde(default)]
    kind: Option<String>,
}

/// What the model reads of an EC2NodeClass.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct NodeClass {
    /// Kubelet settings.
    pub kubelet: KubeletConfig,
    /// Whether an `amiSelectorTerms` alias has the version `latest`, so that every AMI
    /// release changes the class's AMIs.
    pub latest_ami: bool,
}

/// The EC2NodeClasses of a Karpenter policy, by name.
pub(super) type NodeClasses = BTreeMap<String, NodeClass>;

/// AMI families that an `amiSelectorTerms` alias may name (karpenter.k8s.aws/v1 EC2NodeClass
/// validation).
const AMI_ALIAS_FAMILIES: [&str; 5] = [
    "al2",
    "al2023",
    "bottlerocket",
    "windows2019",
    "windows2022",
];

/// Builds the NodePools of `k`: the inline ones, then those of each manifest file in order,
/// each with the kubelet settings of the EC2NodeClass it names. Returns the classes too.
pub(super) fn build_node_pools(
    k: &KarpenterYaml,
    ctx: &Ctx<'_>,
    zones: &[String],
    field: &str,
) -> Result<(Vec<NodePool>, NodeClasses)> {
    let mut pools = Vec::new();
    let mut classes = NodeClasses::new();
    for (index, manifest) in k.node_pools.iter().enumerate() {
        let at = format!("{field}.nodePools[{index}]");
        pools.push(pending(manifest, ctx, zones, at)?);
    }
    for (index, manifest) in k.node_classes.iter().enumerate() {
        add_node_class(
            manifest,
            ctx,
            &format!("{field}.nodeClasses[{index}]"),
            &mut classes,
        )?;
    }
    for (index, path) in k.manifests.iter().enumerate() {
        read_manifest_file(
            path,
            ctx,
            zones,
            &format!("{field}.manifests[{index}]"),
            &mut pools,
            &mut classes,
        )?;
    }
    if pools.is_empty() {
        return Err(ScenarioError::at(
            ctx.file,
            None,
            &format!("{field}.nodePools"),
            None,
            "no NodePool is listed",
            "add a NodePool manifest (apiVersion karpenter.sh/v1, kind NodePool) under nodePools or in a file under manifests",
        ));
    }

    // Every NodePool name is unique, and names an EC2NodeClass that exists when any is given.
    let mut built: Vec<NodePool> = Vec::new();
    for mut pending in pools {
        if built.iter().any(|p| p.name == pending.pool.name) {
            return Err(ScenarioError::at(
                &pending.file,
                pending.location,
                &format!("{}.metadata.name", pending.field),
                Some(pending.pool.name.clone()),
                "another NodePool has this name",
                "give each NodePool its own name",
            ));
        }
        resolve_class(&mut pending, &classes)?;
        built.push(pending.pool);
    }
    Ok((built, classes))
}

/// Gives a NodePool the kubelet settings of the EC2NodeClass it names, when the scenario gives
/// any EC2NodeClass; naming one that does not exist is an error.
fn resolve_class(pending: &mut PendingPool, classes: &NodeClasses) -> Result<()> {
    let Some(class) = &pending.node_class else {
        return Ok(());
    };
    if classes.is_empty() {
        return Ok(());
    }
    let node_class = classes.get(class).ok_or_else(|| {
        ScenarioError::at(
            &pending.file,
            pending.location,
            &format!("{}.spec.template.spec.nodeClassRef.name", pending.field),
            Some(class.clone()),
            "no EC2NodeClass has this name",
            format!(
                "name one of the EC2NodeClasses given: {}",
                classes.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    pending.pool.kubelet = node_class.kubelet.clone();
    pending.pool.node_class = Some(class.clone());
    Ok(())
}

/// One change during the run, before the changes are put in time order.
enum Change {
    Pool(Box<NodePool>),
    Class {
        name: String,
        class: NodeClass,
    },
    /// A new AMI, which changes the AMIs of every class that selects an `@latest` alias.
    AmiRelease,
}

/// Builds the NodePool updates of `k` from its `nodePoolUpdates`, `nodeClassUpdates` and
/// `amiReleases` before `run_end`, in time order (at the same time a class change, then an AMI
/// release, then a NodePool change, each in the order listed). An updated NodePool takes its
/// class's settings as of that time. A class change, or an AMI release for a class that
/// follows `@latest`, updates every NodePool that names the class, with one more class
/// revision.
pub(super) fn build_updates(
    k: &KarpenterYaml,
    (pools, version): (&[NodePool], KarpenterVersion),
    classes: &NodeClasses,
    ctx: &Ctx<'_>,
    (zones, run_end): (&[String], SimDuration),
    field: &str,
) -> Result<Vec<NodePoolUpdate>> {
    let mut changes: Vec<(SimDuration, u8, usize, Change)> = Vec::new();
    let (seen, released) = ami_release_times(k, ctx, field, run_end)?;
    if released > 0 && seen.is_empty() {
        ctx.warn(format!(
            "{field}.amiReleases: Karpenter resolves @latest aliases at the start and then every {}, so it sees none of the {released} releases before the end of the run ({run_end}); run for longer than {} to see one",
            SSM_CACHE_TTL + NODE_CLASS_REQUEUE,
            SSM_CACHE_TTL + NODE_CLASS_REQUEUE,
        ));
    }
    for (index, time) in seen.into_iter().enumerate() {
        changes.push((time, 1, index, Change::AmiRelease));
    }
    if k.ami_releases.is_some() && !classes.values().any(|class| class.latest_ami) {
        ctx.warn(format!(
            "{field}.amiReleases: no EC2NodeClass selects an @latest alias in amiSelectorTerms, so the releases drift no node"
        ));
    }
    for (index, update) in k.node_class_updates.iter().enumerate() {
        let at = format!("{field}.nodeClassUpdates[{index}]");
        let time = ctx.duration(&update.at, &format!("{at}.at"))?;
        let name = update.node_class.metadata.name.as_ref();
        warn_after_end(
            ctx,
            &update.at,
            &at,
            ("EC2NodeClass", name),
            (time, run_end),
        );
        let mut one = NodeClasses::new();
        add_node_class(
            &update.node_class,
            ctx,
            &format!("{at}.nodeClass"),
            &mut one,
        )?;
        let (name, class) = one
            .into_iter()
            .next()
            .expect("add_node_class adds one class");
        if !classes.contains_key(&name) {
            let names: Vec<&str> = classes.keys().map(String::as_str).collect();
            return Err(ctx.error(
                update
                    .node_class
                    .metadata
                    .name
                    .as_ref()
                    .expect("add_node_class rejects a class without a name"),
                &format!("{at}.nodeClass.metadata.name"),
                Some(name.clone()),
                "the update names no EC2NodeClass of nodeClasses or manifests",
                if names.is_empty() {
                    "list the EC2NodeClass under nodeClasses first".to_string()
                } else {
                    format!("name one of: {}", names.join(", "))
                },
            ));
        }
        changes.push((time, 0, index, Change::Class { name, class }));
    }
    // The first update of each (NodePool, time), to warn about a second one at that time.
    let mut updated_at: BTreeMap<(String, SimDuration), usize> = BTreeMap::new();
    for (index, update) in k.node_pool_updates.iter().enumerate() {
        let at = format!("{field}.nodePoolUpdates[{index}]");
        let time = ctx.duration(&update.at, &format!("{at}.at"))?;
        let name = update.node_pool.metadata.name.as_ref();
        warn_after_end(ctx, &update.at, &at, ("NodePool", name), (time, run_end));
        if let Some(pool_name) = name
            && let Some(earlier) = updated_at.insert((pool_name.value.clone(), time), index)
        {
            ctx.warn_at(
                &update.at,
                &format!("{at}.at"),
                format!(
                    "{field}.nodePoolUpdates[{earlier}] also updates NodePool {} at {time}; this later entry replaces it",
                    pool_name.value
                ),
            );
        }
        let mut pending = pending(&update.node_pool, ctx, zones, format!("{at}.nodePool"))?;
        super::check_policy_version(
            &pending.pool,
            &update.node_pool,
            version,
            ctx,
            &format!("{at}.nodePool"),
        )?;
        resolve_class(&mut pending, classes)?;
        let pool = pending.pool;
        if !pools.iter().any(|p| p.name == pool.name) {
            let names: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
            let name = update.node_pool.metadata.name.as_ref();
            return Err(ctx.error(
                name.expect("build_node_pool rejects a NodePool without a name"),
                &format!("{at}.nodePool.metadata.name"),
                Some(pool.name.clone()),
                "the update names no NodePool of nodePools",
                format!("name one of: {}", names.join(", ")),
            ));
        }
        changes.push((time, 2, index, Change::Pool(Box::new(pool))));
    }
    changes.sort_by_key(|(time, kind, index, _)| (*time, *kind, *index));

    let mut current: BTreeMap<String, NodePool> =
        pools.iter().map(|p| (p.name.clone(), p.clone())).collect();
    let mut revisions: BTreeMap<String, (NodeClass, u32)> = classes
        .iter()
        .map(|(name, class)| (name.clone(), (class.clone(), 0)))
        .collect();
    let mut updates = Vec::new();
    for (at, _, _, change) in changes {
        match change {
            Change::Pool(pool) => {
                let mut pool = *pool;
                if let Some((class, revision)) =
                    pool.node_class.as_ref().and_then(|c| revisions.get(c))
                {
                    pool.kubelet = class.kubelet.clone();
                    pool.node_class_revision = *revision;
                }
                current.insert(pool.name.clone(), pool.clone());
                updates.push(NodePoolUpdate { at, pool });
            }
            Change::Class { name, class } => {
                revise_class(&name, class, at, &mut revisions, &mut current, &mut updates);
            }
            Change::AmiRelease => {
                let following: Vec<(String, NodeClass)> = revisions
                    .iter()
                    .filter(|(_, (class, _))| class.latest_ami)
                    .map(|(name, (class, _))| (name.clone(), class.clone()))
                    .collect();
                for (name, class) in following {
                    revise_class(&name, class, at, &mut revisions, &mut current, &mut updates);
                }
            }
        }
    }
    Ok(updates)
}

/// Warns that the update of the `kind` named `name` at `field` comes at `time`, at or after
/// `run_end`, so it never applies.
fn warn_after_end(
    ctx: &Ctx<'_>,
    at: &Spanned<String>,
    field: &str,
    (kind, name): (&str, Option<&Spanned<String>>),
    (time, run_end): (SimDuration, SimDuration),
) {
    if time < run_end {
        return;
    }
    let name = name.map_or("", |n| n.value.as_str());
    ctx.warn_at(
        at,
        &format!("{field}.at"),
        format!(
            "the update of {kind} {name} at {time} comes at or after the end of the run ({run_end}), so it never applies"
        ),
    );
}

/// Gives class `name` its next revision, as `class`, and updates every NodePool that names it
/// at `at`.
fn revise_class(
    name: &str,
    class: NodeClass,
    at: SimDuration,
    revisions: &mut BTreeMap<String, (NodeClass, u32)>,
    current: &mut BTreeMap<String, NodePool>,
    updates: &mut Vec<NodePoolUpdate>,
) {
    let revision = revisions.get(name).map_or(1, |(_, r)| r + 1);
    for pool in current.values_mut() {
        if pool.node_class.as_deref() == Some(name) {
            pool.kubelet = class.kubelet.clone();
            pool.node_class_revision = revision;
            updates.push(NodePoolUpdate {
                at,
                pool: pool.clone(),
            });
        }
    }
    revisions.insert(name.to_string(), (class, revision));
}

/// How long Karpenter keeps the AMI id it resolved for an EKS-optimized alias:
/// aws/karpenter-provider-aws v1.14 `pkg/cache/cache.go`, `SSMCacheTTL`, which
/// `ssm.Parameter.GetCacheDuration` applies to every parameter but custom ones.
const SSM_CACHE_TTL: SimDuration = SimDuration::from_hours(24);

/// How often the EC2NodeClass status controller resolves the class's AMIs: its subnet
/// reconciler requeues after 1 minute (v1.14 `pkg/controllers/nodeclass/subnet.go`), and the
/// controller requeues at the shortest of its reconcilers' delays.
const NODE_CLASS_REQUEUE: SimDuration = SimDuration::from_mins(1);

/// Returns when Karpenter sees an AMI released at `release`: at its first resolution of the
/// alias from then on. It resolves the alias at t = 0, and again at the first status
/// reconcile after the cached id expires, so every 24 h 1 min.
///
/// NOTE: this assumes Karpenter started, with an empty cache, when the run started; a real
/// controller's phase is unknown, and reconcile times drift by the time each reconcile takes.
fn ami_seen_at(release: SimDuration) -> SimDuration {
    let period = SSM_CACHE_TTL + NODE_CLASS_REQUEUE;
    let refreshes = release.as_millis().div_ceil(period.as_millis());
    SimDuration::from_millis(refreshes * period.as_millis())
}

/// Lists the times at which Karpenter sees the AMI releases of `k` before `run_end` (one entry
/// per alias resolution that finds one or more new releases), and counts the releases before
/// `run_end`.
fn ami_release_times(
    k: &KarpenterYaml,
    ctx: &Ctx<'_>,
    field: &str,
    run_end: SimDuration,
) -> Result<(Vec<SimDuration>, usize)> {
    let Some(releases) = &k.ami_releases else {
        return Ok((Vec::new(), 0));
    };
    let at = format!("{field}.amiReleases");
    let every = ctx.duration(&releases.every, &format!("{at}.every"))?;
    if every == SimDuration::ZERO {
        return Err(ctx.error(
            &releases.every,
            &format!("{at}.every"),
            Some(releases.every.value.clone()),
            "AMI releases need time between them",
            "write a positive duration such as 14d",
        ));
    }
    let first = match &releases.first {
        Some(first) => ctx.duration(first, &format!("{at}.first"))?,
        None => every,
    };
    let mut times: Vec<SimDuration> = Vec::new();
    let mut released = 0;
    let mut release = first;
    while release < run_end {
        released += 1;
        let seen = ami_seen_at(release);
        // A release at t = 0 is the AMI that the first resolution finds, so no change.
        if seen > SimDuration::ZERO && seen < run_end && times.last() != Some(&seen) {
            times.push(seen);
        }
        release = release + every;
    }
    Ok((times, released))
}

fn pending(
    manifest: &NodePoolManifest,
    ctx: &Ctx<'_>,
    zones: &[String],
    field: String,
) -> Result<PendingPool> {
    let pool = build_node_pool(manifest, ctx, zones, &field)?;
    Ok(PendingPool {
        pool,
        node_class: manifest
            .spec
            .template
            .spec
            .node_class_ref
            .as_ref()
            .and_then(|r| r.name.clone()),
        file: ctx.file.to_path_buf(),
        location: location(&manifest.kind),
        field,
    })
}

/// Checks an EC2NodeClass manifest and records its kubelet settings under its name.
fn add_node_class(
    manifest: &EC2NodeClassManifest,
    ctx: &Ctx<'_>,
    field: &str,
    classes: &mut NodeClasses,
) -> Result<()> {
    super::check_manifest_type(
        ctx,
        field,
        (&manifest.api_version, "karpenter.k8s.aws/v1"),
        (&manifest.kind, "EC2NodeClass"),
    )?;
    let name = manifest.metadata.name.as_ref().ok_or_else(|| {
        ctx.error(
            &manifest.kind,
            &format!("{field}.metadata.name"),
            None,
            "the EC2NodeClass has no name",
            "write metadata: {name: default}",
        )
    })?;
    if classes.contains_key(&name.value) {
        return Err(ctx.error(
            name,
            &format!("{field}.metadata.name"),
            Some(name.value.clone()),
            "another EC2NodeClass has this name",
            "give each EC2NodeClass its own name",
        ));
    }

    let spec = &manifest.spec;
    let mut unmodelled: Vec<String> = Vec::new();
    for key in spec.other.keys() {
        if !EC2_NODE_CLASS_UNMODELLED.contains(&key.as_str()) {
            return Err(ctx.error(
                &manifest.kind,
                &format!("{field}.spec.{key}"),
                None,
                "unknown EC2NodeClass field",
                format!(
                    "remove it, or fix its name; the EC2NodeClass spec fields are kubelet, {}",
                    EC2_NODE_CLASS_UNMODELLED.join(", ")
                ),
            ));
        }
        unmodelled.push(key.clone());
    }
    let kubelet = match &spec.kubelet {
        Some(kubelet) => {
            for key in kubelet.other.keys() {
                if !KUBELET_UNMODELLED.contains(&key.as_str()) {
                    return Err(ctx.error(
                        &manifest.kind,
                        &format!("{field}.spec.kubelet.{key}"),
                        None,
                        "unknown kubelet field",
                        format!(
                            "remove it, or fix its name; the kubelet fields are maxPods, kubeReserved, systemReserved, evictionHard, {}",
                            KUBELET_UNMODELLED.join(", ")
                        ),
                    ));
                }
                unmodelled.push(format!("kubelet.{key}"));
            }
            build_kubelet(
                kubelet,
                ctx,
                &format!("{field}.spec.kubelet"),
                &mut unmodelled,
            )?
        }
        None => KubeletConfig::default(),
    };
    if !unmodelled.is_empty() {
        ctx.warn(format!(
            "EC2NodeClass {}: {} accepted but not modelled",
            name.value,
            unmodelled.join(", ")
        ));
    }
    let mut latest_ami = false;
    for (index, term) in spec.ami_selector_terms.iter().enumerate() {
        let Some(alias) = &term.alias else {
            continue;
        };
        let (family, version) = alias.value.split_once('@').unwrap_or((&alias.value, ""));
        if !AMI_ALIAS_FAMILIES.contains(&family) || version.is_empty() {
            return Err(ctx.error(
                alias,
                &format!("{field}.spec.amiSelectorTerms[{index}].alias"),
                Some(alias.value.clone()),
                "invalid AMI alias",
                format!(
                    "write family@version with a family of {} and a version such as latest or v20240807",
                    AMI_ALIAS_FAMILIES.join(", ")
                ),
            ));
        }
        latest_ami |= version == "latest";
    }
    classes.insert(
        name.value.clone(),
        NodeClass {
            kubelet,
            latest_ami,
        },
    );
    Ok(())
}

/// Reads the kubelet settings that set node allocatable.
fn build_kubelet(
    kubelet: &KubeletYaml,
    ctx: &Ctx<'_>,
    field: &str,
    unmodelled: &mut Vec<String>,
) -> Result<KubeletConfig> {
    let mut config = KubeletConfig::default();
    if let Some(max_pods) = &kubelet.max_pods {
        if !(1..=10_000).contains(&max_pods.value) {
            return Err(ctx.error(
                max_pods,
                &format!("{field}.maxPods"),
                Some(max_pods.value.to_string()),
                "maxPods must be from 1 to 10000",
                "write a whole number such as 110",
            ));
        }
        config.max_pods = Some(max_pods.value as u32);
    }
    let reserved = |map: &BTreeMap<String, Spanned<Scalar>>,
                    name: &str,
                    unmodelled: &mut Vec<String>|
     -> Result<(Option<i64>, Option<i64>)> {
        let mut cpu = None;
        let mut memory = None;
        for (key, value) in map {
            let at = format!("{field}.{name}.{key}");
            let bad = |reason: &str| {
                ctx.error(
                    value,
                    &at,
                    Some(value.value.0.clone()),
                    reason.to_string(),
                    "write a quantity such as 100m for cpu or 512Mi for memory",
                )
            };
            match key.as_str() {
                "cpu" => {
                    cpu = Some(
                        quantity::parse_cpu_millis(&value.value.0).map_err(|e| bad(e.reason))?,
                    )
                }
                "memory" => {
                    memory = Some(quantity::parse_value(&value.value.0).map_err(|e| bad(e.reason))?)
                }
                other => unmodelled.push(format!("kubelet.{name}.{other}")),
            }
        }
        Ok((cpu, memory))
    };
    (
        config.kube_reserved_cpu_millis,
        config.kube_reserved_memory_bytes,
    ) = reserved(&kubelet.kube_reserved, "kubeReserved", unmodelled)?;
    (
        config.system_reserved_cpu_millis,
        config.system_reserved_memory_bytes,
    ) = reserved(&kubelet.system_reserved, "systemReserved", unmodelled)?;
    for (key, value) in &kubelet.eviction_hard {
        if key != "memory.available" {
            unmodelled.push(format!("kubelet.evictionHard.{key}"));
            continue;
        }
        let text = value.value.0.trim();
        let threshold = match text.strip_suffix('%') {
            Some(percent) => parse_percent_basis(percent).map(EvictionThreshold::Basis),
            None => quantity::parse_value(text)
                .ok()
                .filter(|bytes| *bytes >= 0)
                .map(EvictionThreshold::Bytes),
        };
        config.eviction_hard_memory = Some(threshold.ok_or_else(|| {
            ctx.error(
                value,
                &format!("{field}.evictionHard.memory.available"),
                Some(text.to_string()),
                "not a memory quantity or a percentage from 0% to 100%",
                "write a quantity such as 100Mi, or a percentage such as 5%",
            )
        })?);
    }
    Ok(config)
}

/// Parses a percentage with up to two decimals, such as `5` or `7.5`, into hundredths of a
/// percent; `None` outside 0 to 100.
fn parse_percent_basis(text: &str) -> Option<u32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let basis = whole.parse::<u32>().ok()? * 100 + format!("{fraction:0<2}").parse::<u32>().ok()?;
    (basis <= 10_000).then_some(basis)
}

/// Reads one manifest file: each YAML document is a NodePool or an EC2NodeClass.
fn read_manifest_file(
    path_text: &Spanned<String>,
    ctx: &Ctx<'_>,
    zones: &[String],
    field: &str,
    pools: &mut Vec<PendingPool>,
    classes: &mut NodeClasses,
) -> Result<()> {
    let path = ctx.path(&path_text.value);
    let text = read_text(&path).map_err(|message| {
        ctx.error(
            path_text,
            field,
            Some(path_text.value.clone()),
            message,
            "give the path of a YAML file of NodePool and EC2NodeClass manifests, relative to the scenario",
        )
    })?;
    let file_ctx = Ctx {
        file: &path,
        source: &text,
        dir: ctx.dir.clone(),
        warnings: Default::default(),
    };
    for (index, document) in split_documents(&text).into_iter().enumerate() {
        let at = format!("documents[{index}]");
        let probe: KindProbe = serde_saphyr::from_str(&document)
            .map_err(|e| crate::parse_error(&e, &document, &path))?;
        match probe.kind.as_deref() {
            Some("NodePool") => {
                let manifest: NodePoolManifest = serde_saphyr::from_str(&document)
                    .map_err(|e| crate::parse_error(&e, &document, &path))?;
                pools.push(pending(&manifest, &file_ctx, zones, at)?);
            }
            Some("EC2NodeClass") => {
                let manifest: EC2NodeClassManifest = serde_saphyr::from_str(&document)
                    .map_err(|e| crate::parse_error(&e, &document, &path))?;
                add_node_class(&manifest, &file_ctx, &at, classes)?;
            }
            other => {
                return Err(ScenarioError::at(
                    &path,
                    None,
                    &format!("{at}.kind"),
                    other.map(str::to_string),
                    "the document is neither a NodePool nor an EC2NodeClass",
                    "keep only NodePool (karpenter.sh/v1) and EC2NodeClass (karpenter.k8s.aws/v1) manifests in the file",
                ));
            }
        }
    }
    for warning in file_ctx.warnings.take() {
        ctx.forward_warning(warning);
    }
    Ok(())
}

/// Reads a UTF-8 text file of at most [`crate::MAX_SCENARIO_BYTES`].
fn read_text(path: &Path) -> std::result::Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if !metadata.is_file() {
        return Err("this is not a file".to_string());
    }
    if metadata.len() > crate::MAX_SCENARIO_BYTES {
        return Err(format!(
            "the file is {} bytes; manifest files are limited to {} bytes",
            metadata.len(),
            crate::MAX_SCENARIO_BYTES
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
}

/// Splits YAML text at `---` lines into its documents. Each document keeps its place in the
/// file (it is preceded by as many empty lines as came before it), so parser errors give the
/// file's own line numbers. Documents with nothing but blank lines and comments are dropped.
fn split_documents(text: &str) -> Vec<String> {
    let mut documents = Vec::new();
    let mut current = String::new();
    let mut has_content = false;
    for (index, line) in text.lines().enumerate() {
        if line == "---" || line.starts_with("--- ") || line.starts_with("---\t") {
            if has_content {
                documents.push(std::mem::take(&mut current));
            }
            // Lines 0 to `index` come before the next document.
            current = "\n".repeat(index + 1);
            has_content = false;
            continue;
        }
        let trimmed = line.trim();
        has_content |= !trimmed.is_empty() && !trimmed.starts_with('#');
        current.push_str(line);
        current.push('\n');
    }
    if has_content {
        documents.push(current);
    }
    documents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_line_numbers() {
        let text = "# header\n---\nkind: NodePool\n---\n\n---\nkind: EC2NodeClass\nspec: {}\n";
        let documents = split_documents(text);

        assert_eq!(documents.len(), 2);
        assert_eq!(documents[0], "\n\nkind: NodePool\n");
        assert_eq!(documents[1], "\n\n\n\n\n\nkind: EC2NodeClass\nspec: {}\n");
    }

    #[test]
    fn percent_basis() {
        assert_eq!(parse_percent_basis("5"), Some(500));
        assert_eq!(parse_percent_basis("7.5"), Some(750));
        assert_eq!(parse_percent_basis("100"), Some(10_000));
        assert_eq!(parse_percent_basis("101"), None);
        assert_eq!(parse_percent_basis("1.234"), None);
        assert_eq!(parse_percent_basis("-1"), None);
    }
}
