//! `queuesim sweep`: a scenario simulated at every point of a grid of keys.
//!
//! Every point uses the scenario's own seed, so replication `r` of every
//! point draws from the same streams (common random numbers across points:
//! curves are smoother than with independent seeds). Points run in
//! parallel; results are collected in point order, so `sweep.csv` does not
//! depend on the number of threads or on how the work was sharded.
//!
//! The grid itself is only the mapping from a point's index to its keys'
//! values ([`Layout`]). A point's model is built when a worker takes the
//! point and dropped once the point is simulated: what is kept of a point
//! is its records and what the caller asks of its pooled histograms (the
//! quantiles `sweep.csv` reports, or what a shard's histograms file
//! needs). Before anything is simulated, [`prepare`] builds
//! the model at the first point and at every value of every swept key (the
//! other keys at their first values), so that a value the scenario refuses
//! is reported at once, naming the point and the key. A combination of
//! values that is only invalid together is found when its point is built:
//! the sweep then stops and reports it the same way, having written
//! nothing.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::metrics::{estimate_with, metric_names, quantile_source, replication_values};
use super::range::{Axis, grid_len, grid_point};
use super::shard::{Shard, fingerprint, model_digest};
use crate::engine;
use crate::model::Model;
use crate::results::PooledHistograms;
use crate::scenario::{self, ScenarioError};
use crate::table::{Table, number};

/// What a sweep's table is made of: its axes, replications and metrics.
/// Points are numbered by [`grid_point`]: every combination of the axes'
/// values, the first axis varying slowest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// The swept keys and their values, in the order given.
    pub axes: Vec<Axis>,
    /// Replications of every point (those of the first point), except
    /// along [`Self::replications_along`].
    pub replications: u32,
    /// When a swept key changes the number of replications
    /// (`simulation.replications`): its position in [`Self::axes`] and the
    /// replications at each of its values. Each point's model is checked
    /// against it when it is built.
    pub replications_along: Option<(usize, Vec<u32>)>,
    /// Metric names (summary metrics, then `node.metric`), then
    /// [`MAX_LOAD`].
    pub names: Vec<String>,
}

impl Layout {
    /// The swept keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.axes.iter().map(|a| a.key.clone()).collect()
    }

    /// Number of points of the grid.
    pub fn point_count(&self) -> usize {
        usize::try_from(grid_len(&self.axes)).unwrap_or(usize::MAX)
    }

    /// The value of each key at point `point` (`--set` value texts).
    pub fn values(&self, point: usize) -> Vec<String> {
        (grid_point(&self.axes, point).iter().zip(&self.axes))
            .map(|(&i, axis)| axis.values[i].clone())
            .collect()
    }

    /// `key=value, key=value` of point `point`, for messages.
    pub fn describe(&self, point: usize) -> String {
        describe_point(&self.keys(), &self.values(point))
    }

    /// Replications of point `point`.
    pub fn replications_at(&self, point: usize) -> u32 {
        match &self.replications_along {
            Some((axis, replications)) => replications[grid_point(&self.axes, point)[*axis]],
            None => self.replications,
        }
    }

    /// The number of the first work unit of each point, then the total:
    /// units are numbered point by point, replication by replication.
    fn first_units(&self) -> Vec<usize> {
        let mut firsts = Vec::with_capacity(self.point_count() + 1);
        let mut next = 0usize;
        for point in 0..self.point_count() {
            firsts.push(next);
            next += self.replications_at(point) as usize;
        }
        firsts.push(next);
        firsts
    }
}

/// The last value of every record and column of `sweep.csv`: the offered
/// load `ρ` of the point's busiest queue (traffic equations, not
/// simulation; the same in every replication). At 1 or more that queue has
/// no steady state: its backlog grows for the whole run (or, bounded, it
/// loses the excess).
pub const MAX_LOAD: &str = "max_load";

/// The names of a sweep's record values at a point whose model is `model`:
/// its metrics, then [`MAX_LOAD`].
fn sweep_names(model: &Model) -> Vec<String> {
    let mut names = metric_names(model);
    names.push(MAX_LOAD.to_owned());
    names
}

/// The value of [`MAX_LOAD`] for `model`, NaN when undefined.
fn max_load(model: &Model) -> f64 {
    scenario::max_load(model).unwrap_or(f64::NAN)
}

/// Most points a sweep's grid may have.
pub const MAX_POINTS: usize = 100_000;

