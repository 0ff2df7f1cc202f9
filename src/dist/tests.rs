use std::path::Path;

use super::error::family_names;
use super::*;
use crate::units::QuantityKind;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use statrs::function::gamma::gamma;

const TOLERANCE: f64 = 1e-9;

pub(super) fn spec(table: &str) -> Result<Dist, DistError> {
    spec_in(table, Path::new("."))
}

pub(super) fn spec_in(table: &str, dir: &Path) -> Result<Dist, DistError> {
    #[derive(serde::Deserialize)]
    struct Row {
        d: DistSpec,
    }
    let row: Row = toml::from_str(&format!("d = {{ {table} }}")).unwrap();
    row.d.build(QuantityKind::Duration, dir)
}

pub(super) fn assert_rel(actual: f64, expected: f64, what: &str) {
    let error = (actual - expected).abs() / expected.abs().max(f64::MIN_POSITIVE);
    assert!(error <= TOLERANCE, "{what}: {actual} != {expected}");
}

fn assert_moments(table: &str, mean: f64, cv: f64) -> Dist {
    let dist = spec(table).unwrap_or_else(|e| panic!("{table}: {e}"));
    assert_rel(dist.mean(), mean, &format!("mean of {table}"));
    if cv == 0.0 {
        assert_eq!(dist.cv(), 0.0, "{table}");
    } else {
        assert_rel(dist.cv(), cv, &format!("cv of {table}"));
    }
    assert_rel(dist.scv(), dist.cv().powi(2), "scv");
    assert_rel(
        dist.second_moment(),
        dist.variance() + mean * mean,
        "E[X^2]",
    );
    dist
}

