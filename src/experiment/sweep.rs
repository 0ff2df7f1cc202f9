//! `queuesim sweep`: a scenario simulated at every point of a grid of keys.
//!
//! Every point uses the scenario's own seed, so replication `r` of every
//! point draws from the same streams (common random numbers across points:
//! curves are smoother than with independent seeds). Points run in
//! parallel; results are collected in point order, so `sweep.csv` does not
//! depend on the number of threads or on how the work was sharded.

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::metrics::{metric_estimate, metric_names, replication_values};
use super::range::{Axis, grid};
use super::shard::Shard;
use crate::engine;
use crate::model::Model;
use crate::results::PooledHistograms;
use crate::scenario::{self, ScenarioError};
use crate::table::{Table, number};

/// What a sweep's table is made of: its axes, points and metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// The swept keys, in the order given.
    pub keys: Vec<String>,
    /// Per point, the value of each key (`--set` value texts).
    pub points: Vec<Vec<String>>,
    /// Replications per point.
    pub replications: Vec<u32>,
    /// Metric names (summary metrics, then `node.metric`).
    pub names: Vec<String>,
}

/// Most points a sweep's grid may have.
pub const MAX_POINTS: usize = 100_000;

/// A sweep ready to run: its layout and the validated model of each point.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Axes, points and metrics.
    pub layout: Layout,
    /// The model of each point, in point order.
    pub models: Vec<Model>,
}

/// The metric values of one replication at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Point index in [`Layout::points`].
    pub point: usize,
    /// Replication number.
    pub replication: u32,
    /// One value per metric, in [`Layout::names`] order.
    pub values: Vec<f64>,
}

/// A sweep that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario does not validate at some point of the grid.
    #[error("at {point}: {source}")]
    Scenario {
        /// The point, as `key=value` pairs.
        point: String,
        /// Why the scenario is invalid there.
        source: ScenarioError,
    },
    /// The grid has more points than a sweep may have.
    #[error(
        "the grid of the swept keys has {points} points, more than the {MAX_POINTS} a sweep may have: sweep fewer values or split the sweep"
    )]
    TooManyPoints {
        /// The product of the axes' lengths (saturated).
        points: u128,
    },
    /// Ctrl-C or a termination signal arrived while the points were prepared.
    #[error("interrupted while preparing the sweep's points; nothing was simulated")]
    Interrupted,
    /// A swept key changes the set of metrics (for example a queue's name).
    #[error(
        "at {point}: the swept keys change the queues of the scenario; sweep values, not names"
    )]
    MetricsDiffer {
        /// The point, as `key=value` pairs.
        point: String,
    },
}

/// Loads the scenario at every point of the grid of `axes`, with the
/// `fixed` overrides applied first.
///
/// # Errors
///
/// [`SweepError`] naming the first point where the scenario is invalid.
pub fn prepare(path: &Path, fixed: &[String], axes: &[Axis]) -> Result<Sweep, SweepError> {
    let points = axes
        .iter()
        .fold(1u128, |n, a| n.saturating_mul(a.values.len() as u128));
    if points > MAX_POINTS as u128 {
        return Err(SweepError::TooManyPoints { points });
    }
    let mut layout = Layout {
        keys: axes.iter().map(|a| a.key.clone()).collect(),
        points: Vec::new(),
        replications: Vec::new(),
        names: Vec::new(),
    };
    let mut models = Vec::new();
    for indices in grid(axes) {
        if engine::stop_requested() {
            return Err(SweepError::Interrupted);
        }
        let values: Vec<String> = indices
            .iter()
            .zip(axes)
            .map(|(&i, axis)| axis.values[i].clone())
            .collect();
        let point = describe_point(&layout.keys, &values);
        let overrides: Vec<String> = fixed
            .iter()
            .cloned()
            .chain(
                layout
                    .keys
                    .iter()
                    .zip(&values)
                    .map(|(k, v)| format!("{k}={v}")),
            )
            .collect();
        let model = scenario::load(path, &overrides).map_err(|source| SweepError::Scenario {
            point: point.clone(),
            source,
        })?;
        let names = metric_names(&model);
        if models.is_empty() {
            layout.names = names;
        } else if names != layout.names {
            return Err(SweepError::MetricsDiffer { point });
        }
        layout.replications.push(model.simulation.replications);
        layout.points.push(values);
        models.push(model);
    }
    Ok(Sweep { layout, models })
}

