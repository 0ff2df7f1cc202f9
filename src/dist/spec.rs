//! [`DistSpec`]: the TOML form of a distribution, and [`DistSpec::build`],
//! which validates it into a [`Dist`] (reading the CSV file of an
//! `empirical` distribution).

use std::path::Path;

use super::error::keys_error;
use super::{Dist, DistError, family, positive};
use crate::units::{Quantity, QuantityKind};

/// Mirrors a TOML inline table like `{ dist = "gamma", mean = 0.015, cv = 0.8 }`.
///
/// Each family takes exactly one set of keys:
///
/// | `dist` | keys |
/// | --- | --- |
/// | `exponential` | `rate` \| `mean` |
/// | `constant` | `value` \| `mean` |
/// | `uniform` | `min` + `max` \| `mean` + `cv` |
/// | `erlang` | `k` + `rate` \| `k` + `mean` \| `mean` + `cv` |
/// | `gamma` | `shape` + `scale` \| `shape` + `rate` \| `mean` + `cv` |
/// | `lognormal` | `mu` + `sigma` \| `mean` + `cv` |
/// | `weibull` | `shape` + `scale` \| `mean` + `cv` |
/// | `hyperexponential` | `probs` + `rates` \| `probs` + `means` \| `mean` + `cv` |
/// | `pareto` | `shape` + `scale` \| `mean` + `cv` \| `mean` + `shape` |
/// | `empirical` | `file` + `column` |
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistSpec {
    /// Family name, e.g. `"gamma"`.
    pub dist: String,
    /// Mean, in the unit of the quantity.
    pub mean: Option<Quantity>,
    /// Coefficient of variation (standard deviation / mean).
    pub cv: Option<f64>,
    /// Rate (1/mean of a phase), e.g. `"900/s"` for times.
    pub rate: Option<Quantity>,
    /// The value of a `constant`.
    pub value: Option<Quantity>,
    /// Lower bound of a `uniform`.
    pub min: Option<Quantity>,
    /// Upper bound of a `uniform`.
    pub max: Option<Quantity>,
    /// Number of phases of an `erlang`.
    pub k: Option<u32>,
    /// Shape of a `gamma`, `weibull` or `pareto`.
    pub shape: Option<f64>,
    /// Scale of a `gamma`, `weibull` or `pareto`, in the unit of the quantity.
    pub scale: Option<Quantity>,
    /// Mean of the logarithm of a `lognormal`.
    pub mu: Option<f64>,
    /// Standard deviation of the logarithm of a `lognormal`.
    pub sigma: Option<f64>,
    /// Phase probabilities of a `hyperexponential`.
    pub probs: Option<Vec<f64>>,
    /// Phase rates of a `hyperexponential`.
    pub rates: Option<Vec<Quantity>>,
    /// Phase means of a `hyperexponential` (instead of `rates`).
    pub means: Option<Vec<Quantity>>,
    /// CSV file of an `empirical`, relative to the scenario file.
    pub file: Option<String>,
    /// Column of `file` holding the values.
    pub column: Option<String>,
}

fn read(key: &'static str, value: &Quantity, kind: QuantityKind) -> Result<f64, DistError> {
    value
        .to_base(kind)
        .map_err(|error| DistError::Unit { key, error })
}

fn load_column(path: &Path, column: &str) -> Result<Dist, DistError> {
    let values = super::column::read(path, column, |value| {
        (value < 0.0).then_some("is negative; values must be >= 0")
    })?
    .values;
    let file = path.display().to_string();
    if values.is_empty() {
        return Err(DistError::EmptyColumn {
            file,
            column: column.to_owned(),
        });
    }
    Dist::empirical(values, &format!("file={file:?}, column={column:?}"))
}

impl DistSpec {
    fn keys(&self) -> Vec<&'static str> {
        [
            ("mean", self.mean.is_some()),
            ("cv", self.cv.is_some()),
            ("rate", self.rate.is_some()),
            ("value", self.value.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("k", self.k.is_some()),
            ("shape", self.shape.is_some()),
            ("scale", self.scale.is_some()),
            ("mu", self.mu.is_some()),
            ("sigma", self.sigma.is_some()),
            ("probs", self.probs.is_some()),
            ("rates", self.rates.is_some()),
            ("means", self.means.is_some()),
            ("file", self.file.is_some()),
            ("column", self.column.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, present)| present.then_some(key))
        .collect()
    }

