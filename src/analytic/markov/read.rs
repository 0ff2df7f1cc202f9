//! Reading a chain from a CSV or TOML file (formats in [`read_chain`]).

use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use serde::Deserialize;

use super::{Chain, ChainKind, MarkovError, row_sum_ok, validate};

/// A matrix as read, before validation.
struct Raw {
    rows: Vec<Vec<f64>>,
    /// File line (from 1) of each row.
    lines: Vec<usize>,
    states: Option<Vec<String>>,
    kind: ChainKind,
}

/// Reads and validates a DTMC transition matrix or CTMC generator from a
/// CSV or TOML file.
///
/// The format is chosen by extension (`.csv`, `.toml`; anything else is
/// read as TOML if its first meaningful line contains `=`, else as CSV):
///
/// - **CSV**: a square numeric matrix, one row per line; an optional first
///   row of state names (recognised by not being all numbers); lines
///   starting with `#` are comments. The kind is decided by the row sums:
///   mostly 1 means a DTMC, mostly 0 a CTMC (with no row matching either, a
///   negative diagonal means a CTMC).
/// - **TOML**: `P = [[...], ...]` for a DTMC or `Q = [[...], ...]` for a
///   CTMC, and optionally `states = ["a", "b", ...]`.
///
/// Without names, states are called `"0"`, `"1"`, ….
///
/// # Errors
///
/// [`MarkovError::Io`] when the file cannot be read;
/// [`MarkovError::Parse`] (with the line where known) for syntax errors,
/// non-numeric cells, ragged or non-square rows, or state names that do not
/// match the matrix; [`MarkovError::InFile`] wrapping the validation error
/// (negative entry, row sum) with the line of the offending row.
pub fn read_chain(path: &Path) -> Result<Chain, MarkovError> {
    let text = crate::input::read_text(path, crate::input::MAX_INPUT_BYTES).map_err(|source| {
        MarkovError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let is_toml = match extension.as_deref() {
        Some("toml") => true,
        Some("csv") => false,
        _ => text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .is_some_and(|l| l.contains('=')),
    };
    let raw = if is_toml {
        parse_toml(path, &text)?
    } else {
        parse_csv(path, &text)?
    };
    build(path, raw)
}

fn parse_error(path: &Path, line: Option<usize>, message: String) -> MarkovError {
    MarkovError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    }
}

fn parse_csv(path: &Path, text: &str) -> Result<Raw, MarkovError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let (mut rows, mut lines, mut states) = (Vec::new(), Vec::new(), None);
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            parse_error(path, line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let numbers: Result<Vec<f64>, usize> = record
            .iter()
            .enumerate()
            .map(|(c, field)| field.parse::<f64>().map_err(|_| c))
            .collect();
        match numbers {
            Ok(row) => {
                rows.push(row);
                lines.push(line);
            }
            Err(_) if rows.is_empty() && states.is_none() => {
                states = Some(record.iter().map(str::to_string).collect());
            }
            Err(c) => {
                return Err(parse_error(
                    path,
                    Some(line),
                    format!("column {}: `{}` is not a number", c + 1, &record[c]),
                ));
            }
        }
    }
    let kind = guess_kind(&rows);
    Ok(Raw {
        rows,
        lines,
        states,
        kind,
    })
}

/// DTMC or CTMC from the row sums (see the module docs).
fn guess_kind(rows: &[Vec<f64>]) -> ChainKind {
    let votes = |kind| rows.iter().filter(|r| row_sum_ok(kind, r)).count();
    let (dtmc, ctmc) = (votes(ChainKind::Dtmc), votes(ChainKind::Ctmc));
    let negative_diagonal = rows
        .iter()
        .enumerate()
        .any(|(i, r)| r.get(i).is_some_and(|&v| v < 0.0));
    if ctmc > dtmc || (ctmc == dtmc && negative_diagonal) {
        ChainKind::Ctmc
    } else {
        ChainKind::Dtmc
    }
}

/// The TOML layout.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainFile {
    #[serde(rename = "P")]
    p: Option<Vec<toml::Spanned<Vec<f64>>>>,
    #[serde(rename = "Q")]
    q: Option<Vec<toml::Spanned<Vec<f64>>>>,
    states: Option<Vec<String>>,
}

fn parse_toml(path: &Path, text: &str) -> Result<Raw, MarkovError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let file: ChainFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(s.start));
        parse_error(path, line, e.message().trim_end().to_string())
    })?;
    let (kind, rows) = match (file.p, file.q) {
        (Some(p), None) => (ChainKind::Dtmc, p),
        (None, Some(q)) => (ChainKind::Ctmc, q),
        (Some(_), Some(_)) => {
            return Err(parse_error(
                path,
                None,
                "both `P` and `Q` are given; keep `P` for a DTMC or `Q` for a CTMC".into(),
            ));
        }
        (None, None) => {
            return Err(parse_error(
                path,
                None,
                "no matrix: expected `P = [[...], ...]` (DTMC) or `Q = [[...], ...]` (CTMC)".into(),
            ));
        }
    };
    Ok(Raw {
        lines: rows.iter().map(|r| line_of(r.span().start)).collect(),
        rows: rows.into_iter().map(toml::Spanned::into_inner).collect(),
        states: file.states,
        kind,
    })
}

