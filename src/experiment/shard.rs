//! Sharded runs and sweeps, and `queuesim merge`.
//!
//! The work of a run (its replications) or of a sweep (every point's
//! replications) is numbered unit by unit; shard `i/n` takes the units
//! whose number is `i` modulo `n`. Seeds derive from the point and the
//! replication only, never from the shard, so a unit gives the same numbers
//! wherever it runs. A shard directory holds `shard.json` (what was run and
//! which shard this is), the raw per-replication values as CSV, and the
//! shard's histograms pooled (`histograms.csv`, the source of the reported
//! quantiles); merging every shard pools them with the same code an
//! unsharded command uses, which makes the merged CSV byte-identical to a
//! single-machine run.

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::pool::{PoolError, key_columns, pool};
use super::sweep::{self, Layout, Record};
use crate::report::csv::{Table, number, to_csv};
use crate::report::{WriteError, write_all};
use crate::results::{PooledHistograms, pooled};

/// Version of the shard directory format (2: with `histograms.csv`).
pub const FORMAT: u32 = 2;
/// Name of the manifest in a shard directory.
const MANIFEST: &str = "shard.json";
/// Name of a sweep shard's records.
const RECORDS: &str = "records.csv";
/// Prefix of a run shard's per-replication tables.
const RUN_PREFIX: &str = "replications-";
/// Name of the pooled histograms of a shard (per point for a sweep).
const HISTOGRAMS: &str = "histograms.csv";

/// Shard `index` of `count` (0-based, as Kubernetes' `JOB_COMPLETION_INDEX`
/// and Slurm's `SLURM_ARRAY_TASK_ID` with `--array=0-(n-1)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, `0..count`.
    pub index: u32,
    /// How many shards the work is split into (at least 1).
    pub count: u32,
}

