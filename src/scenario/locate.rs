//! Where a key is: key paths, lines and `--set` arguments for error messages.
//!
//! [`Source`] indexes every key of the (possibly overridden) scenario text by
//! its *key path*: dotted keys, with the elements of an array of tables
//! addressed by their `name` (`producers.web.rate`), routes by their `to`
//! (`exchanges.events.routes.audit.weight`), and anything else by index
//! (`pattern.rates[1]`). Validation reports problems by key path; this module
//! turns a path, or the byte span of a `toml` error, into the line of the
//! user's file. When `--set` changed the text, lines are mapped back to the
//! original file by a line diff, so untouched keys keep their own line.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ErrorKind, ScenarioError, closest};

/// A `--set` override that was applied: its canonical key path and the
/// argument as the user wrote it.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Key path of the value that was set, in [`Source`] form.
    pub path: String,
    /// `KEY=VALUE` as given on the command line.
    pub arg: String,
}

/// One key of the document.
#[derive(Debug)]
struct Entry {
    path: String,
    key: Range<usize>,
    value: Range<usize>,
}

/// The scenario text with every key located.
#[derive(Debug)]
pub struct Source<'a> {
    file: &'a Path,
    entries: Vec<Entry>,
    /// Start offset of every line of the text.
    line_starts: Vec<usize>,
    /// Line of the text (0-based) -> line of the user's file (1-based).
    line_map: Vec<Option<usize>>,
    applied: Vec<Applied>,
}

impl<'a> Source<'a> {
    /// Parses `text` (the user's `original` text after `applied` overrides)
    /// and indexes its keys.
    pub fn new(
        file: &'a Path,
        original: &str,
        text: &str,
        applied: Vec<Applied>,
    ) -> Result<Self, ScenarioError> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_map = if original == text {
            (1..=text.lines().count() + 1).map(Some).collect()
        } else {
            line_map(original, text)
        };
        let mut source = Source {
            file,
            entries: Vec::new(),
            line_starts,
            line_map,
            applied,
        };
        let root = DeTable::parse(text).map_err(|e| {
            let line = e.span().and_then(|s| source.line_of_offset(s.start));
            ScenarioError {
                line,
                ..source.bare(ErrorKind::Syntax(e.message().trim().to_owned()))
            }
        })?;
        source.index_table("", root.get_ref());
        Ok(source)
    }

    /// An error at `key` (a key path), located at the key or, when the key
    /// is absent from the file, at its closest enclosing table.
    pub fn error(&self, key: &str, kind: ErrorKind) -> ScenarioError {
        self.error_at(key, key, kind)
    }

    /// Like [`Source::error`], but located at `lookup` (for example the
    /// index path `queues[3]` of the second of two queues with one name).
    pub fn error_at(&self, key: &str, lookup: &str, kind: ErrorKind) -> ScenarioError {
        let mut probe = lookup;
        let line = loop {
            if let Some(entry) = self.entries.iter().find(|e| e.path == probe) {
                break self.line_of_offset(entry.key.start);
            }
            match probe.rfind(['.', '[']) {
                Some(cut) => probe = &probe[..cut],
                None => break None,
            }
        };
        let set = self
            .applied
            .iter()
            .find(|a| is_within(key, &a.path) || is_within(&a.path, key))
            .map(|a| a.arg.clone());
        ScenarioError {
            line,
            set,
            key: (!key.is_empty()).then(|| key.to_owned()),
            ..self.bare(kind)
        }
    }

    /// Translates a deserialization error of the `toml` crate.
    pub fn toml_error(&self, err: &toml::de::Error) -> ScenarioError {
        let message = err.message().trim();
        let path = err
            .span()
            .and_then(|span| self.path_at(&span))
            .unwrap_or_default();
        let kind = classify(message);
        self.error(&path, kind)
    }

    fn bare(&self, kind: ErrorKind) -> ScenarioError {
        ScenarioError::file(self.file, kind)
    }

    fn line_of_offset(&self, offset: usize) -> Option<usize> {
        let index = self.line_starts.partition_point(|&s| s <= offset);
        self.line_map.get(index.checked_sub(1)?).copied().flatten()
    }

    /// The key path of the key whose name is exactly `span`, or else of the
    /// innermost value that contains it.
    fn path_at(&self, span: &Range<usize>) -> Option<String> {
        let by_key = self.entries.iter().rev().find(|e| e.key == *span);
        let by_value = || {
            self.entries
                .iter()
                .filter(|e| {
                    e.value.start <= span.start && span.start < e.value.end.max(e.value.start + 1)
                })
                .min_by_key(|e| (e.value.len(), std::cmp::Reverse(e.path.len())))
        };
        by_key.or_else(by_value).map(|e| e.path.clone())
    }

    fn index_table(&mut self, prefix: &str, table: &DeTable<'_>) {
        for (key, value) in table {
            let path = join(prefix, key.get_ref());
            self.entries.push(Entry {
                path: path.clone(),
                key: key.span(),
                value: value.span(),
            });
            self.index_value(&path, key.get_ref(), value);
        }
    }

    fn index_value(&mut self, path: &str, key: &str, value: &Spanned<DeValue<'_>>) {
        match value.get_ref() {
            DeValue::Table(table) => self.index_table(path, table),
            DeValue::Array(array) => {
                for (index, element) in array.iter().enumerate() {
                    let by_index = format!("{path}[{index}]");
                    let named = match element.get_ref() {
                        DeValue::Table(t) => element_name(key, t).map(|n| join(path, &n)),
                        _ => None,
                    };
                    for p in named.iter().chain(std::iter::once(&by_index)) {
                        self.entries.push(Entry {
                            path: p.clone(),
                            key: element.span(),
                            value: element.span(),
                        });
                    }
                    self.index_value(named.as_deref().unwrap_or(&by_index), key, element);
                }
            }
            _ => {}
        }
    }
}

