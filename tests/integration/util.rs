//! Helpers shared by every module of the integration tests: the one
//! `queuesim` command builder, the paths of bundled scenarios and fixtures,
//! the scenario loaders, the simulation runner, and the comparisons of
//! simulated estimates against exact values.
//!
//! Every call into the library that the modules share goes through here,
//! so that a renamed library function is adapted in one place.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use statrs::distribution::{ContinuousCDF, StudentsT};

use queuesim::analytic::QueueMetrics;
use queuesim::engine::{self, ReplicationResult};
use queuesim::model::Model;
use queuesim::results::{self, NodeRow, RunResult};
use queuesim::scenario;
use queuesim::stats::Estimate;

/// Path of the `queuesim` binary that Cargo built for these tests.
pub fn queuesim_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("queuesim")
}

/// The `queuesim` command, ready for arguments.
pub fn queuesim() -> Command {
    Command::new(queuesim_path())
}

/// The `queuesim` command, run in the folder `cwd`.
pub fn queuesim_in(cwd: &Path) -> Command {
    let mut command = queuesim();
    command.current_dir(cwd);
    command
}

/// Standard output of a finished command, as text.
pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error of a finished command, as text.
pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Path of a file under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The tiny fixed-seed scenario of the report and safety tests.
pub fn tiny_scenario() -> PathBuf {
    fixture("report_tiny.toml")
}

/// Text of an M/M/1 scenario (service mean 1 s) with the `[simulation]`
/// lines `simulation`, producer rate `rate`, and extra lines for the queue
/// table (`queue`) and its consumers (`consumers`).
pub fn mm1_text(simulation: &str, rate: &str, queue: &str, consumers: &str) -> String {
    format!(
        "[simulation]\n{simulation}\n[[producers]]\nname = \"p\"\nto = \"q\"\nrate = {rate}\n\
         [[queues]]\nname = \"q\"\n{queue}\n[queues.consumers]\n{consumers}\n\
         service = {{ dist = \"exponential\", mean = 1.0 }}\n"
    )
}

/// Path of a bundled example scenario.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Loads a scenario with overrides, or fails the test with the error.
pub fn load(path: &Path, overrides: &[&str]) -> Model {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::load(path, &overrides).unwrap_or_else(|e| panic!("{e}"))
}

/// Builds a model from scenario text written in a test, with `--set` overrides.
pub fn inline(text: &str, overrides: &[&str]) -> Model {
    inline_at(text, Path::new("inline.toml"), overrides)
}

/// [`inline`], as if the text were the file `path` (relative paths in the
/// scenario, such as traces, are read beside it).
pub fn inline_at(text: &str, path: &Path, overrides: &[&str]) -> Model {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::from_str(text, path, &overrides)
        .unwrap_or_else(|e| panic!("scenario rejected: {e}\n{text}"))
}

/// Builds a model from scenario text, or returns the error message.
pub fn try_inline(text: &str) -> Result<Model, String> {
    scenario::from_str(text, Path::new("inline.toml"), &[]).map_err(|e| e.to_string())
}

/// Simulates a model, checks conservation in every replication and
/// returns the replications and their summary.
pub fn simulate(model: &Model) -> (Vec<ReplicationResult>, RunResult) {
    let reps = engine::run(model);
    for r in &reps {
        assert!(
            r.conserves(),
            "conservation broken in replication {}: produced {} != delivered {} + lost {} + in flight {}",
            r.replication,
            r.produced,
            r.delivered,
            r.lost,
            r.in_flight
        );
    }
    let result = results::summarize(model, &reps);
    (reps, result)
}

/// Number of replications of `model`, the sample size behind each of its
/// estimates (their Student-t intervals have one degree of freedom fewer).
pub fn replications(model: &Model) -> u64 {
    u64::from(model.simulation.replications)
}

/// Relative error allowed between two evaluations of one closed form by
/// different sequences of floating-point operations: each operation
/// rounds by at most 2⁻⁵³ ≈ 1.1e-16, so even a thousand of them in a row
/// stay below 1.1e-13; 1e-12 leaves a factor 10.
pub const ROUNDING: f64 = 1e-12;

