//! The compact binary form of pooled histograms: a shard's
//! `histograms.bin`, from which `merge` recomputes the reported quantiles.
//!
//! A file is a magic line followed by chunks, each the histograms of one
//! point of a sweep (point 0 for a run), in increasing point order: the
//! point, the chunk's length in bytes, then the chunk, a zlib stream. Each
//! chunk is compressed on its own so that `merge` can hold every point's
//! chunks from every shard compressed and inflate one point at a time. A
//! decompressed chunk holds its number of histograms and, per histogram,
//! the measure (one byte), the node (length and UTF-8 bytes), the
//! priority, the total count, the runs of consecutive non-empty buckets
//! (the gap since the previous run's end and the run's length) and then
//! the count of every bucket of those runs as the difference from the
//! previous bucket's. Every number is a LEB128 varint, signed ones
//! zigzag-encoded. Counts of neighbouring buckets are close, so their
//! differences are small and repetitive: a shard of the README's sweep
//! carries 1.15 million non-empty buckets in 0.45 bytes each. The total
//! count is checked on reading; the file's SHA-256 is recorded in
//! `shard.json` like every other shard file's.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;

use super::{HistogramKey, Measure, PooledHistograms};
use crate::stats::LatencyHistogram;

/// First bytes of a histograms file.
const MAGIC: &[u8] = b"queuesim pooled histograms 1\n";
/// Most bytes a chunk may decompress to (1 GiB).
const MAX_DECODED: u64 = crate::input::MAX_INPUT_BYTES;

fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_signed(out: &mut Vec<u8>, value: i64) {
    put(out, ((value << 1) ^ (value >> 63)) as u64);
}

/// Reads numbers off the front of a byte slice.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn number(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.0.split_first().ok_or("it ends inside a number")?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number is longer than 64 bits".to_owned())
    }

    fn signed(&mut self) -> Result<i64, String> {
        let zigzag = self.number()?;
        Ok((zigzag >> 1) as i64 ^ -((zigzag & 1) as i64))
    }

    fn bytes(&mut self, len: u64) -> Result<&'a [u8], String> {
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= self.0.len())
            .ok_or("it ends inside a chunk or a name")?;
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(taken)
    }
}

/// The histograms of one point: a chunk of a file, compressed.
pub fn encode(pooled: &PooledHistograms) -> Vec<u8> {
    let mut out = Vec::new();
    put(&mut out, pooled.keys.len() as u64);
    for (key, histogram) in pooled.keys.iter().zip(&pooled.histograms) {
        let measure = Measure::ALL.iter().position(|&m| m == key.measure);
        out.push(measure.expect("every measure is listed") as u8);
        put(&mut out, key.node.len() as u64);
        out.extend_from_slice(key.node.as_bytes());
        put_signed(&mut out, key.priority);
        put(&mut out, histogram.count());
        let buckets: Vec<(usize, u64)> = histogram.bucket_counts().collect();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &(index, _) in &buckets {
            match runs.last_mut() {
                Some((start, len)) if *start + *len == index => *len += 1,
                _ => runs.push((index, 1)),
            }
        }
        put(&mut out, runs.len() as u64);
        let mut end = 0;
        for (start, len) in runs {
            put(&mut out, (start - end) as u64);
            put(&mut out, len as u64);
            end = start + len;
        }
        let mut previous = 0u64;
        for (_, count) in buckets {
            put_signed(&mut out, count.wrapping_sub(previous) as i64);
            previous = count;
        }
    }
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    let compressed = encoder.write_all(&out).and_then(|()| encoder.finish());
    compressed.expect("writing to memory does not fail")
}

/// Adds the histograms of `chunk` (see [`encode`]) to `pooled`.
///
/// # Errors
///
/// What is wrong with the chunk.
pub fn decode_into(chunk: &[u8], pooled: &mut PooledHistograms) -> Result<(), String> {
    let mut inflated = Vec::new();
    ZlibDecoder::new(chunk)
        .take(MAX_DECODED + 1)
        .read_to_end(&mut inflated)
        .map_err(|e| format!("a chunk is not compressed histograms ({e})"))?;
    if inflated.len() as u64 > MAX_DECODED {
        return Err(format!(
            "a chunk decompresses to more than {MAX_DECODED} bytes"
        ));
    }
    let mut cursor = Cursor(&inflated);
    for _ in 0..cursor.number()? {
        decode_histogram(&mut cursor, pooled)?;
    }
    if cursor.0.is_empty() {
        Ok(())
    } else {
        Err("a chunk has bytes after its last histogram".to_owned())
    }
}

/// Reads one histogram off `cursor` and adds it to `pooled`.
fn decode_histogram(cursor: &mut Cursor<'_>, pooled: &mut PooledHistograms) -> Result<(), String> {
    let (&measure, rest) = cursor.0.split_first().ok_or("it ends inside a histogram")?;
    cursor.0 = rest;
    let measure = *Measure::ALL
        .get(usize::from(measure))
        .ok_or_else(|| format!("{measure} is not a measure"))?;
    let len = cursor.number()?;
    let node = std::str::from_utf8(cursor.bytes(len)?)
        .map_err(|_| "a node name is not UTF-8".to_owned())?;
    let priority = cursor.signed()?;
    let total = cursor.number()?;
    let runs = (0..cursor.number()?)
        .map(|_| Ok((cursor.number()?, cursor.number()?)))
        .collect::<Result<Vec<(u64, u64)>, String>>()?;
    let mut decoded = LatencyHistogram::new();
    let (mut end, mut previous, mut sum) = (0u64, 0u64, 0u64);
    for (gap, len) in runs {
        let start = end.checked_add(gap).ok_or("a bucket number overflows")?;
        end = start.checked_add(len).ok_or("a bucket number overflows")?;
        for index in start..end {
            let count = previous.wrapping_add(cursor.signed()? as u64);
            previous = count;
            sum = sum.checked_add(count).ok_or("a count overflows")?;
            let index = usize::try_from(index).map_err(|_| "a bucket number overflows")?;
            decoded.record_bucket(index, count)?;
        }
    }
    if sum != total {
        return Err(format!(
            "the buckets of {} at {node} hold {sum} values, the file says {total}",
            measure.name()
        ));
    }
    pooled
        .insert(HistogramKey::at(measure, node, priority))
        .add(&decoded);
    Ok(())
}