    /// Checks the keys and values and builds the distribution.
    ///
    /// `kind` says how strings with units are read: `Duration` for times
    /// (`mean = "15ms"`), `Bytes` for sizes (`mean = "4KiB"`). The `rate` and
    /// `rates` keys are rates of the same unit family: for `Duration` they are
    /// read as rates (`"900/s"`); for any other kind only plain numbers (per
    /// base unit) are accepted. `file` is relative to `base_dir`, the
    /// directory of the scenario file.
    ///
    /// # Errors
    ///
    /// An unknown family, keys that are not exactly one of the family's
    /// parameterizations, unreadable units, out-of-range parameters, or an
    /// unreadable empirical file.
    pub fn build(&self, kind: QuantityKind, base_dir: &Path) -> Result<Dist, DistError> {
        let (family, forms) = family(&self.dist)?;
        let keys = self.keys();
        if !forms
            .iter()
            .any(|form| form.len() == keys.len() && form.iter().all(|k| keys.contains(k)))
        {
            return Err(keys_error(family, forms, &keys));
        }
        let rate_kind = if kind == QuantityKind::Duration {
            QuantityKind::Rate
        } else {
            QuantityKind::Plain
        };
        let missing = || keys_error(family, forms, &keys);
        let get = |key: &'static str, value: &Option<Quantity>, kind| {
            read(key, value.as_ref().ok_or_else(missing)?, kind)
        };
        let all = |key: &'static str,
                   values: &Option<Vec<Quantity>>,
                   kind|
         -> Result<Vec<f64>, DistError> {
            values
                .as_ref()
                .ok_or_else(missing)?
                .iter()
                .map(|v| read(key, v, kind))
                .collect()
        };
        let mean = || get("mean", &self.mean, kind);
        let plain = |value: Option<f64>| value.ok_or_else(missing);
        match family {
            _ if keys == ["mean", "cv"] => Dist::with_mean_cv(family, mean()?, plain(self.cv)?),
            "exponential" if self.rate.is_some() => {
                Dist::exponential_rate(get("rate", &self.rate, rate_kind)?)
            }
            "exponential" => Dist::exponential(mean()?),
            "constant" if self.value.is_some() => Dist::constant(get("value", &self.value, kind)?),
            "constant" => Dist::constant(mean()?),
            "uniform" => Dist::uniform(get("min", &self.min, kind)?, get("max", &self.max, kind)?),
            "erlang" => {
                let k = self.k.ok_or_else(missing)?;
                match &self.rate {
                    Some(rate) => Dist::erlang(k, read("rate", rate, rate_kind)?),
                    None => Dist::erlang(k, f64::from(k) / positive(family, "mean", mean()?)?),
                }
            }
            "gamma" => {
                let shape = plain(self.shape)?;
                match &self.rate {
                    Some(rate) => Dist::gamma(
                        shape,
                        1.0 / positive(family, "rate", read("rate", rate, rate_kind)?)?,
                    ),
                    None => Dist::gamma(shape, get("scale", &self.scale, kind)?),
                }
            }
            "lognormal" => Dist::lognormal(plain(self.mu)?, plain(self.sigma)?),
            "weibull" => Dist::weibull(plain(self.shape)?, get("scale", &self.scale, kind)?),
            "hyperexponential" => {
                let probs = self.probs.as_deref().ok_or_else(missing)?;
                let rates = match &self.rates {
                    Some(_) => all("rates", &self.rates, rate_kind)?,
                    None => all("means", &self.means, kind)?
                        .into_iter()
                        .map(|m| positive(family, "means", m).map(|m| 1.0 / m))
                        .collect::<Result<_, _>>()?,
                };
                Dist::hyperexponential(probs, &rates)
            }
            "pareto" if self.mean.is_some() => Dist::pareto_mean_shape(mean()?, plain(self.shape)?),
            "pareto" => Dist::pareto(plain(self.shape)?, get("scale", &self.scale, kind)?),
            // empirical
            _ => {
                let file = self.file.as_deref().ok_or_else(missing)?;
                load_column(
                    &base_dir.join(file),
                    self.column.as_deref().ok_or_else(missing)?,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::tests::{assert_rel, error, spec_in};

    fn csv_dir(content: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("times.csv"), content).unwrap();
        dir
    }

    #[test]
    fn empirical_reads_a_column() {
        let dir = csv_dir("id,time\na,0.1\nb, 0.3\nc,\nd,0.2\n");
        let dist = spec_in(
            r#"dist = "empirical", file = "times.csv", column = "time""#,
            dir.path(),
        );
        let dist = dist.unwrap();
        let (mean, variance) = (0.2, (0.01 + 0.01) / 3.0);
        assert_rel(dist.mean(), mean, "mean");
        assert_rel(dist.variance(), variance, "variance");
        assert_rel(dist.cv(), variance.sqrt() / mean, "cv");
        assert!(dist.to_string().contains("n=3"), "{dist}");
        assert!(!dist.is_constant());
        assert!(Dist::empirical(vec![2.0, 2.0], "x").unwrap().is_constant());
    }

    #[test]
    fn unused_conflicting_and_missing_keys_list_the_accepted_forms() {
        let message = error(r#"dist = "exponential", mean = 1, cv = 1"#);
        assert_eq!(
            message,
            r#"dist = "exponential" got keys mean, cv; exponential takes exactly one of: rate | mean"#
        );
        assert!(error(r#"dist = "exponential", mean = 1, rate = 1"#).contains("keys mean, rate"));
        let missing = error(r#"dist = "gamma", mean = 1"#);
        assert!(
            missing.ends_with("shape + scale | shape + rate | mean + cv"),
            "{missing}"
        );
        assert!(error(r#"dist = "constant""#).contains("got no parameters"));
        assert!(error(r#"dist = "empirical", file = "x.csv""#).contains("file + column"));
        assert!(Dist::with_mean_cv("constant", 1.0, 0.5).is_err());
    }

    #[test]
    fn unknown_keys_are_rejected_by_serde() {
        let result = toml::from_str::<DistSpec>("dist = \"gamma\"\nmean = 1\ncvv = 0.5");
        assert!(result.unwrap_err().to_string().contains("cvv"));
    }

    #[test]
    fn unit_errors_name_the_key() {
        let message = error(r#"dist = "exponential", mean = "5 parsecs""#);
        assert!(
            message.starts_with(r#"mean: invalid duration "5 parsecs""#),
            "{message}"
        );
        assert!(error(r#"dist = "exponential", rate = "20ms""#).starts_with("rate: invalid rate"));
        assert!(
            error(r#"dist = "hyperexponential", probs = [1], rates = ["x"]"#).starts_with("rates:")
        );
        let bytes = DistSpec {
            rate: Some("900/s".into()),
            ..spec_of("exponential")
        };
        let message = bytes
            .build(QuantityKind::Bytes, Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(r#"rate: invalid number "900/s""#),
            "{message}"
        );
        let size = DistSpec {
            mean: Some("4KiB".into()),
            ..spec_of("exponential")
        };
        assert_rel(
            size.build(QuantityKind::Bytes, Path::new("."))
                .unwrap()
                .mean(),
            4096.0,
            "size",
        );
    }

    fn spec_of(dist: &str) -> DistSpec {
        toml::from_str(&format!("dist = {dist:?}")).unwrap()
    }

    #[test]
    fn empirical_errors_name_the_file_line_and_column() {
        let table = r#"dist = "empirical", file = "times.csv", column = "time""#;
        let run = |content: &str| {
            spec_in(table, csv_dir(content).path())
                .unwrap_err()
                .to_string()
        };
        let missing = spec_in(table, Path::new("/nonexistent"))
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("cannot read /nonexistent/times.csv"),
            "{missing}"
        );
        let column = run("id,latency\n1,0.5\n");
        assert!(column.ends_with(r#"has no column "time"; available columns: "id", "latency""#));
        assert!(
            run("time\n0.1\nfast\n").ends_with(r#"line 3, column "time": "fast" is not a number"#)
        );
        assert!(run("time\n-0.1\n").contains(r#"line 2, column "time": "-0.1" is negative"#));
        assert!(run("time\n0.1\nNaN\n").contains(r#""NaN" is not a finite number"#));
        assert!(run("time\n").ends_with(r#"column "time" has no values"#));
        assert!(run("time\n0\n0\n").contains("empirical mean = 0"));
        assert!(run("id,time\n1,0.1\n2\n").starts_with("cannot read"));
        assert!(Dist::empirical(vec![], "none").is_err());
        assert!(Dist::empirical(vec![1.0, f64::NAN], "nan").is_err());
    }
}