/// `key=value, key=value`, for messages.
pub fn describe_point(keys: &[String], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The (point, replication) work units of `layout` that `shard` owns.
/// Units are numbered point by point, replication by replication.
pub fn units(layout: &Layout, shard: Shard) -> Vec<(usize, u32)> {
    layout
        .replications
        .iter()
        .enumerate()
        .flat_map(|(point, &reps)| (0..reps).map(move |r| (point, r)))
        .enumerate()
        .filter(|(unit, _)| shard.owns(*unit))
        .map(|(_, unit)| unit)
        .collect()
}

/// What a sweep (or one shard of it) simulated.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The records, sorted by point and replication.
    pub records: Vec<Record>,
    /// Per point, the histograms of its replications pooled.
    pub points: Vec<PooledHistograms>,
}

/// Simulates the units of `sweep` that `shard` owns, points in parallel,
/// calling `point_done` as each point finishes.
pub fn run(sweep: &Sweep, shard: Shard, point_done: &(dyn Fn() + Sync)) -> Outcome {
    let owned = units(&sweep.layout, shard);
    let per_point: Vec<(Vec<Record>, PooledHistograms)> = sweep
        .models
        .par_iter()
        .enumerate()
        .map(|(point, model)| {
            if engine::stop_requested() {
                return (Vec::new(), PooledHistograms::default());
            }
            let pooled = std::sync::Mutex::new(PooledHistograms::for_model(model));
            let choice = engine::Choice::for_model(model);
            let records = owned
                .iter()
                .filter(|(p, _)| *p == point)
                .collect::<Vec<_>>()
                .par_iter()
                .filter(|_| !engine::stop_requested())
                .map(|&&(_, replication)| {
                    let rep = choice.simulate(replication);
                    pooled
                        .lock()
                        .expect("no replication panicked while adding histograms")
                        .add_replication(&rep);
                    Record {
                        point,
                        replication,
                        values: replication_values(model, &rep),
                    }
                })
                .collect();
            point_done();
            let pooled = pooled
                .into_inner()
                .expect("no replication panicked while adding histograms");
            (records, pooled)
        })
        .collect();
    let (records, points): (Vec<Vec<Record>>, Vec<PooledHistograms>) =
        per_point.into_iter().unzip();
    Outcome {
        records: records.concat(),
        points,
    }
}

/// `sweep.csv`: one row per point with the swept keys' values, the number
/// of replications, and every metric with its 95% CI half-width, as a run
/// of the point reports it (quantiles from `points`, each point's pooled
/// histograms).
pub fn table(layout: &Layout, records: &[Record], points: &[PooledHistograms]) -> Table {
    let mut header = layout.keys.clone();
    header.push("replications".to_owned());
    for name in &layout.names {
        header.push(name.clone());
        header.push(format!("{name}_ci95"));
    }
    let mut sorted: Vec<&Record> = records.iter().collect();
    sorted.sort_by_key(|r| (r.point, r.replication));
    let rows = layout
        .points
        .iter()
        .enumerate()
        .map(|(point, values)| {
            let mine: Vec<&Record> = sorted
                .iter()
                .copied()
                .filter(|r| r.point == point)
                .collect();
            let mut row = values.clone();
            row.push(mine.len().to_string());
            for (metric, name) in layout.names.iter().enumerate() {
                let values = mine.iter().map(|r| r.values[metric]);
                let e = metric_estimate(name, values, &points[point]);
                row.push(number(e.mean));
                row.push(number(e.ci95));
            }
            row
        })
        .collect();
    Table { header, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(replications: Vec<u32>) -> Layout {
        Layout {
            keys: vec!["k".into()],
            points: replications.iter().map(|r| vec![r.to_string()]).collect(),
            replications,
            names: vec!["m".into()],
        }
    }

    #[test]
    fn shards_split_the_units_without_overlap() {
        let layout = layout(vec![3, 2, 4]);
        let all = units(&layout, Shard::WHOLE);
        assert_eq!(all.len(), 9);
        let mut union: Vec<_> = (0..3)
            .flat_map(|i| units(&layout, Shard { index: i, count: 3 }))
            .collect();
        union.sort();
        assert_eq!(union, all);
    }

    #[test]
    fn table_pools_records_in_replication_order() {
        let layout = layout(vec![2]);
        let records = [
            Record {
                point: 0,
                replication: 1,
                values: vec![3.0],
            },
            Record {
                point: 0,
                replication: 0,
                values: vec![1.0],
            },
        ];
        let table = table(&layout, &records, &[PooledHistograms::default()]);
        assert_eq!(table.header, ["k", "replications", "m", "m_ci95"]);
        assert_eq!(table.rows[0][..3], ["2", "2", "2"]);
    }
}