/// The bytes of a histograms file holding `chunks`, `(point, chunk)` in
/// increasing point order.
pub fn to_file<'a>(chunks: impl IntoIterator<Item = (usize, &'a [u8])>) -> Vec<u8> {
    let mut file = MAGIC.to_vec();
    for (point, chunk) in chunks {
        put(&mut file, point as u64);
        put(&mut file, chunk.len() as u64);
        file.extend_from_slice(chunk);
    }
    file
}

/// Reads the histograms file `bytes`, calling `chunk(point, chunk)` for
/// each chunk in order (the chunk still compressed: see [`decode_into`]).
///
/// # Errors
///
/// What is wrong with the file (not a histograms file, cut short, points
/// out of order), or what `chunk` returns.
pub fn read_file(
    bytes: &[u8],
    mut chunk: impl FnMut(usize, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let mut cursor = Cursor(
        bytes
            .strip_prefix(MAGIC)
            .ok_or("it is not a queuesim histograms file")?,
    );
    let mut next = 0;
    while !cursor.0.is_empty() {
        let point = usize::try_from(cursor.number()?).map_err(|_| "a point overflows")?;
        if point < next {
            return Err(format!("point {point} comes after point {}", next - 1));
        }
        next = point + 1;
        let len = cursor.number()?;
        chunk(point, cursor.bytes(len)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pooled() -> PooledHistograms {
        let mut pooled = PooledHistograms::default();
        let latency = pooled.insert(HistogramKey::latency());
        for i in 0..5000u32 {
            latency.record(1e-3 * (1.0 + f64::from(i * i % 997)));
        }
        let wait = pooled.insert(HistogramKey::at(Measure::Wait, "q", 0));
        wait.record(0.0);
        wait.record_n(2.0, 300);
        pooled.insert(HistogramKey::at(Measure::ClassWait, "q", -7));
        pooled
    }

    #[test]
    fn a_file_rebuilds_every_histogram_empty_ones_included() {
        let original = pooled();
        let chunk = encode(&original);
        let file = to_file([(0, chunk.as_slice()), (3, chunk.as_slice())]);
        let mut read = Vec::new();
        read_file(&file, |point, chunk| {
            let mut pooled = PooledHistograms::default();
            decode_into(chunk, &mut pooled)?;
            read.push((point, pooled));
            Ok(())
        })
        .unwrap();
        assert_eq!(read, [(0, original.clone()), (3, original.clone())]);
        let mut twice = PooledHistograms::default();
        decode_into(&chunk, &mut twice).unwrap();
        decode_into(&chunk, &mut twice).unwrap();
        let mut sum = original.clone();
        for (mine, theirs) in sum.histograms.iter_mut().zip(&original.histograms) {
            mine.add(theirs);
        }
        assert_eq!(twice, sum);
    }

    #[test]
    fn varints_round_trip_at_their_extremes() {
        let mut out = Vec::new();
        for v in [0, 1, 127, 128, u64::MAX] {
            put(&mut out, v);
        }
        for v in [0, -1, 1, i64::MIN, i64::MAX] {
            put_signed(&mut out, v);
        }
        let mut cursor = Cursor(&out);
        for v in [0, 1, 127, 128, u64::MAX] {
            assert_eq!(cursor.number().unwrap(), v);
        }
        for v in [0, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(cursor.signed().unwrap(), v);
        }
        assert!(cursor.number().is_err());
    }

    #[test]
    fn corrupt_files_and_chunks_are_named() {
        let original = pooled();
        let chunk = encode(&original);
        let no = |_: usize, _: &[u8]| Ok(());
        let err = read_file(b"plain text", no).unwrap_err();
        assert!(err.contains("not a queuesim"), "{err}");
        let file = to_file([(2, chunk.as_slice())]);
        let err = read_file(&file[..file.len() - 1], no).unwrap_err();
        assert!(err.contains("ends inside"), "{err}");
        let backwards = to_file([(2, chunk.as_slice()), (1, chunk.as_slice())]);
        assert!(
            read_file(&backwards, no)
                .unwrap_err()
                .contains("comes after")
        );
        let mut pooled = PooledHistograms::default();
        let err = decode_into(b"plain text", &mut pooled).unwrap_err();
        assert!(err.contains("not compressed"), "{err}");
        let deflate = |raw: &[u8]| {
            let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
            e.write_all(raw).unwrap();
            e.finish().unwrap()
        };
        let mut raw = Vec::new();
        ZlibDecoder::new(chunk.as_slice())
            .read_to_end(&mut raw)
            .unwrap();
        let err = decode_into(&deflate(&raw[..raw.len() / 2]), &mut pooled).unwrap_err();
        assert!(err.contains("ends inside"), "{err}");
        let total_at = 1 + 1 + 1 + 1;
        raw[total_at] ^= 1;
        let err = decode_into(&deflate(&raw), &mut pooled).unwrap_err();
        assert!(err.contains("the file says"), "{err}");
    }
}