impl Shard {
    /// All the work in one piece.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether this shard runs work unit number `unit`.
    pub fn owns(&self, unit: usize) -> bool {
        unit % self.count as usize == self.index as usize
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| ShardError::Spec {
            arg: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (index, count) = text.split_once('/').ok_or_else(|| bad("expected i/n"))?;
        let index: u32 = index
            .trim()
            .parse()
            .map_err(|_| bad("i is not a whole number"))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| bad("n is not a whole number"))?;
        if count == 0 {
            return Err(bad("n must be at least 1"));
        }
        if index >= count {
            return Err(bad(&format!(
                "i must be 0..={} (shards are numbered from 0)",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }
}

/// What a shard holds part of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "lowercase")]
pub enum Work {
    /// Replications of `queuesim run`.
    Run {
        /// Replications of the whole run.
        replications: u32,
        /// The CSV tables of the run report.
        tables: Vec<String>,
    },
    /// Points and replications of `queuesim sweep`.
    Sweep {
        /// Axes, points and metrics of the sweep.
        layout: Layout,
    },
}

/// `shard.json`: which shard of which work a directory holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub format: u32,
    /// Scenario name.
    pub scenario: String,
    /// This shard's index.
    pub shard: u32,
    /// Number of shards.
    pub shards: u32,
    /// Where the unsharded command would have written (default of `merge`).
    pub out: PathBuf,
    /// What was run.
    pub work: Work,
}

/// Sharding or merging went wrong.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// A malformed `--shard` argument.
    #[error("bad --shard `{arg}`: {reason}; write i/n, for example --shard 0/3")]
    Spec {
        /// The argument as given.
        arg: String,
        /// What is wrong.
        reason: String,
    },
    /// A shard file cannot be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Shards that do not belong together, or an incomplete set.
    #[error("cannot merge: {0}")]
    Inconsistent(String),
    /// The per-replication tables cannot be pooled.
    #[error("cannot merge: {0}")]
    Pool(#[from] PoolError),
    /// Writing a shard failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

fn manifest_file(manifest: &Manifest) -> (String, Vec<u8>) {
    let mut text = serde_json::to_string_pretty(manifest).expect("a manifest serialises");
    text.push('\n');
    (MANIFEST.to_owned(), text.into_bytes())
}

/// Writes a sweep shard: its manifest, the records it computed and each
/// point's histograms pooled over the shard's replications.
///
/// # Errors
///
/// [`ShardError::Write`] when the directory cannot be written.
pub fn write_sweep(
    dir: &Path,
    manifest: &Manifest,
    records: &[Record],
    points: &[PooledHistograms],
) -> Result<(), ShardError> {
    let Work::Sweep { layout } = &manifest.work else {
        return Err(ShardError::Inconsistent("not a sweep manifest".to_owned()));
    };
    let mut header = vec!["point".to_owned(), "replication".to_owned()];
    header.extend(layout.names.iter().cloned());
    let rows = records
        .iter()
        .map(|r| {
            [r.point.to_string(), r.replication.to_string()]
                .into_iter()
                .chain(r.values.iter().map(|&v| number(v)))
                .collect()
        })
        .collect();
    let data = (RECORDS.to_owned(), to_csv(&Table { header, rows }));
    let histograms = (
        HISTOGRAMS.to_owned(),
        to_csv(&pooled::points_to_table(points)),
    );
    write_all(dir, &[manifest_file(manifest), data, histograms])?;
    Ok(())
}

/// Writes a run shard: its manifest, the histograms of its replications
/// pooled, and, per CSV table of the run, the table of each replication
/// alone with a leading `replication` column.
///
/// # Errors
///
/// [`ShardError`] for a table [`super::pool`] cannot merge, or a failed write.
pub fn write_run(
    dir: &Path,
    manifest: &Manifest,
    per_replication: &[(u32, Vec<(&'static str, Table)>)],
    histograms: &PooledHistograms,
) -> Result<(), ShardError> {
    let mut files = vec![
        manifest_file(manifest),
        (HISTOGRAMS.to_owned(), to_csv(&pooled::to_table(histograms))),
    ];
    let Some((_, first)) = per_replication.first() else {
        return Ok(write_all(dir, &files).map(|_| ())?);
    };
    for (t, (name, table)) in first.iter().enumerate() {
        key_columns(name).ok_or_else(|| PoolError::UnknownTable((*name).to_owned()))?;
        let mut header = vec!["replication".to_owned()];
        header.extend(table.header.iter().cloned());
        let rows = per_replication
            .iter()
            .flat_map(|(replication, tables)| {
                tables[t].1.rows.iter().map(move |row| {
                    std::iter::once(replication.to_string())
                        .chain(row.iter().cloned())
                        .collect()
                })
            })
            .collect();
        files.push((
            format!("{RUN_PREFIX}{name}"),
            to_csv(&Table { header, rows }),
        ));
    }
    write_all(dir, &files)?;
    Ok(())
}

fn read_text(path: &Path) -> Result<String, ShardError> {
    fs::read_to_string(path).map_err(|e| ShardError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn read_csv(path: &Path) -> Result<Table, ShardError> {
    let text = read_text(path)?;
    let bad = |e: csv::Error| ShardError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(String::from)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(String::from).collect()))
        .collect::<Result<_, _>>()
        .map_err(bad)?;
    Ok(Table { header, rows })
}

fn parse_cell<T: FromStr>(path: &Path, cell: &str) -> Result<T, ShardError> {
    cell.parse().map_err(|_| ShardError::Read {
        path: path.to_owned(),
        reason: format!("`{cell}` is not a valid number"),
    })
}

/// Reads the manifests of `dirs` and checks that they are exactly the
/// shards `0..n` of one piece of work. Returns them in shard order with
/// their directories.
fn complete_set(dirs: &[PathBuf]) -> Result<Vec<(Manifest, PathBuf)>, ShardError> {
    let mut shards = Vec::new();
    for dir in dirs {
        let path = dir.join(MANIFEST);
        let manifest: Manifest =
            serde_json::from_str(&read_text(&path)?).map_err(|e| ShardError::Read {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if manifest.format != FORMAT {
            return Err(ShardError::Inconsistent(format!(
                "{} has format {}, this queuesim reads format {FORMAT}",
                path.display(),
                manifest.format
            )));
        }
        shards.push((manifest, dir.clone()));
    }
    shards.sort_by_key(|(m, _)| m.shard);
    let Some((reference, _)) = shards.first() else {
        return Err(ShardError::Inconsistent(
            "no shard directories given".to_owned(),
        ));
    };
    let n = reference.shards;
    for (m, dir) in &shards {
        let same = Manifest {
            shard: reference.shard,
            ..m.clone()
        };
        if same != *reference {
            return Err(ShardError::Inconsistent(format!(
                "{} holds a shard of other work than {} (scenario, settings or shard count differ)",
                dir.display(),
                shards[0].1.display()
            )));
        }
    }
    let indices: Vec<u32> = shards.iter().map(|(m, _)| m.shard).collect();
    if indices != (0..n).collect::<Vec<_>>() {
        let missing: Vec<String> = (0..n)
            .filter(|i| !indices.contains(i))
            .map(|i| i.to_string())
            .collect();
        return Err(ShardError::Inconsistent(format!(
            "expected shards 0..{n} once each, found {indices:?} (missing: {})",
            if missing.is_empty() {
                "none, but some are duplicated".to_owned()
            } else {
                missing.join(", ")
            }
        )));
    }
    Ok(shards)
}

/// The files a merge produces and where the unsharded command writes them.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Default output directory (that of the unsharded command).
    pub out: PathBuf,
    /// `(file name, bytes)`, identical to the unsharded command's CSV files.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Combines the shard directories `dirs` into the CSV files of the whole
/// run or sweep.
///
/// # Errors
///
/// [`ShardError`] when a shard is missing, duplicated, unreadable or
/// belongs to other work.
pub fn merge(dirs: &[PathBuf]) -> Result<Merged, ShardError> {
    let shards = complete_set(dirs)?;
    let manifest = &shards[0].0;
    let files = match &manifest.work {
        Work::Sweep { layout } => vec![("sweep.csv".to_owned(), merge_sweep(layout, &shards)?)],
        Work::Run {
            replications,
            tables,
        } => {
            let mut histograms = PooledHistograms::default();
            for (_, dir) in &shards {
                let path = dir.join(HISTOGRAMS);
                pooled::add_table(&mut histograms, &read_csv(&path)?)
                    .map_err(|reason| ShardError::Read { path, reason })?;
            }
            tables
                .iter()
                .map(|name| {
                    let merged = merge_run_table(name, *replications, &shards, &histograms)?;
                    Ok((name.clone(), merged))
                })
                .collect::<Result<_, ShardError>>()?
        }
    };
    Ok(Merged {
        out: manifest.out.clone(),
        files,
    })
}

fn merge_sweep(layout: &Layout, shards: &[(Manifest, PathBuf)]) -> Result<Vec<u8>, ShardError> {
    let mut records = Vec::new();
    let mut points = vec![PooledHistograms::default(); layout.points.len()];
    for (_, dir) in shards {
        let path = dir.join(HISTOGRAMS);
        pooled::add_points_table(&mut points, &read_csv(&path)?)
            .map_err(|reason| ShardError::Read { path, reason })?;
        let path = dir.join(RECORDS);
        let table = read_csv(&path)?;
        for row in &table.rows {
            if row.len() != layout.names.len() + 2 {
                return Err(ShardError::Read {
                    path,
                    reason: "a row has the wrong number of cells".to_owned(),
                });
            }
            records.push(Record {
                point: parse_cell(&path, &row[0])?,
                replication: parse_cell(&path, &row[1])?,
                values: row[2..]
                    .iter()
                    .map(|c| c.parse().unwrap_or(f64::NAN))
                    .collect(),
            });
        }
    }
    let expected: u32 = layout.replications.iter().sum();
    if records.len() != expected as usize {
        return Err(ShardError::Inconsistent(format!(
            "the shards hold {} replications, the sweep has {expected}",
            records.len()
        )));
    }
    Ok(to_csv(&sweep::table(layout, &records, &points)))
}

fn merge_run_table(
    name: &str,
    replications: u32,
    shards: &[(Manifest, PathBuf)],
    histograms: &PooledHistograms,
) -> Result<Vec<u8>, ShardError> {
    let mut per_replication: Vec<(u32, Table)> = Vec::new();
    for (_, dir) in shards {
        let path = dir.join(format!("{RUN_PREFIX}{name}"));
        let table = read_csv(&path)?;
        let header: Vec<String> = table.header.iter().skip(1).cloned().collect();
        for row in &table.rows {
            let replication: u32 = parse_cell(&path, &row[0])?;
            let cells = row[1..].to_vec();
            match per_replication.iter_mut().find(|(r, _)| *r == replication) {
                Some((_, t)) => t.rows.push(cells),
                None => per_replication.push((
                    replication,
                    Table {
                        header: header.clone(),
                        rows: vec![cells],
                    },
                )),
            }
        }
    }
    per_replication.sort_by_key(|(r, _)| *r);
    let found: Vec<u32> = per_replication.iter().map(|(r, _)| *r).collect();
    if found != (0..replications).collect::<Vec<_>>() {
        return Err(ShardError::Inconsistent(format!(
            "{name}: expected replications 0..{replications}, the shards hold {}",
            found.len()
        )));
    }
    Ok(to_csv(&pool(name, &per_replication, histograms)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs_are_zero_based() {
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
        for (arg, reason) in [
            ("3/3", "0..=2"),
            ("1/0", "at least 1"),
            ("a/3", "i is not"),
            ("1-3", "expected i/n"),
        ] {
            let err = arg.parse::<Shard>().unwrap_err().to_string();
            assert!(err.contains(reason), "{arg}: {err}");
        }
    }

    #[test]
    fn ownership_is_round_robin() {
        let shard = Shard { index: 1, count: 3 };
        let owned: Vec<usize> = (0..8).filter(|&u| shard.owns(u)).collect();
        assert_eq!(owned, [1, 4, 7]);
        assert!((0..5).all(|u| Shard::WHOLE.owns(u)));
    }

    #[test]
    fn an_incomplete_set_names_the_missing_shard() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout {
            keys: vec!["k".into()],
            points: vec![vec!["1".into()]],
            replications: vec![2],
            names: vec!["m".into()],
        };
        let dirs: Vec<PathBuf> = [0, 2]
            .iter()
            .map(|&i| {
                let dir = root.path().join(i.to_string());
                let manifest = Manifest {
                    format: FORMAT,
                    scenario: "s".into(),
                    shard: i,
                    shards: 3,
                    out: "reports/s".into(),
                    work: Work::Sweep {
                        layout: layout.clone(),
                    },
                };
                write_sweep(&dir, &manifest, &[], &[]).unwrap();
                dir
            })
            .collect();
        let err = merge(&dirs).unwrap_err().to_string();
        assert!(err.contains("missing: 1"), "{err}");
    }
}
