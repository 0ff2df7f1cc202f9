//! Sharded runs and sweeps, and `queuesim merge`.
//!
//! The work of a run (its replications) or of a sweep (every point's
//! replications) is numbered unit by unit; shard `i/n` takes the units
//! whose number is `i` modulo `n`. Seeds derive from the point and the
//! replication only, never from the shard, so a unit gives the same numbers
//! wherever it runs. A shard directory holds `shard.json` (what was run,
//! which shard this is, a fingerprint of the work and a checksum of every
//! other file), the raw per-replication values as CSV, and the shard's
//! histograms pooled (`histograms.csv`, the source of the reported
//! quantiles); merging every shard pools them with the same code an
//! unsharded command uses, which makes the merged CSV byte-identical to a
//! single-machine run. `merge` refuses shards whose fingerprints differ
//! (another seed, override, scenario file or program version) and files
//! whose checksum is not the one the shard recorded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::pool::{PoolError, key_columns, pool};
use super::sweep::{self, Layout, Record};
use crate::model::Model;
use crate::report::csv::to_csv;
use crate::results::{PooledHistograms, pooled};
use crate::table::{Table, number};

/// Version of the shard directory format (3: with the work's fingerprint
/// and the files' checksums).
pub const FORMAT: u32 = 3;
/// The program that writes shards; shards of another version are refused.
pub const PROGRAM: &str = concat!("queuesim ", env!("CARGO_PKG_VERSION"));
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

    /// The default folder name of this shard: `shard-i-of-n`.
    pub fn folder_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }

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
    /// The program and version that wrote the shard ([`PROGRAM`]).
    pub program: String,
    /// Scenario name.
    pub scenario: String,
    /// Root seed of the work.
    pub seed: u64,
    /// SHA-256 of the work ([`fingerprint`]): every resolved model, after
    /// overrides, with the format and program version.
    pub fingerprint: String,
    /// This shard's index.
    pub shard: u32,
    /// Number of shards.
    pub shards: u32,
    /// Where the unsharded command would have written (default of `merge`).
    pub out: PathBuf,
    /// What was run.
    pub work: Work,
    /// SHA-256 of every other file of the shard, by file name.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

/// SHA-256 of `bytes`, in hexadecimal.
pub fn checksum(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    })
}

/// Streams formatted text into a SHA-256 (no copy of a big model's text).
struct Hasher(Sha256);

impl std::fmt::Write for Hasher {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0.update(text.as_bytes());
        Ok(())
    }
}

/// The fingerprint of the work on `models` (one for a run, one per point
/// for a sweep): SHA-256 of the shard format, the program version and each
/// resolved model (every key after overrides, seed and replications
/// included, trace contents too), in order.
pub fn fingerprint<'a>(models: impl IntoIterator<Item = &'a Model>) -> String {
    let mut hasher = Hasher(Sha256::new());
    let _ = write!(hasher, "{FORMAT}\n{PROGRAM}\n");
    for model in models {
        let _ = writeln!(hasher, "{model:?}");
    }
    hex(&hasher.0.finalize())
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
}

/// The files of a shard, `manifest` first, with the checksum of each
/// other file recorded in the manifest.
fn with_manifest(manifest: &Manifest, data: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    let mut manifest = manifest.clone();
    manifest.files = (data.iter())
        .map(|(name, bytes)| (name.clone(), checksum(bytes)))
        .collect();
    let mut text = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
    text.push('\n');
    let mut files = vec![(MANIFEST.to_owned(), text.into_bytes())];
    files.extend(data);
    files
}

/// The files of a sweep shard: its manifest, the records it computed and
/// each point's histograms pooled over the shard's replications.
///
/// # Errors
///
/// [`ShardError::Inconsistent`] when `manifest` is not a sweep's.
pub fn sweep_files(
    manifest: &Manifest,
    records: &[Record],
    points: &[PooledHistograms],
) -> Result<Vec<(String, Vec<u8>)>, ShardError> {
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
    Ok(with_manifest(manifest, vec![data, histograms]))
}