pub(super) fn error(table: &str) -> String {
    match spec(table) {
        Ok(dist) => panic!("{table} accepted as {dist}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn exponential_and_constant_parameterizations() {
    assert_moments(r#"dist = "exponential", rate = 50"#, 0.02, 1.0);
    assert_moments(r#"dist = "exponential", rate = "3000/min""#, 0.02, 1.0);
    assert_moments(r#"dist = "exponential", mean = "20ms""#, 0.02, 1.0);
    assert_moments(r#"dist = "constant", value = "15ms""#, 0.015, 0.0);
    assert_moments(r#"dist = "constant", mean = 2"#, 2.0, 0.0);
    assert!(Dist::exponential(0.5).unwrap().is_exponential());
    assert!(Dist::constant(0.5).unwrap().is_constant());
}

#[test]
fn uniform_and_erlang_parameterizations() {
    assert_moments(
        r#"dist = "uniform", min = 1, max = 3"#,
        2.0,
        1.0 / 12f64.sqrt(),
    );
    assert_moments(r#"dist = "uniform", mean = 2, cv = 0.5"#, 2.0, 0.5);
    let edge = 1.0 / 3f64.sqrt();
    assert_moments(
        &format!(r#"dist = "uniform", mean = 2, cv = {edge}"#),
        2.0,
        edge,
    );
    assert_moments(r#"dist = "erlang", k = 4, rate = 200"#, 0.02, 0.5);
    assert_moments(
        r#"dist = "erlang", k = 3, mean = "30ms""#,
        0.03,
        1.0 / 3f64.sqrt(),
    );
    let erlang = assert_moments(r#"dist = "erlang", mean = 0.02, cv = 0.5"#, 0.02, 0.5);
    assert_eq!(erlang.to_string(), "erlang(k=4, rate=200) mean=0.02 cv=0.5");
    assert!(
        spec(r#"dist = "erlang", k = 1, rate = 2"#)
            .unwrap()
            .is_exponential()
    );
}

#[test]
fn gamma_and_lognormal_parameterizations() {
    let gamma = assert_moments(
        r#"dist = "gamma", shape = 1.5625, scale = 0.0096"#,
        0.015,
        0.8,
    );
    assert_eq!(
        gamma.to_string(),
        "gamma(shape=1.5625, scale=0.0096) mean=0.015 cv=0.8"
    );
    assert_moments(r#"dist = "gamma", shape = 4, rate = "200/s""#, 0.02, 0.5);
    let fitted = assert_moments(r#"dist = "gamma", mean = "15ms", cv = 0.8"#, 0.015, 0.8);
    assert_eq!(fitted.to_string(), gamma.to_string());
    let (mu, sigma) = (-4.0f64, 0.7f64);
    let cv = (sigma * sigma).exp_m1().sqrt();
    let table = format!(r#"dist = "lognormal", mu = {mu}, sigma = {sigma}"#);
    assert_moments(&table, (mu + sigma * sigma / 2.0).exp(), cv);
    assert_moments(r#"dist = "lognormal", mean = 0.01, cv = 2.0"#, 0.01, 2.0);
}

#[test]
fn weibull_parameterizations() {
    let (shape, scale) = (1.7f64, 0.5f64);
    let mean = scale * gamma(1.0 + 1.0 / shape);
    let cv = (gamma(1.0 + 2.0 / shape) / gamma(1.0 + 1.0 / shape).powi(2) - 1.0).sqrt();
    let table = format!(r#"dist = "weibull", shape = {shape}, scale = {scale}"#);
    assert_moments(&table, mean, cv);
    for cv in [0.01, 0.05, 0.3, 0.7, 1.0, 2.5, 10.0, 100.0] {
        assert_moments(
            &format!(r#"dist = "weibull", mean = "3s", cv = {cv}"#),
            3.0,
            cv,
        );
    }
    let exponential = spec(r#"dist = "weibull", mean = 1, cv = 1"#).unwrap();
    assert!((exponential.to_string()).starts_with("weibull(shape=1, scale=1)"));
}

#[test]
fn hyperexponential_parameterizations() {
    let (p, r1, r2) = (0.3f64, 10.0f64, 1.0f64);
    let mean = p / r1 + (1.0 - p) / r2;
    let second = 2.0 * (p / (r1 * r1) + (1.0 - p) / (r2 * r2));
    let cv = (second / (mean * mean) - 1.0).sqrt();
    assert_moments(
        r#"dist = "hyperexponential", probs = [0.3, 0.7], rates = [10, 1]"#,
        mean,
        cv,
    );
    let table = r#"dist = "hyperexponential", probs = [0.3, 0.7], means = ["100ms", "1s"]"#;
    assert_moments(table, mean, cv);
    assert_moments(
        r#"dist = "hyperexponential", mean = 0.02, cv = 2"#,
        0.02,
        2.0,
    );
    let one = assert_moments(
        r#"dist = "hyperexponential", mean = 0.02, cv = 1"#,
        0.02,
        1.0,
    );
    assert!(one.is_exponential());
}

#[test]
fn pareto_parameterizations() {
    let (shape, scale) = (3.0f64, 2.0f64);
    let cv = (1.0 / (shape * (shape - 2.0))).sqrt();
    let table = format!(r#"dist = "pareto", shape = {shape}, scale = {scale}"#);
    assert_moments(&table, 3.0, cv);
    assert_moments(r#"dist = "pareto", mean = 1, cv = 0.5"#, 1.0, 0.5);
    assert_moments(r#"dist = "pareto", mean = 1, cv = 20"#, 1.0, 20.0);
    let heavy = spec(r#"dist = "pareto", mean = "10ms", shape = 1.5"#).unwrap();
    assert_rel(heavy.mean(), 0.01, "pareto mean");
    assert_eq!(heavy.variance(), f64::INFINITY);
    assert_eq!(heavy.cv(), f64::INFINITY);
    assert_eq!(heavy.second_moment(), f64::INFINITY);
}

/// Sample mean within 4 standard errors; where the 4th moment is finite,
/// sample cv within 4 of its (delta-method) standard errors.
fn assert_samples(dist: &Dist, check_cv: bool) {
    const N: usize = 200_000;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let xs: Vec<f64> = (0..N).map(|_| dist.sample(&mut rng)).collect();
    let n = N as f64;
    assert!(xs.iter().all(|&x| x.is_finite() && x >= 0.0), "{dist}");
    let mean = xs.iter().sum::<f64>() / n;
    let se = (dist.variance() / n).sqrt();
    assert!(
        (mean - dist.mean()).abs() <= 4.0 * se,
        "{dist}: sample mean {mean}"
    );
    if check_cv {
        let m2 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
        let cv = m2.sqrt() / mean;
        let se_cv = ((m4 - m2 * m2) / n).sqrt() / (2.0 * m2.sqrt() * mean) + cv * se / mean;
        let expected = dist.cv();
        let slack = 4.0 * se_cv + 1e-12;
        assert!(
            (cv - expected).abs() <= slack,
            "{dist}: sample cv {cv} (se {se_cv})"
        );
    }
}

#[test]
fn samples_match_moments() {
    let light = [
        r#"dist = "exponential", mean = 0.02"#,
        r#"dist = "uniform", min = 1, max = 3"#,
        r#"dist = "erlang", k = 4, rate = 200"#,
        r#"dist = "gamma", mean = 0.015, cv = 0.8"#,
        r#"dist = "gamma", mean = 0.015, cv = 2"#,
        r#"dist = "lognormal", mean = 0.01, cv = 1"#,
        r#"dist = "weibull", mean = 1, cv = 0.5"#,
        r#"dist = "weibull", mean = 1, cv = 2"#,
        r#"dist = "hyperexponential", mean = 0.02, cv = 2"#,
        r#"dist = "pareto", mean = 1, cv = 0.2"#,
    ];
    for table in light {
        assert_samples(&spec(table).unwrap(), true);
    }
    assert_samples(
        &spec(r#"dist = "pareto", mean = 1, shape = 2.5"#).unwrap(),
        false,
    );
    let values: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.01).collect();
    assert_samples(&Dist::empirical(values, "ramp").unwrap(), true);
}

/// The inline exponential draw is `rand_distr::Exp`'s, bit for bit, with
/// the rate given directly or as a mean (scenario files pinned to a seed
/// must keep their results).
#[test]
fn exponential_draws_are_rand_distr_exp_bit_for_bit() {
    use rand_distr::Distribution;
    for dist in [Dist::exponential(0.0137), Dist::exponential_rate(3.0)] {
        let dist = dist.unwrap();
        let Dist::Exponential(Exponential { rate, .. }) = dist else {
            panic!("{dist} is not exponential");
        };
        let reference = rand_distr::Exp::new(rate).unwrap();
        let mut ours = Xoshiro256PlusPlus::seed_from_u64(11);
        let mut theirs = ours.clone();
        for _ in 0..10_000 {
            let (a, b) = (dist.sample(&mut ours), reference.sample(&mut theirs));
            assert_eq!(a.to_bits(), b.to_bits(), "{dist}");
        }
    }
}

#[test]
fn unknown_family_suggests_the_closest_and_lists_all() {
    let message = error(r#"dist = "gama", mean = 1"#);
    assert!(message.starts_with(r#"unknown distribution "gama" (did you mean "gamma"?)"#));
    assert!(message.ends_with(&family_names()), "{message}");
    assert!(error(r#"dist = "LogNormal", mean = 1"#).contains(r#"did you mean "lognormal""#));
    assert!(error(r#"dist = "hyperexp", mean = 1"#).contains(r#""hyperexponential"?"#));
    assert!(!error(r#"dist = "zipfian", mean = 1"#).contains("did you mean"));
}

#[test]
fn non_positive_and_non_finite_parameters_are_rejected() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(Dist::exponential(bad).is_err(), "{bad}");
        assert!(Dist::exponential_rate(bad).is_err(), "{bad}");
        assert!(Dist::constant(bad).is_err(), "{bad}");
        assert!(
            Dist::gamma(bad, 1.0).is_err() && Dist::gamma(1.0, bad).is_err(),
            "{bad}"
        );
        assert!(
            Dist::weibull(bad, 1.0).is_err() && Dist::weibull(1.0, bad).is_err(),
            "{bad}"
        );
        assert!(Dist::lognormal(0.0, bad).is_err(), "{bad}");
        assert!(Dist::erlang(2, bad).is_err(), "{bad}");
        assert!(Dist::pareto(3.0, bad).is_err(), "{bad}");
        assert!(Dist::hyperexponential(&[1.0], &[bad]).is_err(), "{bad}");
        assert!(Dist::with_mean_cv("gamma", bad, 1.0).is_err(), "{bad}");
        assert!(Dist::with_mean_cv("gamma", 1.0, bad).is_err(), "{bad}");
    }
    assert_eq!(
        Dist::gamma(-1.0, 1.0).unwrap_err().to_string(),
        "gamma shape = -1 is invalid: must be a positive finite number"
    );
    assert!(Dist::lognormal(f64::NAN, 1.0).is_err());
    assert!(
        Dist::lognormal(800.0, 1.0)
            .unwrap_err()
            .to_string()
            .contains("lognormal mean = inf")
    );
    assert!(Dist::exponential_rate(1e-320).is_err());
    assert!(
        Dist::erlang(0, 1.0)
            .unwrap_err()
            .to_string()
            .contains("erlang k = 0")
    );
    assert!(error(r#"dist = "erlang", k = 2, mean = 0"#).contains("erlang mean = 0"));
    assert!(error(r#"dist = "gamma", shape = 2, rate = 0"#).contains("gamma rate = 0"));
    let means = r#"dist = "hyperexponential", probs = [1], means = [0]"#;
    assert!(error(means).contains("hyperexponential means = 0"));
}

#[test]
fn bounds_and_probabilities_are_checked() {
    assert!(
        Dist::uniform(2.0, 1.0)
            .unwrap_err()
            .to_string()
            .contains("greater than min")
    );
    assert!(Dist::uniform(1.0, 1.0).is_err());
    assert!(
        Dist::uniform(-1.0, 1.0)
            .unwrap_err()
            .to_string()
            .contains("uniform min = -1")
    );
    assert!(Dist::uniform(0.0, f64::INFINITY).is_err());
    let sum = Dist::hyperexponential(&[0.5, 0.6], &[1.0, 2.0]).unwrap_err();
    assert_eq!(
        sum.to_string(),
        "hyperexponential probs = 1.1 is invalid: must sum to 1"
    );
    assert!(Dist::hyperexponential(&[1.5, -0.5], &[1.0, 2.0]).is_err());
    assert!(Dist::hyperexponential(&[1.0], &[1.0, 2.0]).is_err());
    assert!(Dist::hyperexponential(&[], &[]).is_err());
    assert!(
        Dist::pareto(1.0, 1.0)
            .unwrap_err()
            .to_string()
            .contains("greater than 1")
    );
    assert!(Dist::pareto_mean_shape(1.0, 0.5).is_err());
}

#[test]
fn cv_out_of_the_family_range_is_rejected() {
    assert!(error(r#"dist = "uniform", mean = 1, cv = 0.6"#).contains("1/sqrt(3)"));
    assert!(error(r#"dist = "hyperexponential", mean = 1, cv = 0.5"#).contains("cv < 1"));
    assert!(error(r#"dist = "weibull", mean = 1, cv = 1000"#).contains("between 0.01 and 100"));
    assert!(error(r#"dist = "weibull", mean = 1, cv = 0.001"#).contains("between"));
    assert!(error(r#"dist = "gamma", mean = 1, cv = 0"#).contains("constant"));
    assert!(error(r#"dist = "lognormal", mean = 1, cv = -1"#).contains("lognormal cv = -1"));
}

#[test]
fn erlang_cv_must_give_whole_phases() {
    assert_eq!(
        error(r#"dist = "erlang", mean = 1, cv = 0.7"#),
        "erlang needs 1/cv^2 to be a whole number of phases k, but cv = 0.7 gives \
         1/cv^2 = 2.040816; use cv = 0.707107 (k = 2), or dist = \"gamma\", which takes any cv"
    );
    assert!(error(r#"dist = "erlang", mean = 1, cv = 2"#).contains("k = 1"));
}
