//! `queuesim merge`: reading shard directories back, checking that they
//! are the complete set of one work and unedited, and pooling them into
//! the files the unsharded command writes.

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::{
    FORMAT, HISTOGRAMS, MANIFEST, Manifest, PROGRAM, RECORDS, RUN_PREFIX, ShardError, Work,
    checksum,
};
use crate::experiment::pool::pool;
use crate::experiment::sweep::{self, Layout, Record, point_quantiles};
use crate::report::csv::to_csv;
use crate::results::PooledHistograms;
use crate::results::pooled::codec;
use crate::table::Table;

fn read_text(path: &Path) -> Result<String, ShardError> {
    fs::read_to_string(path).map_err(|e| ShardError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Reads the file `name` of the shard in `dir`, refusing it unless its
/// checksum is the one the shard's manifest recorded.
fn read_checked(dir: &Path, manifest: &Manifest, name: &str) -> Result<Vec<u8>, ShardError> {
    let path = dir.join(name);
    let bytes = fs::read(&path).map_err(|e| ShardError::Read {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let Some(expected) = manifest.files.get(name) else {
        return Err(ShardError::Inconsistent(format!(
            "{} is not among the files {} records",
            path.display(),
            dir.join(MANIFEST).display()
        )));
    };
    if checksum(&bytes) != *expected {
        return Err(ShardError::Inconsistent(format!(
            "{} was changed, truncated or replaced after the shard was written (its SHA-256 is not the one in {}); run that shard again",
            path.display(),
            MANIFEST
        )));
    }
    Ok(bytes)
}

/// Calls `chunk(point, bytes)` for each chunk of the histograms file of the
/// shard in `dir`, in point order.
fn read_histograms(
    dir: &Path,
    manifest: &Manifest,
    chunk: impl FnMut(usize, &[u8]) -> Result<(), String>,
) -> Result<(), ShardError> {
    let bytes = read_checked(dir, manifest, HISTOGRAMS)?;
    codec::read_file(&bytes, chunk).map_err(|reason| ShardError::Read {
        path: dir.join(HISTOGRAMS),
        reason,
    })
}

fn read_csv(dir: &Path, manifest: &Manifest, name: &str) -> Result<Table, ShardError> {
    let path = dir.join(name);
    let bytes = read_checked(dir, manifest, name)?;
    let bad = |e: csv::Error| ShardError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
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
                read_histograms(dir, manifest, |point, chunk| match point {
                    0 => codec::decode_into(chunk, &mut histograms),
                    _ => Err(format!("a run's histograms have no point {point}")),
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

/// `sweep.csv` of the sweep of `layout` from its shards. Each point's
/// histograms are kept in their compressed form until every shard is read,
/// then pooled and reduced to the point's quantiles one point at a time.
fn merge_sweep(layout: &Layout, shards: &[(Manifest, PathBuf)]) -> Result<Vec<u8>, ShardError> {
    let mut records = Vec::new();
    let mut chunks: Vec<Vec<Vec<u8>>> = vec![Vec::new(); layout.point_count()];
    for (manifest, dir) in shards {
        read_histograms(dir, manifest, |point, chunk| {
            let kept =
                (chunks.get_mut(point)).ok_or_else(|| format!("the sweep has no point {point}"))?;
            kept.push(chunk.to_vec());
            Ok(())
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
    let expected: u64 = (0..layout.point_count())
        .map(|point| u64::from(layout.replications_at(point)))
        .sum();
    if records.len() as u64 != expected {
        return Err(ShardError::Inconsistent(format!(
            "the shards hold {} replications, the sweep has {expected}",
            records.len()
        )));
    }
    let quantiles = (chunks.into_iter().enumerate())
        .map(|(point, chunks)| {
            let mut pooled = PooledHistograms::default();
            for chunk in chunks {
                codec::decode_into(&chunk, &mut pooled).map_err(|reason| {
                    ShardError::Inconsistent(format!(
                        "the histograms of point {} cannot be read: {reason}",
                        layout.describe(point)
                    ))
                })?;
            }
            Ok(point_quantiles(&layout.names, &pooled))
        })
        .collect::<Result<Vec<_>, ShardError>>()?;
    Ok(to_csv(&sweep::table(layout, &records, &quantiles)))
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
