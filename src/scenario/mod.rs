//! Scenario files: from TOML text (plus `--set` overrides) to a validated
//! [`Model`], or an error that names the file, line, key and the fix.
//!
//! Loading runs in stages, each in its own module:
//!
//! 1. bytes to text (UTF-8 is required) and `--set KEY=VALUE` edits applied
//!    to the document (`overrides`), keeping the file's layout;
//! 2. the text is deserialized into structs that mirror the file
//!    (`raw`); unknown keys and wrong types stop here;
//! 3. the raw structs become the [`Model`] (`validate`): defaults, units,
//!    distributions, names resolved to indices, ranges checked;
//! 4. the routing graph is checked (`graph`): a message source exists,
//!    every node is reachable and has an exit;
//! 5. the traffic equations (`traffic`) give each queue's offered load;
//!    an unstable unbounded queue becomes a warning in [`Model::warnings`].
//!
//! `describe` renders the result for `queuesim validate`.
//!
//! # Examples
//!
//! ```no_run
//! let model = queuesim::scenario::load(
//!     std::path::Path::new("scenarios/quickstart.toml"),
//!     &["queues.orders.consumers.count=12".to_owned()],
//! )?;
//! println!("{}", queuesim::scenario::describe(&model));
//! # Ok::<(), queuesim::scenario::ScenarioError>(())
//! ```

mod arrivals;
mod bindings;
mod describe;
mod error;
mod graph;
mod limits;
mod locate;
mod overrides;
mod placeholders;
mod raw;
mod topics;
mod traffic;
mod validate;

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

use std::path::Path;

use crate::model::Model;

pub use bindings::topic_matches;
pub use describe::describe;
pub use error::{ErrorKind, ScenarioError};
pub use limits::MAX_NODES;
pub use traffic::{QueueLoad, Traffic, max_load, traffic};

/// Reads the scenario at `path`, applies `overrides` (`KEY=VALUE` strings
/// as given to `--set`) and validates it.
///
/// # Errors
///
/// A [`ScenarioError`] if the file cannot be read, is not UTF-8, is not
/// valid TOML, or describes a system that cannot be simulated.
pub fn load(path: &Path, overrides: &[String]) -> Result<Model, ScenarioError> {
    let bytes = crate::input::read(path, crate::input::MAX_INPUT_BYTES)
        .map_err(|e| ScenarioError::file(path, ErrorKind::Read(e)))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let byte = e.valid_up_to();
        let line = bytes[..byte].iter().filter(|&&b| b == b'\n').count() + 1;
        ScenarioError {
            line: Some(line),
            ..ScenarioError::file(path, ErrorKind::NotUtf8 { byte })
        }
    })?;
    from_str(text, path, overrides)
}

/// Validates scenario `text`. `origin` names the file in messages, gives
/// the default scenario name (its stem) and the directory that relative
/// file paths (for example empirical distributions) are resolved against.
///
/// # Errors
///
/// As [`load`], except for reading.
pub fn from_str(text: &str, origin: &Path, overrides: &[String]) -> Result<Model, ScenarioError> {
    let (edited, applied) = if overrides.is_empty() {
        (text.to_owned(), Vec::new())
    } else {
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            let line = (e.span()).map(|s| {
                let before = &text.as_bytes()[..s.start.min(text.len())];
                before.iter().filter(|&&b| b == b'\n').count() + 1
            });
            ScenarioError {
                line,
                ..ScenarioError::file(origin, ErrorKind::Syntax(e.message().trim().to_owned()))
            }
        })?;
        let applied = overrides
            .iter()
            .map(|arg| {
                overrides::apply(&mut doc, arg).map_err(|kind| ScenarioError::file(origin, kind))
            })
            .collect::<Result<Vec<_>, _>>()?;
        (doc.to_string(), applied)
    };
    let src = locate::Source::new(origin, text, &edited, applied)?;
    let raw: raw::RawScenario = toml::from_str(&edited).map_err(|e| src.toml_error(&e))?;
    let base_dir = origin
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    limits::check_size(&raw, &src)?;
    let mut model = validate::build(&raw, &src, origin, base_dir)?;
    limits::check_budget(&model, &src)?;
    graph::check(&model, &src)?;
    model.warnings.extend(traffic::warnings(&model));
    model.warnings.extend(placeholders::warnings(text));
    Ok(model)
}