/// How an element of the array `array_key` is addressed in key paths:
/// by its `name`, or by its `to` for route lists.
pub fn element_name(array_key: &str, table: &DeTable<'_>) -> Option<String> {
    let wanted = if matches!(array_key, "routes" | "next") {
        "to"
    } else {
        "name"
    };
    table
        .iter()
        .find(|(k, _)| k.get_ref() == wanted)
        .and_then(|(_, v)| match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => None,
        })
}

/// `prefix.key`, or `key` at the top level.
pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Whether key path `inner` is `outer` or lies inside it.
fn is_within(inner: &str, outer: &str) -> bool {
    !outer.is_empty()
        && inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// Turns a serde message into an [`ErrorKind`] with the valid choices.
fn classify(message: &str) -> ErrorKind {
    let quoted =
        |s: &str| -> Vec<String> { s.split('`').skip(1).step_by(2).map(str::to_owned).collect() };
    let split = |s: &str| -> (String, Vec<String>) {
        let (head, tail) = s.split_once(", expected").unwrap_or((s, ""));
        let word = quoted(head).into_iter().next().unwrap_or_default();
        (word, quoted(tail))
    };
    if message.starts_with("unknown field") {
        let (word, valid) = split(message);
        let suggestion = closest(&word, valid.iter().map(String::as_str));
        ErrorKind::UnknownKey { suggestion, valid }
    } else if message.starts_with("unknown variant") {
        let (value, valid) = split(message);
        let suggestion = closest(&value, valid.iter().map(String::as_str));
        ErrorKind::UnknownChoice {
            value,
            suggestion,
            valid,
        }
    } else if message.starts_with("missing field") {
        let key = quoted(message).into_iter().next().unwrap_or_default();
        ErrorKind::MissingKey {
            key,
            hint: String::new(),
        }
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let readable = [
            ("invalid type: ", ""),
            ("invalid value: ", ""),
            ("expected u32", "expected a whole number >= 0"),
            ("expected u64", "expected a whole number >= 0"),
            ("expected i64", "expected a whole number"),
            ("expected f64", "expected a number"),
        ];
        let text = (readable.iter()).fold(message.to_owned(), |m, (from, to)| m.replace(from, to));
        ErrorKind::WrongType(without_type_names(&text))
    } else if message.starts_with("invalid length") && message.contains("struct Raw") {
        // An array where a table belongs: serde reads a struct from a sequence.
        ErrorKind::WrongType("an array, expected a table".to_owned())
    } else {
        ErrorKind::InvalidValue(message.to_owned())
    }
}

/// Maps each line of `new` (0-based) to the line of `old` (1-based) it came
/// from: lines common to both (longest common subsequence), and lines
/// changed in place (a run of changed lines as long as the run it replaced).
/// Lines inserted by an override map to `None`.
fn line_map(old: &str, new: &str) -> Vec<Option<usize>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    // Matched pairs (old, new), bracketed by sentinels at both ends.
    let mut pairs: Vec<(usize, usize)> = (0..prefix).map(|i| (i, i)).collect();
    if am.len().saturating_mul(bm.len()) <= 4_000_000 {
        let w = bm.len() + 1;
        let mut lcs = vec![0u32; (am.len() + 1) * w];
        for i in (0..am.len()).rev() {
            for j in (0..bm.len()).rev() {
                lcs[i * w + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < am.len() && j < bm.len() {
            if am[i] == bm[j] {
                pairs.push((prefix + i, prefix + j));
                (i, j) = (i + 1, j + 1);
            } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
    pairs.extend((0..suffix).map(|k| (a.len() - suffix + k, b.len() - suffix + k)));
    let mut map = vec![None; b.len() + 1];
    let mut previous = (0, 0);
    for &(i, j) in pairs.iter().chain(std::iter::once(&(a.len(), b.len()))) {
        if i - previous.0 == j - previous.1 {
            for k in 0..(j - previous.1) {
                map[previous.1 + k] = Some(previous.0 + k + 1);
            }
        }
        if j < b.len() {
            map[j] = Some(i + 1);
        }
        previous = (i + 1, j + 1);
    }
    map
}

/// `text` with serde's `struct RawSimulation` (an internal type) said as
/// what the user writes: `a table`.
fn without_type_names(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("struct Raw") {
        out.push_str(&rest[..at]);
        out.push_str("a table");
        let name = &rest[at + "struct ".len()..];
        let end = name
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(name.len());
        rest = &name[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_map_keeps_untouched_lines_and_maps_changed_ones() {
        let old = "a = 1\n[t]\nb = 2\nc = 3\n";
        let new = "a = 1\n[t]\nb = 9\nx = 0\nc = 3\n";
        assert_eq!(
            line_map(old, new),
            vec![Some(1), Some(2), None, None, Some(4), None]
        );
        let changed = "a = 1\n[t]\nb = 9\nc = 3\n";
        assert_eq!(
            line_map(old, changed),
            vec![Some(1), Some(2), Some(3), Some(4), None]
        );
    }

    #[test]
    fn paths_address_array_elements_by_name_and_routes_by_target() {
        let text = "[[queues]]\nname = \"orders\"\n[queues.consumers]\ncount = 2\n\
                    [[exchanges]]\nname = \"e\"\nroutes = [{ to = \"orders\", weight = 2 }]\n";
        let source = Source::new(Path::new("s.toml"), text, text, Vec::new()).unwrap();
        let err = source.error("queues.orders.consumers.count", ErrorKind::Unsupported);
        assert_eq!(err.line, Some(4));
        let err = source.error("exchanges.e.routes.orders.weight", ErrorKind::Unsupported);
        assert_eq!(err.line, Some(7));
        let err = source.error("queues.orders.consumers.service", ErrorKind::Unsupported);
        assert_eq!(err.line, Some(3), "falls back to the enclosing table");
    }

    #[test]
    fn serde_messages_become_kinds_with_suggestions() {
        match classify("unknown field `cout`, expected `count` or `service`") {
            ErrorKind::UnknownKey { suggestion, valid } => {
                assert_eq!(suggestion.as_deref(), Some("count"));
                assert_eq!(valid, ["count", "service"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify("missing field `name`"),
            ErrorKind::MissingKey { key, .. } if key == "name"
        ));
    }
}