/// Relative error allowed on a value obtained by solving a linear system
/// (traffic equations, the balance equations of a chain): a backward-stable
/// solve errs by about κ·2⁻⁵³ for a condition number κ, so 1e-9 holds for
/// κ up to about 10⁶, far above that of these small, well-posed systems.
pub const LINEAR_SOLVE: f64 = 1e-9;

/// Asserts that `actual` is within `relative` of `expected` (of the larger
/// magnitude of the two), or that both are NaN.
#[track_caller]
pub fn assert_close(what: &str, actual: f64, expected: f64, relative: f64) {
    let scale = actual.abs().max(expected.abs());
    assert!(
        (actual - expected).abs() <= relative * scale || (actual.is_nan() && expected.is_nan()),
        "{what}: {actual} vs {expected} (relative tolerance {relative:e})"
    );
}

/// Length of the measured window of each replication of `model`, seconds.
pub fn measured_s(model: &Model) -> f64 {
    model.simulation.duration_s - model.simulation.warmup_s
}

/// Probability that one test of simulated values against exact ones fails
/// although every value is right: the family-wise error rate, split among
/// the comparisons of the test by [`Agreement`].
pub const FAMILY_ERROR: f64 = 0.05;

/// Relative resolution of a quantile read off the latency histogram
/// (`src/stats/histogram.rs`): each power of two `[2^k, 2^(k+1))` is cut
/// into 1024 equal buckets and a quantile is reported as the middle of its
/// bucket, so it lies within half a bucket, `2^k / 2048`, of the exact
/// quantile, itself at least `2^k`: within 1/2048 of it.
pub const QUANTILE_RESOLUTION: f64 = 1.0 / 2048.0;

/// How much wider than a 95% Student-t interval with `df` degrees of
/// freedom an interval must be for `comparisons` of them to hold all at
/// once with probability `1 - FAMILY_ERROR` (Bonferroni: each at level
/// `FAMILY_ERROR / comparisons`; no independence needed). 1 for one
/// comparison.
pub fn bonferroni_widening(comparisons: usize, df: u64) -> f64 {
    let t = StudentsT::new(0.0, 1.0, df as f64).expect("at least one degree of freedom");
    let per_comparison = FAMILY_ERROR / comparisons.max(1) as f64;
    t.inverse_cdf(1.0 - per_comparison / 2.0) / t.inverse_cdf(0.975)
}

/// One comparison of an [`Agreement`].
#[derive(Debug)]
struct Check {
    what: String,
    simulated: f64,
    /// Half-width of the 95% interval of `simulated`.
    half_width: f64,
    exact: f64,
    /// Error allowed whatever the number of replications (histogram
    /// resolution), added to the widened half-width.
    resolution: f64,
}

/// The comparisons of one test between simulated estimates and exact
/// values, asserted together by [`Agreement::assert`] at a family-wise
/// error of [`FAMILY_ERROR`]: each 95% half-width is widened by
/// [`bonferroni_widening`] for the number of comparisons. Nothing else
/// widens them: no slack, so a bias of the size of the interval fails.
///
/// Dropping an agreement without asserting it fails the test.
#[must_use = "call .assert()"]
#[derive(Debug)]
pub struct Agreement {
    replications: u64,
    checks: Vec<Check>,
    asserted: bool,
}

impl Agreement {
    /// Comparisons of estimates over the replications of `model`.
    pub fn new(model: &Model) -> Self {
        Self::over(replications(model))
    }

    /// Comparisons of estimates over `replications` values each.
    pub fn over(replications: u64) -> Self {
        assert!(replications >= 2, "an interval needs two replications");
        Self {
            replications,
            checks: Vec::new(),
            asserted: false,
        }
    }

    fn push(&mut self, what: &str, simulated: Estimate, exact: f64, resolution: f64) {
        self.checks.push(Check {
            what: what.to_owned(),
            simulated: simulated.mean,
            half_width: simulated.ci95,
            exact,
            resolution,
        });
    }