/// Checks the shape and the state names, then validates the matrix.
fn build(path: &Path, raw: Raw) -> Result<Chain, MarkovError> {
    let n = raw.rows.len();
    if n == 0 {
        return Err(parse_error(path, None, "the matrix has no rows".into()));
    }
    for (row, line) in raw.rows.iter().zip(&raw.lines) {
        if row.len() != n {
            return Err(parse_error(
                path,
                Some(*line),
                format!(
                    "this row has {} entries but there are {n} rows; the matrix must be square",
                    row.len()
                ),
            ));
        }
    }
    let states = match raw.states {
        Some(states) => check_states(path, states, n)?,
        None => (0..n).map(|i| i.to_string()).collect(),
    };
    let matrix = DMatrix::from_fn(n, n, |i, j| raw.rows[i][j]);
    validate(&matrix, raw.kind).map_err(|e| in_file(path, &raw.lines, e))?;
    Ok(Chain {
        kind: raw.kind,
        states,
        matrix,
    })
}

fn check_states(path: &Path, states: Vec<String>, n: usize) -> Result<Vec<String>, MarkovError> {
    if states.len() != n {
        return Err(parse_error(
            path,
            None,
            format!("{} state names for a {n}×{n} matrix", states.len()),
        ));
    }
    for (i, name) in states.iter().enumerate() {
        if name.is_empty() || states[..i].contains(name) {
            return Err(parse_error(
                path,
                None,
                format!("state name `{name}` is empty or repeated; names must be unique"),
            ));
        }
    }
    Ok(states)
}

/// Attaches the file and the row's line to a validation error.
fn in_file(path: &Path, lines: &[usize], error: MarkovError) -> MarkovError {
    let row = match &error {
        MarkovError::NonFinite { row, .. }
        | MarkovError::Negative { row, .. }
        | MarkovError::RowSum { row, .. } => *row,
        _ => return error,
    };
    MarkovError::InFile {
        path: PathBuf::from(path),
        line: lines[row],
        source: Box::new(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn csv_with_header_is_a_dtmc() {
        let (_dir, path) = write(
            "p.csv",
            "sunny, cloudy, rainy\n0.5,0.3,0.2\n0.4,0.5,0.1\n# comment\n0.3,0.4,0.3\n",
        );
        let chain = read_chain(&path).unwrap();
        assert_eq!(chain.kind, ChainKind::Dtmc);
        assert_eq!(chain.states, ["sunny", "cloudy", "rainy"]);
        let pi = chain.stationary().unwrap().pi;
        assert!((pi[0] - 31.0 / 73.0).abs() < 1e-12);
    }

    #[test]
    fn csv_generator_is_a_ctmc() {
        let (_dir, path) = write("q.csv", "-2,2\n3,-3\n");
        let chain = read_chain(&path).unwrap();
        assert_eq!(chain.kind, ChainKind::Ctmc);
        assert_eq!(chain.states, ["0", "1"]);
        let pi = chain.stationary().unwrap().pi;
        assert!((pi[0] - 0.6).abs() < 1e-12);
    }

    #[test]
    fn csv_errors_name_file_and_line() {
        let (_dir, path) = write("bad.csv", "a,b\n0.5,0.5\n0.3,0.6\n");
        let err = read_chain(&path).unwrap_err();
        assert!(
            matches!(err, MarkovError::InFile { line: 3, .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("bad.csv, line 3: row 1 sums to 0.8999"),
            "{text}"
        );

        let (_dir, path) = write("word.csv", "0.5,0.5\n0.5,x\n");
        let text = read_chain(&path).unwrap_err().to_string();
        assert!(
            text.ends_with("word.csv, line 2: column 2: `x` is not a number"),
            "{text}"
        );

        let (_dir, path) = write("ragged.csv", "1,0\n0,1,0\n");
        let text = read_chain(&path).unwrap_err().to_string();
        assert!(text.contains("line 2: this row has 3 entries"), "{text}");
    }

    #[test]
    fn toml_dtmc_and_ctmc() {
        let (_dir, path) = write(
            "p.toml",
            "states = [\"a\", \"b\"]\nP = [[0, 1],\n     [1, 0]]\n",
        );
        let chain = read_chain(&path).unwrap();
        assert_eq!((chain.kind, chain.states.len()), (ChainKind::Dtmc, 2));
        assert_eq!(chain.stationary().unwrap().periodic, Some(2));

        let (_dir, path) = write("q.toml", "Q = [[-1.0, 1.0], [2.0, -2.0]]\n");
        assert_eq!(read_chain(&path).unwrap().kind, ChainKind::Ctmc);
    }

    #[test]
    fn toml_errors_name_file_and_line() {
        let (_dir, path) = write("bad.toml", "P = [\n  [0.5, 0.5],\n  [0.2, 0.7],\n]\n");
        let err = read_chain(&path).unwrap_err();
        assert!(
            matches!(err, MarkovError::InFile { line: 3, .. }),
            "{err:?}"
        );

        let (_dir, path) = write("typo.toml", "P = [[1.0]]\nstate = [\"a\"]\n");
        let text = read_chain(&path).unwrap_err().to_string();
        assert!(
            text.contains("typo.toml, line 2") && text.contains("state"),
            "{text}"
        );

        let (_dir, path) = write("none.toml", "states = [\"a\"]\n");
        assert!(matches!(read_chain(&path), Err(MarkovError::Parse { .. })));

        let (_dir, path) = write("names.toml", "states = [\"a\"]\nP = [[0, 1], [1, 0]]\n");
        let text = read_chain(&path).unwrap_err().to_string();
        assert!(text.contains("1 state names for a 2×2 matrix"), "{text}");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = read_chain(Path::new("/nonexistent/chain.csv")).unwrap_err();
        assert!(matches!(err, MarkovError::Io { .. }));
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/chain.csv")
        );
    }
}