/// A sweep ready to run: its layout, the model at its first point and how
/// to build the model of any other point.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Axes, replications and metrics.
    pub layout: Layout,
    /// The model at the first point (every key at its first value).
    pub first: Model,
    /// The fingerprint of the work for shards: SHA-256 of the models
    /// [`prepare`] checked (see [`super::shard::fingerprint`]).
    pub fingerprint: String,
    path: PathBuf,
    fixed: Vec<String>,
}

/// The metric values of one replication at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Point index in the grid of [`Layout::axes`].
    pub point: usize,
    /// Replication number.
    pub replication: u32,
    /// One value per metric, in [`Layout::names`] order.
    pub values: Vec<f64>,
}

/// A sweep that cannot be set up or run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario does not validate at some point of the grid.
    #[error("at {point}: {source}")]
    Scenario {
        /// The point, as `key=value` pairs.
        point: String,
        /// Why the scenario is invalid there.
        source: Box<ScenarioError>,
    },
    /// The grid has more points than a sweep may have.
    #[error(
        "the grid of the swept keys has {points} points, more than the {MAX_POINTS} a sweep may have: sweep fewer values or split the sweep"
    )]
    TooManyPoints {
        /// The product of the axes' lengths (saturated).
        points: u128,
    },
    /// Ctrl-C or a termination signal arrived while the sweep's values were
    /// checked.
    #[error("interrupted while checking the sweep's values; nothing was simulated")]
    Interrupted,
    /// A swept key changes the set of metrics (for example a queue's name).
    #[error(
        "at {point}: the swept keys change the queues of the scenario; sweep values, not names"
    )]
    MetricsDiffer {
        /// The point, as `key=value` pairs.
        point: String,
    },
    /// A point's number of replications is not the one its values predict
    /// (several swept keys change it together).
    #[error(
        "at {point}: the swept keys change the number of replications together; sweep simulation.replications along one key only"
    )]
    ReplicationsDiffer {
        /// The point, as `key=value` pairs.
        point: String,
    },
}

/// The model at the grid point whose value indices are `indices`.
fn load_at(
    path: &Path,
    fixed: &[String],
    axes: &[Axis],
    indices: &[usize],
) -> Result<Model, SweepError> {
    let overrides: Vec<String> = (fixed.iter().cloned())
        .chain(
            (axes.iter().zip(indices)).map(|(axis, &i)| format!("{}={}", axis.key, axis.values[i])),
        )
        .collect();
    scenario::load(path, &overrides).map_err(|source| SweepError::Scenario {
        point: describe_indices(axes, indices),
        source: Box::new(source),
    })
}

fn describe_indices(axes: &[Axis], indices: &[usize]) -> String {
    let keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    let values: Vec<String> = (axes.iter().zip(indices))
        .map(|(axis, &i)| axis.values[i].clone())
        .collect();
    describe_point(&keys, &values)
}

/// Checks the sweep of `axes` over the scenario at `path` with the `fixed`
/// overrides applied first, without building its points: the model at the
/// first point and at every other value of every key (the other keys at
/// their first values) is built, in parallel, fingerprinted and dropped.
///
/// # Errors
///
/// [`SweepError`] naming the first of those points (in key order, then
/// value order) where the scenario is invalid, a grid that is too big, or
/// a signal.
pub fn prepare(path: &Path, fixed: &[String], axes: &[Axis]) -> Result<Sweep, SweepError> {
    let points = grid_len(axes);
    if points > MAX_POINTS as u128 {
        return Err(SweepError::TooManyPoints { points });
    }
    let origin = vec![0; axes.len()];
    let first = load_at(path, fixed, axes, &origin)?;
    let names = sweep_names(&first);
    let replications = first.simulation.replications;
    let others: Vec<(usize, usize)> = (axes.iter().enumerate())
        .flat_map(|(a, axis)| (1..axis.values.len()).map(move |i| (a, i)))
        .collect();
    let checked: Vec<Result<([u8; 32], u32), SweepError>> = others
        .par_iter()
        .map(|&(a, i)| {
            if engine::stop_requested() {
                return Err(SweepError::Interrupted);
            }
            let mut indices = origin.clone();
            indices[a] = i;
            let model = load_at(path, fixed, axes, &indices)?;
            if sweep_names(&model) != names {
                let point = describe_indices(axes, &indices);
                return Err(SweepError::MetricsDiffer { point });
            }
            Ok((model_digest(&model), model.simulation.replications))
        })
        .collect();
    let mut digests = vec![model_digest(&first)];
    let mut by_axis: Vec<Vec<u32>> = axes.iter().map(|_| vec![replications]).collect();
    for (&(a, _), result) in others.iter().zip(checked) {
        let (digest, reps) = result?;
        digests.push(digest);
        by_axis[a].push(reps);
    }
    let replications_along =
        (by_axis.into_iter().enumerate()).find(|(_, reps)| reps.iter().any(|&r| r != replications));
    Ok(Sweep {
        layout: Layout {
            axes: axes.to_vec(),
            replications,
            replications_along,
            names,
        },
        fingerprint: fingerprint(digests),
        first,
        path: path.to_owned(),
        fixed: fixed.to_vec(),
    })
}

