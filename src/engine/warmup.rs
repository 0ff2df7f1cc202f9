//! Automatic warm-up: when a scenario leaves `warmup` out, pilot
//! replications without warm-up show when the end-to-end latency settles.
//!
//! Each pilot replication's latency-by-delivery-time series goes through
//! MSER-5 ([`crate::stats::warmup`]); the **largest** truncation over the
//! pilots becomes the warm-up of the real run. The maximum, not the mean,
//! because the measured window keeps its length (`duration`) whatever the
//! warm-up: a longer warm-up costs only simulation time, never precision,
//! while a short one leaves bias. Pilots use replication numbers no real
//! run uses (counting down from `u32::MAX`), so their random streams are
//! independent of the measured replications.

use super::{ReplicationResult, run, run_replications};
use crate::model::Model;
use crate::stats::warmup::mser5;

/// Pilot replications run to choose a warm-up (fewer if the model has fewer).
pub const PILOT_REPLICATIONS: u32 = 5;

/// The warm-up chosen for a model and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmupChoice {
    /// Seconds discarded before measuring.
    pub warmup_s: f64,
    /// Pilot replications run.
    pub pilots: u32,
    /// Whether MSER-5 found enough deliveries; when not, `warmup_s` is the
    /// scenario's fixed fallback (10 % of the duration).
    pub detected: bool,
    /// Whether some pilot was still drifting at the middle of its run: the
    /// run may be too short to reach steady state.
    pub at_limit: bool,
}

/// Chooses the warm-up of `model` by MSER-5 on pilot replications of
/// `model.simulation.duration_s` seconds without warm-up.
pub fn choose_warmup(model: &Model) -> WarmupChoice {
    let pilots = model.simulation.replications.min(PILOT_REPLICATIONS);
    let mut pilot = model.clone();
    pilot.simulation.warmup_s = 0.0;
    let slice_s = model.simulation.duration_s / super::LATENCY_BUCKETS as f64;
    let choices: Vec<_> = run_replications(&pilot, u32::MAX - pilots..u32::MAX)
        .iter()
        .map(|r| mser5(&r.latency_by_time, slice_s))
        .collect();
    if choices.iter().any(Option::is_none) {
        return WarmupChoice {
            warmup_s: model.simulation.warmup_s,
            pilots,
            detected: false,
            at_limit: false,
        };
    }
    let choices: Vec<_> = choices.into_iter().flatten().collect();
    WarmupChoice {
        warmup_s: choices.iter().map(|c| c.warmup_s).fold(0.0, f64::max),
        pilots,
        detected: true,
        at_limit: choices.iter().any(|c| c.at_limit),
    }
}

/// When `model` asks for an automatic warm-up, the model to run instead:
/// a copy with the chosen warm-up fixed, and the choice. `None` when the
/// scenario sets its warm-up.
pub fn auto_warmup(model: &Model) -> Option<(Model, WarmupChoice)> {
    if !model.simulation.warmup_auto {
        return None;
    }
    let choice = choose_warmup(model);
    let mut chosen = model.clone();
    chosen.simulation.warmup_s = choice.warmup_s;
    chosen.simulation.warmup_auto = false;
    Some((chosen, choice))
}

/// Runs every replication of `model` as [`run`] does, after choosing the
/// warm-up by MSER-5 when the scenario left it out. Returns the warm-up
/// used, seconds, and the replications in order.
pub fn run_with_auto_warmup(model: &Model) -> (f64, Vec<ReplicationResult>) {
    match auto_warmup(model) {
        Some((chosen, choice)) => (choice.warmup_s, run(&chosen)),
        None => (model.simulation.warmup_s, run(model)),
    }
}