/// The files of a run shard: its manifest, the histograms of its
/// replications pooled, and, per CSV table of the run, the table of each
/// replication alone with a leading `replication` column.
///
/// # Errors
///
/// [`ShardError`] for a table [`super::pool`] cannot merge.
pub fn run_files(
    manifest: &Manifest,
    per_replication: &[(u32, Vec<(&'static str, Table)>)],
    histograms: &PooledHistograms,
) -> Result<Vec<(String, Vec<u8>)>, ShardError> {
    let mut files = vec![(HISTOGRAMS.to_owned(), to_csv(&pooled::to_table(histograms)))];
    let Some((_, first)) = per_replication.first() else {
        return Ok(with_manifest(manifest, files));
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
    Ok(with_manifest(manifest, files))
}

fn read_text(path: &Path) -> Result<String, ShardError> {
    fs::read_to_string(path).map_err(|e| ShardError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Reads the file `name` of the shard in `dir`, refusing it unless its
/// checksum is the one the shard's manifest recorded.
fn read_checked(dir: &Path, manifest: &Manifest, name: &str) -> Result<String, ShardError> {
    let path = dir.join(name);
    let text = read_text(&path)?;
    let Some(expected) = manifest.files.get(name) else {
        return Err(ShardError::Inconsistent(format!(
            "{} is not among the files {} records",
            path.display(),
            dir.join(MANIFEST).display()
        )));
    };
    if checksum(text.as_bytes()) != *expected {
        return Err(ShardError::Inconsistent(format!(
            "{} was changed, truncated or replaced after the shard was written (its SHA-256 is not the one in {}); run that shard again",
            path.display(),
            MANIFEST
        )));
    }
    Ok(text)
}

fn read_csv(dir: &Path, manifest: &Manifest, name: &str) -> Result<Table, ShardError> {
    let path = dir.join(name);
    let text = read_checked(dir, manifest, name)?;
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
        if manifest.format != FORMAT || manifest.program != PROGRAM {
            return Err(ShardError::Inconsistent(format!(
                "{} was written by {} in shard format {}; this is {PROGRAM}, which reads format {FORMAT}: run the shards again with one version",
                path.display(),
                if manifest.program.is_empty() {
                    "an older queuesim"
                } else {
                    &manifest.program
                },
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
        if let Some(difference) = difference(reference, m) {
            return Err(ShardError::Inconsistent(format!(
                "{} holds a shard of other work than {}: {difference}",
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

/// What differs between the work of two shards, if anything.
fn difference(a: &Manifest, b: &Manifest) -> Option<String> {
    if a.scenario != b.scenario {
        return Some(format!(
            "scenario `{}` against `{}`",
            b.scenario, a.scenario
        ));
    }
    if a.shards != b.shards {
        return Some(format!("{} shards against {}", b.shards, a.shards));
    }
    if a.seed != b.seed {
        return Some(format!("seed {} against {}", b.seed, a.seed));
    }
    if a.work != b.work {
        return Some("the replications or the sweep's points differ".to_owned());
    }
    if a.fingerprint != b.fingerprint {
        return Some(
            "the resolved scenario differs (another --set, or the scenario file was edited)"
                .to_owned(),
        );
    }
    (a.out != b.out).then(|| "the default output folder differs".to_owned())
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
            for (manifest, dir) in &shards {
                let table = read_csv(dir, manifest, HISTOGRAMS)?;
                pooled::add_table(&mut histograms, &table).map_err(|reason| ShardError::Read {
                    path: dir.join(HISTOGRAMS),
                    reason,
                })?;
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
    for (manifest, dir) in shards {
        let table = read_csv(dir, manifest, HISTOGRAMS)?;
        pooled::add_points_table(&mut points, &table).map_err(|reason| ShardError::Read {
            path: dir.join(HISTOGRAMS),
            reason,
        })?;
        let path = dir.join(RECORDS);
        let table = read_csv(dir, manifest, RECORDS)?;
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
    for (manifest, dir) in shards {
        let file = format!("{RUN_PREFIX}{name}");
        let path = dir.join(&file);
        let table = read_csv(dir, manifest, &file)?;
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
                    program: PROGRAM.into(),
                    scenario: "s".into(),
                    seed: 1,
                    fingerprint: String::new(),
                    shard: i,
                    shards: 3,
                    out: "reports/s".into(),
                    work: Work::Sweep {
                        layout: layout.clone(),
                    },
                    files: BTreeMap::new(),
                };
                let files = sweep_files(&manifest, &[], &[]).unwrap();
                crate::report::write_all(&dir, &files).unwrap();
                dir
            })
            .collect();
        let err = merge(&dirs).unwrap_err().to_string();
        assert!(err.contains("missing: 1"), "{err}");
    }
}