impl Sweep {
    /// The model at point `point`, checked against the layout.
    ///
    /// # Errors
    ///
    /// [`SweepError`] when the scenario is invalid there, or its metrics or
    /// replications are not those of the layout.
    pub fn model(&self, point: usize) -> Result<Model, SweepError> {
        let indices = grid_point(&self.layout.axes, point);
        let model = load_at(&self.path, &self.fixed, &self.layout.axes, &indices)?;
        let describe = || self.layout.describe(point);
        if sweep_names(&model) != self.layout.names {
            return Err(SweepError::MetricsDiffer { point: describe() });
        }
        if model.simulation.replications != self.layout.replications_at(point) {
            return Err(SweepError::ReplicationsDiffer { point: describe() });
        }
        Ok(model)
    }
}

/// `key=value, key=value`, for messages.
pub fn describe_point(keys: &[String], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The replications of point `point` that `shard` owns, `first_unit`
/// being the number of the point's first work unit.
fn owned(layout: &Layout, shard: Shard, point: usize, first_unit: usize) -> Vec<u32> {
    (0..layout.replications_at(point))
        .filter(|&r| shard.owns(first_unit + r as usize))
        .collect()
}

/// What a sweep (or one shard of it) simulated.
#[derive(Debug, Clone)]
pub struct Outcome<T> {
    /// The records, sorted by point and replication.
    pub records: Vec<Record>,
    /// Per point, what the caller kept of the histograms of its
    /// replications pooled; `None` where the shard runs none of them.
    pub points: Vec<Option<T>>,
}

/// The pooled value of every quantile metric among `names`, in order: all
/// that [`table`] needs of a point's histograms.
pub fn point_quantiles(names: &[String], pooled: &PooledHistograms) -> Vec<f64> {
    (names.iter())
        .filter_map(|name| quantile_source(name))
        .map(|(key, level)| pooled.quantile(&key, level))
        .collect()
}

/// Simulates the units of `sweep` that `shard` owns, points in parallel,
/// building each point's model as a worker takes it. `keep` turns each
/// point's pooled histograms into what is kept of them; `point_done` is
/// called as each point finishes. A signal stops the workers and leaves
/// the outcome partial (the caller checks for it).
///
/// # Errors
///
/// [`SweepError`] for a point where the scenario is invalid (the lowest
/// such point found); the other workers stop at their next point or
/// replication.
pub fn run<T: Send>(
    sweep: &Sweep,
    shard: Shard,
    point_done: &(dyn Fn() + Sync),
    keep: &(dyn Fn(&PooledHistograms) -> T + Sync),
) -> Result<Outcome<T>, SweepError> {
    let layout = &sweep.layout;
    let first_units = layout.first_units();
    let failed = AtomicBool::new(false);
    let failure: Mutex<Option<(usize, SweepError)>> = Mutex::new(None);
    let stopped = || engine::stop_requested() || failed.load(Ordering::Relaxed);
    let per_point: Vec<Option<(Vec<Record>, T)>> = (0..layout.point_count())
        .into_par_iter()
        .map(|point| {
            let replications = owned(layout, shard, point, first_units[point]);
            if replications.is_empty() || stopped() {
                point_done();
                return None;
            }
            let model = match sweep.model(point) {
                Ok(model) => model,
                Err(error) => {
                    failed.store(true, Ordering::Relaxed);
                    let mut first = failure.lock().unwrap_or_else(|e| e.into_inner());
                    if first.as_ref().is_none_or(|(p, _)| point < *p) {
                        *first = Some((point, error));
                    }
                    return None;
                }
            };
            let pooled = Mutex::new(PooledHistograms::for_model(&model));
            let choice = engine::Choice::for_model(&model);
            let load = max_load(&model);
            let records = replications
                .par_iter()
                .filter(|_| !stopped())
                .map(|&replication| {
                    let rep = choice.simulate(replication);
                    pooled
                        .lock()
                        .expect("no replication panicked while adding histograms")
                        .add_replication(&rep);
                    Record {
                        point,
                        replication,
                        values: (replication_values(&model, &rep).into_iter())
                            .chain([load])
                            .collect(),
                    }
                })
                .collect();
            point_done();
            let pooled = pooled
                .into_inner()
                .expect("no replication panicked while adding histograms");
            Some((records, keep(&pooled)))
        })
        .collect();
    if let Some((_, error)) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(error);
    }
    let mut records = Vec::new();
    let points = (per_point.into_iter())
        .map(|done| {
            done.map(|(mine, kept)| {
                records.extend(mine);
                kept
            })
        })
        .collect();
    Ok(Outcome { records, points })
}

