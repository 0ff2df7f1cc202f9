//! Sharded runs and sweeps: what a shard directory holds (merging them is
//! [`merge`]'s).
//!
//! The work of a run (its replications) or of a sweep (every point's
//! replications) is numbered unit by unit; shard `i/n` takes the units
//! whose number is `i` modulo `n`. Seeds derive from the point and the
//! replication only, never from the shard, so a unit gives the same numbers
//! wherever it runs. A shard directory holds `shard.json` (what was run,
//! which shard this is, a fingerprint of the work and a checksum of every
//! other file), the raw per-replication values as CSV, and the shard's
//! histograms pooled in compact binary form (`histograms.bin`, the source
//! of the reported quantiles, see [`crate::results::pooled::codec`]);
//! merging every shard pools them with the same code an
//! unsharded command uses, which makes the merged CSV byte-identical to a
//! single-machine run. `merge` refuses shards whose fingerprints differ
//! (another seed, override, scenario file or program version) and files
//! whose checksum is not the one the shard recorded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::pool::{PoolError, key_columns};
use super::sweep::{Layout, Record};
use crate::model::Model;
use crate::report::csv::to_csv;
use crate::results::PooledHistograms;
use crate::results::pooled::codec;
use crate::table::{Table, number};

/// Version of the shard directory format (4: a sweep's layout as its
/// axes, the fingerprint over a digest per model, histograms in binary
/// form).
pub const FORMAT: u32 = 4;
/// The program that writes shards; shards of another version are refused.
pub const PROGRAM: &str = concat!("queuesim ", env!("CARGO_PKG_VERSION"));
/// Name of the manifest in a shard directory.
const MANIFEST: &str = "shard.json";
/// Name of a sweep shard's records.
const RECORDS: &str = "records.csv";
/// Prefix of a run shard's per-replication tables.
const RUN_PREFIX: &str = "replications-";
/// Name of the pooled histograms of a shard (per point for a sweep).
pub const HISTOGRAMS: &str = "histograms.bin";

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
    /// SHA-256 of the work ([`fingerprint`]): its resolved models, after
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

impl Manifest {
    /// The manifest of shard `shard` of `work`, whose (first) model is
    /// `model` and whose [`fingerprint`] is `fingerprint`, and whose
    /// unsharded command writes to `out`; the files' checksums are added as
    /// they are written.
    pub fn new(model: &Model, fingerprint: String, shard: Shard, out: PathBuf, work: Work) -> Self {
        Self {
            format: FORMAT,
            program: PROGRAM.to_owned(),
            scenario: model.name.clone(),
            seed: model.simulation.seed,
            fingerprint,
            shard: shard.index,
            shards: shard.count,
            out,
            work,
            files: BTreeMap::new(),
        }
    }
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

/// SHA-256 of one resolved model: every key after overrides, seed and
/// replications included, trace contents too.
pub fn model_digest(model: &Model) -> [u8; 32] {
    let mut hasher = Hasher(Sha256::new());
    let _ = write!(hasher, "{model:?}");
    hasher.0.finalize().into()
}

/// The fingerprint of a work: SHA-256 of the shard format, the program
/// version and the [`model_digest`] of each of its models, in order (the
/// run's model; for a sweep, the models [`super::sweep::prepare`] checks:
/// the first point's and one per other value of each swept key).
pub fn fingerprint(digests: impl IntoIterator<Item = [u8; 32]>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{FORMAT}\n{PROGRAM}\n"));
    for digest in digests {
        hasher.update(digest);
    }
    hex(&hasher.finalize())
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
/// each point's histograms pooled over the shard's replications, encoded
/// ([`codec::encode`]; `None` for a point of which the shard ran nothing).
///
/// # Errors
///
/// [`ShardError::Inconsistent`] when `manifest` is not a sweep's.
pub fn sweep_files(
    manifest: &Manifest,
    records: &[Record],
    points: &[Option<Vec<u8>>],
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
    let chunks =
        (points.iter().enumerate()).filter_map(|(point, chunk)| Some((point, chunk.as_deref()?)));
    let histograms = (HISTOGRAMS.to_owned(), codec::to_file(chunks));
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
    let chunk = codec::encode(histograms);
    let mut files = vec![(HISTOGRAMS.to_owned(), codec::to_file([(0, &chunk[..])]))];
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

mod merge;

pub use merge::{Merged, merge};

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
            axes: vec![crate::experiment::range::Axis {
                key: "k".into(),
                values: vec!["1".into()],
            }],
            replications: 2,
            replications_along: None,
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
