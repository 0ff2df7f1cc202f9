//! Errors of scenario loading: where the problem is and what would be valid.
//!
//! A [`ScenarioError`] always names the file; it adds the line where the
//! key is in the file, the `--set` override involved if any, and the key
//! path with arrays of tables addressed by name (`producers.web.rate`).
//! Its [`ErrorKind`] says what is wrong and, wherever a finite set of
//! choices exists, lists them with the closest one to what was written.

use std::fmt;
use std::path::PathBuf;

/// A scenario that cannot be simulated, with its position in the input.
#[derive(Debug)]
pub struct ScenarioError {
    /// The scenario file (as given by the caller).
    pub file: PathBuf,
    /// 1-based line in the file, where known.
    pub line: Option<usize>,
    /// The `--set KEY=VALUE` argument involved, if any.
    pub set: Option<String>,
    /// Dotted key path (`queues.orders.consumers.count`), where one applies.
    pub key: Option<String>,
    /// What is wrong (boxed to keep `Result`s small).
    pub kind: Box<ErrorKind>,
}

/// What is wrong with a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Read(#[source] std::io::Error),
    /// The file is not UTF-8 text.
    #[error("not valid UTF-8 text (byte {byte}); save the scenario as UTF-8")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        byte: usize,
    },
    /// The file is not valid TOML.
    #[error("invalid TOML: {0}")]
    Syntax(String),
    /// A key that the scenario format does not have.
    #[error("unknown key{}", choices(suggestion, valid, "valid"))]
    UnknownKey {
        /// Closest valid key, if one is close enough.
        suggestion: Option<String>,
        /// Every key valid at that place.
        valid: Vec<String>,
    },
    /// A value outside a fixed set of choices (`kind`, `overflow`, ...).
    #[error("unknown value `{value}`{}", choices(suggestion, valid, "valid"))]
    UnknownChoice {
        /// What was written.
        value: String,
        /// Closest valid choice.
        suggestion: Option<String>,
        /// Every valid choice.
        valid: Vec<String>,
    },
    /// A required key is absent.
    #[error("missing required key `{key}`{hint}")]
    MissingKey {
        /// The absent key.
        key: String,
        /// How to fix it, starting with "; " (may be empty).
        hint: String,
    },
    /// A value of the wrong type, or a number out of the type's range.
    #[error("wrong type: {0}")]
    WrongType(String),
    /// A value that is well-typed but meaningless (negative time, NaN, ...).
    #[error("{0}")]
    InvalidValue(String),
    /// A reference (`to`, `next`, `dead_letter`, `initial`) to a node that does not exist.
    #[error("unknown {expected} `{name}`{}", choices(suggestion, known, "known"))]
    UnknownNode {
        /// The name that was referenced.
        name: String,
        /// What kind of node was expected ("queue", "queue or exchange").
        expected: &'static str,
        /// Closest existing name.
        suggestion: Option<String>,
        /// Every node of that kind.
        known: Vec<String>,
    },
    /// Two nodes with one name (queues, exchanges and topics share a namespace).
    #[error(
        "duplicate name `{name}`: already used by `{first}`; \
         queues, exchanges and topics share one namespace, rename one"
    )]
    DuplicateName {
        /// The repeated name.
        name: String,
        /// Key path of the first node with that name.
        first: String,
    },
    /// A key that is part of the format but not simulated yet in this
    /// place (retries and batches of a topic's consumers).
    #[error("not supported by this version of queuesim yet (planned); remove it to run")]
    Unsupported,
    /// Messages entering these nodes can never be delivered nor parked.
    #[error(
        "routing cycle with no exit through {}: messages that reach it are never \
         delivered nor parked; give one queue a consumer group without `next`, \
         or route out of the loop",
        names(nodes)
    )]
    NoExit {
        /// The nodes that cannot reach a delivering or parking queue.
        nodes: Vec<String>,
    },
    /// A loop made of exchanges only: messages would circulate in zero time.
    #[error(
        "routing loop through exchanges only ({}): messages would circulate \
         without ever reaching a queue; route one of them to a queue",
        nodes.join(" -> ")
    )]
    ExchangeLoop {
        /// The loop, first node repeated at the end.
        nodes: Vec<String>,
    },
    /// A node that no message can ever reach.
    #[error(
        "unreachable: no producer, route, `next`, `dead_letter` or initial backlog \
         leads here; route something to it or remove it"
    )]
    Unreachable,
    /// Nothing ever produces a message.
    #[error(
        "no message source: add a [[producers]] element or an initial backlog \
         (`simulation.initial = {{ queue = count }}`)"
    )]
    NoSource,
    /// A `--set` argument that is not `KEY=VALUE` or whose KEY cannot be resolved.
    #[error("bad --set `{arg}`: {reason}")]
    BadOverride {
        /// The argument as given.
        arg: String,
        /// Why it cannot be applied.
        reason: String,
    },
}

impl ScenarioError {
    /// An error about the whole file, with no line or key.
    pub fn file(file: impl Into<PathBuf>, kind: ErrorKind) -> Self {
        ScenarioError {
            file: file.into(),
            line: None,
            set: None,
            key: None,
            kind: Box::new(kind),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(set) = &self.set {
            write!(f, " (with --set {set})")?;
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ScenarioError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.kind {
            ErrorKind::Read(e) => Some(e),
            _ => None,
        }
    }
}

/// The candidate closest to `word` (Jaro-Winkler), if it is close enough to
/// be a plausible typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_owned())
}

/// "; did you mean `x`? (valid: a, b, c)", for the messages above.
fn choices(suggestion: &Option<String>, valid: &[String], label: &str) -> String {
    let mut out = String::new();
    if let Some(s) = suggestion {
        out.push_str(&format!("; did you mean `{s}`?"));
    }
    if valid.is_empty() {
        out.push_str(&format!(" ({label}: none)"));
    } else {
        out.push_str(&format!(" ({label}: {})", valid.join(", ")));
    }
    out
}

/// "`a`, `b` and `c`".
fn names(nodes: &[String]) -> String {
    let quoted: Vec<String> = nodes.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_key_and_choices() {
        let err = ScenarioError {
            file: "scenarios/x.toml".into(),
            line: Some(12),
            set: None,
            key: Some("queues.orders.consumers.cout".into()),
            kind: Box::new(ErrorKind::UnknownKey {
                suggestion: closest("cout", ["count", "service"]),
                valid: vec!["count".into(), "service".into()],
            }),
        };
        assert_eq!(
            err.to_string(),
            "scenarios/x.toml:12: `queues.orders.consumers.cout`: unknown key; \
             did you mean `count`? (valid: count, service)"
        );
    }

    #[test]
    fn closest_ignores_unrelated_words() {
        assert_eq!(closest("zzzz", ["count", "service"]), None);
        assert_eq!(
            closest("servce", ["count", "service"]).as_deref(),
            Some("service")
        );
    }

    #[test]
    fn names_are_listed_naturally() {
        assert_eq!(names(&["a".into()]), "`a`");
        assert_eq!(
            names(&["a".into(), "b".into(), "c".into()]),
            "`a`, `b` and `c`"
        );
    }
}
