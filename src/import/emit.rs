//! Writing an imported scenario: TOML tables whose every value carries a
//! comment naming its source, and the formatting of times, rates and
//! strings as the scenario format reads them.

use std::fmt::Write;

/// One line of a table: `key = value  # comment`, or a comment alone.
#[derive(Debug, Clone)]
enum Line {
    Entry {
        key: String,
        value: String,
        comment: Option<String>,
    },
    Comment(String),
}

/// A TOML table (`[simulation]`, `[[queues]]`, ...) or the top level.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Option<String>,
    lines: Vec<Line>,
}

/// Column at which comments after values start, when the value is short.
const COMMENT_COLUMN: usize = 32;

impl Table {
    /// A table with header `header` (`"[[queues]]"`, `"[queues.consumers]"`).
    pub fn new(header: &str) -> Self {
        Self {
            header: Some(header.to_owned()),
            lines: Vec::new(),
        }
    }

    /// The top level of the file (no header).
    pub fn top() -> Self {
        Self::default()
    }

    /// Adds `key = value`; `value` is TOML already (see [`string`], [`seconds`], ...).
    pub fn entry(&mut self, key: &str, value: impl Into<String>, comment: &str) -> &mut Self {
        self.lines.push(Line::Entry {
            key: key.to_owned(),
            value: value.into(),
            comment: (!comment.is_empty()).then(|| comment.to_owned()),
        });
        self
    }

    /// Adds a comment line.
    pub fn comment(&mut self, text: &str) -> &mut Self {
        self.lines.push(Line::Comment(text.to_owned()));
        self
    }

    /// Whether the table has no entry (comments aside).
    pub fn is_empty(&self) -> bool {
        !self.lines.iter().any(|l| matches!(l, Line::Entry { .. }))
    }

    fn render(&self, out: &mut String) {
        if let Some(header) = &self.header {
            let _ = writeln!(out, "{header}");
        }
        for line in &self.lines {
            match line {
                Line::Comment(text) => comment_lines(out, text),
                Line::Entry {
                    key,
                    value,
                    comment,
                } => {
                    let assignment = format!("{} = {value}", bare_key(key));
                    match comment {
                        None => {
                            let _ = writeln!(out, "{assignment}");
                        }
                        Some(c) => {
                            let last = assignment.rsplit('\n').next().unwrap_or("");
                            let pad = COMMENT_COLUMN.saturating_sub(last.chars().count()).max(1);
                            let _ = writeln!(out, "{assignment}{:pad$}# {}", "", one_line(c));
                        }
                    }
                }
            }
        }
    }
}

/// A whole file: a comment header, then tables in order.
#[derive(Debug, Clone, Default)]
pub struct Document {
    header: Vec<String>,
    tables: Vec<Table>,
}

impl Document {
    /// Adds a comment line at the top of the file.
    pub fn header(&mut self, text: &str) {
        self.header.push(text.to_owned());
    }

    /// Appends a table.
    pub fn push(&mut self, table: Table) {
        self.tables.push(table);
    }

    /// The TOML text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for text in &self.header {
            comment_lines(&mut out, text);
        }
        for table in &self.tables {
            if !out.is_empty() {
                out.push('\n');
            }
            table.render(&mut out);
        }
        out
    }
}

/// Writes `text` as `# ` comment lines, one per line of `text`.
fn comment_lines(out: &mut String, text: &str) {
    for line in text.lines() {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
}

/// A comment that fits on its line: line breaks become spaces.
fn one_line(text: &str) -> String {
    text.split('\n').collect::<Vec<_>>().join(" ")
}

/// A key as TOML writes it: bare when it may be, quoted otherwise.
pub fn bare_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { key.to_owned() } else { string(key) }
}

/// A TOML basic string.
pub fn string(text: &str) -> String {
    toml_edit::Value::from(text).to_string().trim().to_owned()
}

/// A number with at most 4 significant digits, no exponent for ordinary
/// magnitudes: `151.5`, `0.02`, `20`.
pub fn number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".to_owned();
    }
    let digits = 3 - x.abs().log10().floor() as i32;
    if !(-6..=12).contains(&digits) {
        return format!("{x:.3e}");
    }
    let rounded: f64 = match digits >= 0 {
        true => (format!("{x:.prec$}", prec = digits as usize))
            .parse()
            .unwrap_or(x),
        false => (x / 10f64.powi(-digits)).round() * 10f64.powi(-digits),
    };
    let mut text = format!("{rounded}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    text
}

/// A duration as a scenario string: `"2s"`, `"151.5ms"`, `"250us"`.
pub fn seconds(s: f64) -> String {
    let text = if s >= 1.0 {
        format!("{}s", number(s))
    } else if s >= 1e-3 {
        format!("{}ms", number(s * 1e3))
    } else {
        format!("{}us", number(s * 1e6))
    };
    string(&text)
}

/// A rate as a scenario string: `"20/s"`.
pub fn rate(per_s: f64) -> String {
    string(&format!("{}/s", number(per_s)))
}

/// An exponential service-time distribution of mean `mean_s`.
pub fn exponential(mean_s: f64) -> String {
    format!("{{ dist = \"exponential\", mean = {} }}", seconds(mean_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(number(151.515), "151.5");
        assert_eq!(number(20.0), "20");
        assert_eq!(number(0.0200004), "0.02");
        assert_eq!(number(13.2), "13.2");
        assert_eq!(number(123456.0), "123500");
        assert_eq!(seconds(2.0), "\"2s\"");
        assert_eq!(seconds(0.1515151), "\"151.5ms\"");
        assert_eq!(seconds(0.00025), "\"250us\"");
        assert_eq!(rate(13.2), "\"13.2/s\"");
    }

    #[test]
    fn keys_are_quoted_when_they_must_be() {
        assert_eq!(bare_key("orders-eu"), "orders-eu");
        assert_eq!(bare_key("tasks.dead"), "\"tasks.dead\"");
        assert_eq!(string("a\"b"), "'a\"b'");
    }

    #[test]
    fn comments_follow_their_values() {
        let mut doc = Document::default();
        doc.header("imported\n");
        let mut queue = Table::new("[[queues]]");
        queue.entry("name", string("orders"), "").entry(
            "ttl",
            seconds(2.0),
            "message-ttl from policy \"ttl\"",
        );
        doc.push(queue);
        let text = doc.render();
        assert_eq!(
            text,
            "# imported\n\n[[queues]]\nname = \"orders\"\nttl = \"2s\"                      # message-ttl from policy \"ttl\"\n"
        );
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["queues"][0]["ttl"].as_str(), Some("2s"));
    }
}
