//! The consortium workload and checks on madsim nodes (`SimConfig::consortium_share`): the
//! run-wide state a [`ConsortiumRun`] holds, the workload's steps on the nodes' drivers, the
//! event hook that keeps every node's [`MemberView`] and feeds the `replica-root` checker, and
//! the end-of-run checks (time machine, replica errors, the canary on the wire, on every
//! simulated disk and in non-members' memory).

use crate::canary::{CANARY, CanaryScan, contains};
use crate::checker::{Checker, FinalTx, Violation};
use crate::config::{FEE, SimConfig, stream};
use crate::consortium_replicas::{ConsortiumReport, EndView, MemberView, check_time_machine};
use crate::consortium_workload::{self, ConsortiumDraw, ConsortiumPlan, Step};
use crate::disk::SimDisk;
use crate::selftest::SelfTestBug;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use vein_node::consortium_db::KeyRing;
use vein_node::core::consortium::ConsortiumTx;
use vein_node::core::consortium::keys::MemberSecret;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::node::Node;
use vein_node::core::transaction::TxKind;
use vein_node::driver::DriverHandle;

/// How long the workload waits for its creation to show in the creator's ledger before it
/// signs a new one (the first may have been lost with a crashed node or ignored).
const CREATE_RETRY_MS: u64 = 30_000;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A plan's creation as the workload knows it.
#[derive(Clone, Copy, Debug, Default)]
struct Creation {
    id: Option<Hash>,
    signed_at_ms: u64,
    /// The creator's ledger holds the consortium: the workload moves on to other steps.
    seen: bool,
}

/// What one creation attempt found.
enum Created {
    Seen,
    Pending,
    Signed(Hash),
    Failed,
}

/// The consortium state of one run, shared by the workload, every node's event hook and the
/// end-of-run checks.
pub struct ConsortiumRun {
    seed: u64,
    plans: Vec<ConsortiumPlan>,
    creations: Mutex<Vec<Creation>>,
    /// Every consortium id the workload signed a creation of, with its plan.
    created: Mutex<BTreeMap<Hash, u64>>,
    accounts: Vec<AccountId>,
    secrets: Vec<MemberSecret>,
    /// Node i's view of its current start.
    views: Vec<Mutex<Option<MemberView>>>,
    /// The canary scan every node's network endpoint feeds with the envelopes it sends.
    pub canary: Arc<CanaryScan>,
    self_test: Option<SelfTestBug>,
    submitted: AtomicU64,
    skipped: AtomicU64,
}

impl ConsortiumRun {
    /// The run's consortium state, if its configuration has a consortium share and enough
    /// funded nodes for a plan.
    pub fn new(config: &SimConfig, keys: &[Keypair]) -> Option<Arc<ConsortiumRun>> {
        if config.consortium_share <= 0.0 {
            return None;
        }
        let plans = consortium_workload::plans(config.seed, keys, config.funded);
        if plans.is_empty() {
            return None;
        }
        Some(Arc::new(ConsortiumRun {
            seed: config.seed,
            creations: Mutex::new(vec![Creation::default(); plans.len()]),
            plans,
            created: Mutex::new(BTreeMap::new()),
            accounts: keys.iter().map(Keypair::account).collect(),
            secrets: keys.iter().map(consortium_workload::member_secret).collect(),
            views: keys.iter().map(|_| Mutex::new(None)).collect(),
            canary: Arc::new(CanaryScan::default()),
            self_test: config.self_test,
            submitted: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }))
    }

    /// Node `node` starts (again): its replicas live in memory, so it begins a fresh view and
    /// replays its log into it.
    pub fn start(&self, node: usize) {
        let skip = self.self_test.map_or(0, |bug| bug.replica_writes_skipped(node));
        let view = MemberView::new(self.accounts[node], self.secrets[node].clone(), skip);
        *lock(&self.views[node]) = Some(view);
    }

    /// One event of node `node`: to its view, then, at a final height, its replica roots to
    /// the checker.
    pub fn on_event(&self, node: usize, at_ms: u64, event: &Event, checker: &Mutex<Checker>) {
        let mut view = lock(&self.views[node]);
        let Some(view) = view.as_mut() else { return };
        view.on_event(event);
        if let Event::CheckpointFinal { height, .. } = event {
            let roots = view.final_roots(*height);
            let mut checker = lock(checker);
            for (consortium, root) in roots {
                checker.on_replica_root(node, at_ms, consortium, *height, root);
            }
        }
    }