    /// A mean (or a proportion, a rate, a time average) against its exact value.
    pub fn mean(&mut self, what: &str, simulated: Estimate, exact: f64) -> &mut Self {
        self.push(what, simulated, exact, 0.0);
        self
    }

    /// A mean whose replications may not show all of its spread (heavy
    /// tails, rarely sampled): its half-width is the larger of its 95%
    /// interval and the 95% half-width, with the same degrees of freedom,
    /// of a known lower bound `sd` on its standard deviation.
    pub fn mean_with_sd_at_least(
        &mut self,
        what: &str,
        simulated: Estimate,
        exact: f64,
        sd: f64,
    ) -> &mut Self {
        let df = self.replications - 1;
        let t = StudentsT::new(0.0, 1.0, df as f64).expect("at least one degree of freedom");
        let floor = t.inverse_cdf(0.975) * sd;
        let widened = Estimate {
            ci95: simulated.ci95.max(floor),
            ..simulated
        };
        self.push(what, widened, exact, 0.0);
        self
    }

    /// A quantile read off the latency histogram against its exact value:
    /// its interval plus [`QUANTILE_RESOLUTION`].
    pub fn quantile(&mut self, what: &str, simulated: Estimate, exact: f64) -> &mut Self {
        self.push(what, simulated, exact, QUANTILE_RESOLUTION * exact.abs());
        self
    }

    /// A queue's mean sojourn and utilization against a closed form.
    pub fn node(&mut self, node: &NodeRow, theory: &QueueMetrics) -> &mut Self {
        self.mean(
            &format!("{} sojourn", node.node),
            node.mean_sojourn,
            theory.mean_sojourn_s,
        );
        self.mean(
            &format!("{} utilization", node.node),
            node.utilization,
            theory.utilization,
        )
    }

    /// Two independent estimates of the same value: their difference
    /// against 0, its half-width `√(a² + b²)` of theirs (each taken with
    /// the degrees of freedom of one of them, fewer than Welch's, so the
    /// widening errs on the wide side).
    pub fn same(&mut self, what: &str, a: Estimate, b: Estimate) -> &mut Self {
        let difference = Estimate {
            mean: a.mean - b.mean,
            ci95: a.ci95.hypot(b.ci95),
        };
        self.push(what, difference, 0.0, 0.0);
        self
    }

    /// The sum of estimates against its exact value. The half-width of the
    /// sum is taken as the sum of the half-widths: the standard deviation
    /// of a sum is at most the sum of theirs whatever their correlation.
    pub fn sum(&mut self, what: &str, terms: &[Estimate], exact: f64) -> &mut Self {
        let sum = Estimate {
            mean: terms.iter().map(|e| e.mean).sum(),
            ci95: terms.iter().map(|e| e.ci95).sum(),
        };
        self.push(what, sum, exact, 0.0);
        self
    }

    /// Asserts every comparison, naming each one that fails.
    #[track_caller]
    pub fn assert(mut self) {
        self.asserted = true;
        let widen = bonferroni_widening(self.checks.len(), self.replications - 1);
        let mut failures = Vec::new();
        for c in &self.checks {
            let allowed = widen * c.half_width + c.resolution;
            let error = (c.simulated - c.exact).abs();
            let line = format!(
                "{}: simulated {} ± {} vs exact {}: off by {error:.3e}, allowed {allowed:.3e} ({:.2} of it)",
                c.what,
                c.simulated,
                c.half_width,
                c.exact,
                error / allowed
            );
            eprintln!("{line}");
            // A NaN estimate or interval fails too.
            if error.is_nan() || allowed.is_nan() || error > allowed {
                failures.push(line);
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} comparisons fail (95% half-widths × {widen:.3}, {} replications):\n{}",
            failures.len(),
            self.checks.len(),
            self.replications,
            failures.join("\n")
        );
    }
}

impl Drop for Agreement {
    fn drop(&mut self) {
        if !self.asserted && !std::thread::panicking() {
            panic!(
                "an Agreement of {} checks was never asserted",
                self.checks.len()
            );
        }
    }
}
