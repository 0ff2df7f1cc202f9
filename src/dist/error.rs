//! [`DistError`]: why a distribution could not be built, with messages
//! that name the key, the file and line, and the valid choices.

use super::FAMILIES;
use super::column::ColumnError;
use crate::units::UnitError;

/// Why a distribution could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DistError {
    /// `dist` names no known family.
    #[error("unknown distribution {name:?}{}; valid: {}", did_you_mean(*.suggestion), family_names())]
    UnknownFamily {
        /// The name as given.
        name: String,
        /// The closest valid name, if any is close.
        suggestion: Option<&'static str>,
    },
    /// The keys given are not exactly one of the family's parameterizations.
    #[error("dist = {family:?} got {given}; {family} takes exactly one of: {accepted}")]
    Keys {
        /// The family.
        family: &'static str,
        /// The keys given, e.g. "keys mean, rate".
        given: String,
        /// The accepted sets of keys, e.g. "rate | mean".
        accepted: String,
    },
    /// A value with a unit could not be read.
    #[error("{key}: {error}")]
    Unit {
        /// The key holding the value.
        key: &'static str,
        /// What was wrong with it.
        error: UnitError,
    },
    /// A parameter is out of its valid range.
    #[error("{family} {param} = {value} is invalid: {requirement}")]
    Param {
        /// The family.
        family: &'static str,
        /// The parameter.
        param: &'static str,
        /// Its value (in base units).
        value: f64,
        /// What a valid value looks like.
        requirement: &'static str,
    },
    /// An Erlang distribution was asked for a cv that is not 1/sqrt(k).
    #[error(
        "erlang needs 1/cv^2 to be a whole number of phases k, but cv = {cv} gives \
         1/cv^2 = {phases:.6}; use cv = {suggested_cv:.6} (k = {suggested_k}), or \
         dist = \"gamma\", which takes any cv"
    )]
    ErlangCv {
        /// The cv given.
        cv: f64,
        /// 1/cv^2.
        phases: f64,
        /// The nearest whole number of phases.
        suggested_k: u32,
        /// The cv of that many phases.
        suggested_cv: f64,
    },
    /// The file of an empirical distribution could not be read: not CSV,
    /// no such column, or a cell that is not a finite number >= 0.
    #[error(transparent)]
    Column(#[from] ColumnError),
    /// The column has no values.
    #[error("{file}: column {column:?} has no values")]
    EmptyColumn {
        /// The file.
        file: String,
        /// The column.
        column: String,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean {s:?}?)"))
}

pub(super) fn family_names() -> String {
    FAMILIES.map(|(name, _)| name).join(", ")
}

/// The error for keys that are not exactly one of `forms`.
pub(super) fn keys_error(family: &'static str, forms: &[&[&str]], given: &[&str]) -> DistError {
    let given = if given.is_empty() {
        "no parameters".to_owned()
    } else {
        format!("keys {}", given.join(", "))
    };
    let accepted = forms
        .iter()
        .map(|form| form.join(" + "))
        .collect::<Vec<_>>()
        .join(" | ");
    DistError::Keys {
        family,
        given,
        accepted,
    }
}