    /// One consortium step of the workload: the plan's creation until its creator's ledger
    /// holds it, then a party's step. `handle(node)` is the node's driver while it runs.
    pub async fn step(
        &self,
        draw: ConsortiumDraw,
        now_ms: u64,
        handle: impl Fn(usize) -> Option<DriverHandle>,
    ) {
        let index = (draw.plan % self.plans.len() as u64) as usize;
        let plan = self.plans[index].clone();
        let creation = lock(&self.creations)[index];
        if !creation.seen {
            self.create(index, plan, creation, now_ms, handle).await;
            return;
        }
        let Some(id) = creation.id else { return };
        let actor = plan.members[(draw.actor % plan.members.len() as u64) as usize].node;
        let Some(handle) = handle(actor) else {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let (seed, unsealed) = (self.seed, self.self_test == Some(SelfTestBug::UnsealedActions));
        let submit = move |node: &mut Node| {
            let consortium = node.chain().ledger().consortia().get(&id)?.clone();
            let step = consortium_workload::step(seed, &plan, node, &consortium, &draw, unsealed);
            match step.ok()? {
                // Time 0: the node signs at its own clock (`submit` takes the later of the two).
                Step::Submit { kind, .. } => node.submit(0, kind, FEE).ok().map(|unit| unit.id),
                Step::Skip { .. } => None,
            }
        };
        let counter = match handle.operate(submit).await.flatten() {
            Some(_) => &self.submitted,
            None => &self.skipped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    async fn create(
        &self,
        index: usize,
        plan: ConsortiumPlan,
        creation: Creation,
        now_ms: u64,
        handle: impl Fn(usize) -> Option<DriverHandle>,
    ) {
        let Some(handle) = handle(plan.members[0].node) else {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let retry = creation.id.is_none()
            || now_ms.saturating_sub(creation.signed_at_ms) >= CREATE_RETRY_MS;
        let seed = self.seed;
        let attempt = move |node: &mut Node| {
            if let Some(id) = creation.id
                && node.chain().ledger().consortia().get(&id).is_some()
            {
                return Created::Seen;
            }
            if !retry {
                return Created::Pending;
            }
            let nonce = consortium_workload::free_nonce(node);
            let Ok((id, create)) = consortium_workload::create(seed, &plan, nonce) else {
                return Created::Failed;
            };
            let kind = TxKind::Consortium(Box::new(ConsortiumTx::Create(create)));
            let signed = node.build_transaction(nonce, kind, FEE);
            match signed.and_then(|tx| node.accept_transaction(tx, None)) {
                Ok(()) => Created::Signed(id),
                Err(_) => Created::Failed,
            }
        };
        let outcome = handle.operate(attempt).await;
        let mut creations = lock(&self.creations);
        match outcome {
            Some(Created::Seen) => creations[index].seen = true,
            Some(Created::Signed(id)) => {
                creations[index] = Creation { id: Some(id), signed_at_ms: now_ms, seen: false };
                lock(&self.created).insert(id, self.plans[index].index);
                self.submitted.fetch_add(1, Ordering::Relaxed);
            }
            Some(Created::Pending | Created::Failed) | None => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Every epoch's key of consortium `id` up to `epoch`, as the workload made them.
    fn keys(&self, id: &Hash, epoch: u64) -> Option<KeyRing> {
        let index = *lock(&self.created).get(id)?;
        let mut ring = KeyRing::default();
        for at in 0..=epoch {
            ring.merge(KeyRing::with_key(at, consortium_workload::data_key(self.seed, index, at)));
        }
        Some(ring)
    }

    /// The end-of-run checks over the running nodes (`final_heights`: node and final height)
    /// and every node's disk; `root_checks` is the `replica-root` comparisons made.
    pub fn end(
        &self,
        final_heights: &[(usize, u64)],
        disks: &[SimDisk],
        finals: &BTreeMap<Hash, FinalTx>,
        root_checks: u64,
        at_ms: u64,
    ) -> (Vec<Violation>, ConsortiumReport) {
        let guards: Vec<(usize, u64, MutexGuard<'_, Option<MemberView>>)> = final_heights
            .iter()
            .map(|(node, height)| (*node, *height, lock(&self.views[*node])))
            .collect();
        let views: Vec<EndView<'_>> = guards
            .iter()
            .filter_map(|(node, final_height, view)| {
                let view = view.as_ref()?;
                Some(EndView { node: *node, final_height: *final_height, view })
            })
            .collect();
        let keys = |id: &Hash| {
            let epoch = views.iter().find_map(|v| v.view.feed().consortium(id))?.key_epoch;
            self.keys(id, epoch)
        };
        let mut rng = stream(self.seed, "consortium-time-machine", 0);
        let (mut violations, end) = check_time_machine(&views, &keys, finals, &mut rng, at_ms);
        let (leaks, first) = self.canary.leaks();
        if let Some(first) = first {
            violations.push(Violation {
                invariant: "consortium-plaintext",
                at_ms,
                node: first.from,
                other: Some(first.to),
                detail: format!(
                    "{leaks} envelopes held the canary, the first one ({} bytes) sent to node {}",
                    first.bytes, first.to
                ),
            });
        }
        for (node, disk) in disks.iter().enumerate() {
            for (path, bytes) in disk.contents() {
                if contains(&bytes, CANARY.as_bytes()) {
                    violations.push(Violation {
                        invariant: "consortium-plaintext",
                        at_ms,
                        node,
                        other: None,
                        detail: format!("the canary is in {path} ({} bytes)", bytes.len()),
                    });
                }
            }
        }
        let report = ConsortiumReport {
            submitted: self.submitted.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            root_checks,
            envelopes_scanned: self.canary.scanned(),
            end,
        };
        (violations, report)
    }
}
