//! Scenarios written from a running system: `queuesim import`.
//!
//! Each broker has its own module that reads what the broker exports and
//! writes a scenario as commented TOML ([`emit`]):
//!
//! - [`rabbitmq`]: a definitions export (`rabbitmqctl export_definitions`,
//!   `/api/definitions`), with policies and operator policies applied as
//!   RabbitMQ applies them ([`rabbitmq::policies`]), and optionally the
//!   management API's `/api/queues` (rates, consumers, backlogs) and
//!   `/api/consumers` (prefetch counts);
//! - [`kafka`]: the text of `kafka-topics.sh --describe` and
//!   `kafka-consumer-groups.sh --describe`, once or twice (rates).
//!
//! Every value written carries a comment naming its source. A value
//! inferred from others is marked `ESTIMATED`; one the input does not give
//! at all is written as a placeholder marked `PLACEHOLDER`, which
//! `queuesim validate` lists as a warning until the user replaces it.
//! What cannot be expressed in a scenario is returned as
//! [`Imported::notes`], for the command to print on stderr.

pub mod emit;
mod json;
pub mod kafka;
pub mod output;
pub mod rabbitmq;

use std::path::{Path, PathBuf};

/// The comment mark of a value the user must fill in; `queuesim validate`
/// warns about every line that carries it.
pub const PLACEHOLDER: &str = "PLACEHOLDER";

/// The comment mark of a value inferred from other measurements.
pub const ESTIMATED: &str = "ESTIMATED";

/// The comment at the top of every imported scenario that explains the marks.
const LEGEND: &str = "Each value names its source. An inferred value is marked ESTIMATED; a value\n\
                      the input does not give is marked PLACEHOLDER: replace it and delete the\n\
                      mark, or `queuesim validate` keeps listing it.";

/// One written scenario.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The scenario's `name` (a file stem for it, too).
    pub name: String,
    /// The scenario, as TOML text with comments.
    pub toml: String,
    /// What could not be imported, or was imported only in part, one
    /// sentence each.
    pub notes: Vec<String>,
}

/// Why an import failed: bad input, exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A file does not have the expected content.
    #[error("{}: {location}: {problem}", file.display())]
    Malformed {
        /// The file.
        file: PathBuf,
        /// Where: `line 7`, `line 3, column 12` or `JSON path $.queues[2].name`.
        location: String,
        /// What was found and what was expected.
        problem: String,
    },
    /// The inputs do not fit together, or an option names nothing.
    #[error("{0}")]
    Inputs(String),
}

impl ImportError {
    pub(crate) fn malformed(file: &Path, location: String, problem: impl Into<String>) -> Self {
        Self::Malformed {
            file: file.to_owned(),
            location,
            problem: problem.into(),
        }
    }
}

/// Reads a text file of at most [`crate::input::MAX_INPUT_BYTES`].
pub(crate) fn read_text(path: &Path) -> Result<String, ImportError> {
    crate::input::read_text(path, crate::input::MAX_INPUT_BYTES).map_err(|source| {
        ImportError::Read {
            file: path.to_owned(),
            source,
        }
    })
}

/// The last component of `path`, for comments.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A scenario name made of `prefix` and `part`: letters, digits, `-`, `_`
/// and `.` kept, anything else replaced by `_`.
pub(crate) fn scenario_name(prefix: &str, part: &str) -> String {
    let cleaned: String = part
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('_');
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        prefix.to_owned()
    } else {
        format!("{prefix}_{cleaned}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_are_one_folder_name() {
        assert_eq!(scenario_name("rabbitmq", "/"), "rabbitmq");
        assert_eq!(scenario_name("rabbitmq", "shop"), "rabbitmq_shop");
        assert_eq!(scenario_name("rabbitmq", "a/b c"), "rabbitmq_a_b_c");
        assert_eq!(scenario_name("rabbitmq", ".."), "rabbitmq");
    }
}
