//! `queuesim plan`: the smallest value of a key that meets every SLO.
//!
//! The values of the varied key are taken in the order given and assumed
//! **monotone**: if a value meets the SLOs, every later value does too (more
//! consumers, more capacity, a faster service). Under that assumption the
//! answer is found by bisection over the values, each probe decided by
//! simulation. Where theory applies ([`super::theory`]), the first probe is
//! the smallest value theory says meets the SLOs, and the second its
//! neighbour, so a correct prediction is confirmed with two simulations.
//!
//! A probe starts with the scenario's replications and doubles them (all
//! replications are kept; new ones continue the numbering, so results stay
//! reproducible) until every SLO is decided, one being missed decides the
//! probe, or the cap is reached. A probe still unclear at the cap counts as
//! not meeting the SLOs, and the outcome says so.

use super::metrics::Samples;
use super::slo::{Decision, Slo};
use super::theory::recognise;
use crate::engine::{run_replications, stop_requested};
use crate::model::Model;
use crate::stats::Estimate;

/// Whether a value meets the SLOs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every SLO is met with 95% confidence.
    Meets,
    /// Some SLO is missed with 95% confidence.
    Misses,
    /// Some SLO is still unclear at the replication cap.
    Undecided,
}

/// One SLO at one value: the estimate, the decision and the theory.
#[derive(Debug, Clone)]
pub struct SloCheck {
    /// The objective.
    pub slo: Slo,
    /// Simulated mean and 95% CI.
    pub estimate: Estimate,
    /// What the interval says.
    pub decision: Decision,
    /// The steady-state value theory predicts, where it applies.
    pub theory: Option<f64>,
}

/// A simulated value of the varied key.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Index of the value in the range.
    pub index: usize,
    /// The value, as given to `--set`.
    pub value: String,
    /// Replications simulated.
    pub replications: u32,
    /// One check per SLO.
    pub checks: Vec<SloCheck>,
    /// The overall verdict.
    pub verdict: Verdict,
}

/// The answer of a plan and its evidence.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Index of the smallest value that meets every SLO, if any does.
    pub answer: Option<usize>,
    /// Index where theory started the search, if theory applied.
    pub theory_start: Option<usize>,
    /// Every probe, in the order simulated.
    pub probes: Vec<Probe>,
}

impl Outcome {
    /// The probe of value `index`, if it was simulated.
    pub fn probe(&self, index: usize) -> Option<&Probe> {
        self.probes.iter().find(|p| p.index == index)
    }
}

/// What to search: one model per value of the varied key.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    /// `(value text, model)` in the order of the range.
    pub candidates: &'a [(String, Model)],
    /// The objectives, all of which must be met.
    pub slos: &'a [Slo],
    /// Most replications a probe may use.
    pub max_replications: u32,
}

impl Search<'_> {
    /// Runs the search and returns the answer with its evidence. Returns
    /// early, with an outcome that means nothing, once a stop was requested
    /// ([`crate::engine::request_stop`]).
    pub fn run(&self) -> Outcome {
        let theory_start = self.theory_start();
        let mut preferred: Vec<usize> = theory_start
            .map(|s| [Some(s), s.checked_sub(1), Some(s + 1)])
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        let (mut lo, mut hi) = (0, self.candidates.len());
        let mut probes = Vec::new();
        while lo < hi && !stop_requested() {
            let index = match preferred.iter().position(|&i| (lo..hi).contains(&i)) {
                Some(p) => preferred.remove(p),
                None => lo + (hi - lo) / 2,
            };
            let probe = self.probe(index);
            if probe.verdict == Verdict::Meets {
                hi = index;
            } else {
                lo = index + 1;
            }
            probes.push(probe);
        }
        Outcome {
            answer: (hi < self.candidates.len()).then_some(hi),
            theory_start,
            probes,
        }
    }

    /// The first value whose theoretical metrics meet every SLO, when
    /// theory covers every SLO at every value.
    fn theory_start(&self) -> Option<usize> {
        let meets: Option<Vec<bool>> = self
            .candidates
            .iter()
            .map(|(_, model)| {
                let theory = recognise(model)?;
                self.slos
                    .iter()
                    .map(|slo| theory.value(&slo.metric).map(|v| slo.holds(v)))
                    .collect::<Option<Vec<bool>>>()
                    .map(|all| all.iter().all(|&m| m))
            })
            .collect();
        meets?.iter().position(|&m| m)
    }

    /// Simulates value `index`, adding replications until the verdict is clear.
    fn probe(&self, index: usize) -> Probe {
        let (value, model) = &self.candidates[index];
        let theory = recognise(model);
        let mut samples = Samples::new(model);
        let mut done = 0;
        let mut next = model
            .simulation
            .replications
            .max(2)
            .min(self.max_replications.max(2));
        loop {
            samples.extend(model, &run_replications(model, done..next));
            done = next;
            let checks: Vec<SloCheck> = self
                .slos
                .iter()
                .map(|slo| {
                    let estimate = samples.estimate(
                        samples
                            .index_of(&slo.metric)
                            .expect("SLO metrics are validated against the model"),
                    );
                    SloCheck {
                        slo: slo.clone(),
                        estimate,
                        decision: slo.decide(estimate),
                        theory: theory.as_ref().and_then(|t| t.value(&slo.metric)),
                    }
                })
                .collect();
            let verdict = verdict(&checks);
            if verdict != Verdict::Undecided || done >= self.max_replications || stop_requested() {
                return Probe {
                    index,
                    value: value.clone(),
                    replications: done,
                    checks,
                    verdict,
                };
            }
            next = done.saturating_mul(2).min(self.max_replications);
        }
    }
}

fn verdict(checks: &[SloCheck]) -> Verdict {
    if checks.iter().any(|c| c.decision == Decision::Missed) {
        Verdict::Misses
    } else if checks.iter().all(|c| c.decision == Decision::Met) {
        Verdict::Meets
    } else {
        Verdict::Undecided
    }
}