/// `sweep.csv`: one row per point with the swept keys' values, the number
/// of replications, and every metric with its 95% CI half-width, as a run
/// of the point reports it (quantiles from `quantiles`, each point's
/// [`point_quantiles`]).
pub fn table(layout: &Layout, records: &[Record], quantiles: &[Vec<f64>]) -> Table {
    let mut header = layout.keys();
    header.push("replications".to_owned());
    for name in &layout.names {
        header.push(name.clone());
        if name != MAX_LOAD {
            header.push(format!("{name}_ci95"));
        }
    }
    let mut sorted: Vec<&Record> = records.iter().collect();
    sorted.sort_by_key(|r| (r.point, r.replication));
    let mut rest = sorted.as_slice();
    let rows = (0..layout.point_count())
        .map(|point| {
            let count = rest.iter().take_while(|r| r.point == point).count();
            let (mine, after) = rest.split_at(count);
            rest = after;
            let mut row = layout.values(point);
            row.push(mine.len().to_string());
            let mut pooled = quantiles[point].iter().copied();
            for (metric, name) in layout.names.iter().enumerate() {
                let values = mine.iter().map(|r| r.values[metric]);
                let e = estimate_with(name, values, |_, _| pooled.next().unwrap_or(f64::NAN));
                row.push(number(e.mean));
                if name != MAX_LOAD {
                    row.push(number(e.ci95));
                }
            }
            row
        })
        .collect();
    Table { header, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(values: &[&str], replications: u32) -> Layout {
        Layout {
            axes: vec![Axis {
                key: "k".into(),
                values: values.iter().map(|v| v.to_string()).collect(),
            }],
            replications,
            replications_along: None,
            names: vec!["m".into(), "p99_latency".into()],
        }
    }

    #[test]
    fn shards_split_the_units_without_overlap() {
        let mut layout = layout(&["a", "b", "c"], 3);
        layout.replications_along = Some((0, vec![3, 2, 4]));
        let firsts = layout.first_units();
        assert_eq!(firsts, [0, 3, 5, 9]);
        let units = |shard: Shard| -> Vec<(usize, u32)> {
            (0..3)
                .flat_map(|p| {
                    owned(&layout, shard, p, firsts[p])
                        .into_iter()
                        .map(move |r| (p, r))
                })
                .collect()
        };
        let all = units(Shard::WHOLE);
        assert_eq!(all.len(), 9);
        let mut union: Vec<_> = (0..3)
            .flat_map(|i| units(Shard { index: i, count: 3 }))
            .collect();
        union.sort();
        assert_eq!(union, all);
        assert_eq!(
            units(Shard { index: 1, count: 3 }),
            [(0, 1), (1, 1), (2, 2)]
        );
    }

    #[test]
    fn table_pools_records_in_replication_order() {
        let layout = layout(&["2", "5"], 2);
        let record = |point, replication, value| Record {
            point,
            replication,
            values: vec![value, value],
        };
        let records = [record(1, 0, 7.0), record(0, 1, 3.0), record(0, 0, 1.0)];
        let table = table(&layout, &records, &[vec![0.25], vec![0.5]]);
        assert_eq!(
            table.header,
            [
                "k",
                "replications",
                "m",
                "m_ci95",
                "p99_latency",
                "p99_latency_ci95"
            ]
        );
        let ci = number(crate::stats::Estimate::from_replications([1.0, 3.0]).ci95);
        assert_eq!(table.rows[0][..5], ["2", "2", "2", &ci, "0.25"]);
        assert_eq!(table.rows[1][..5], ["5", "1", "7", "", "0.5"]);
    }
}
