use super::*;

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-12 * expected.abs()
}

fn check(parse: fn(&str) -> Result<f64, UnitError>, cases: &[(&str, f64)]) {
    for &(text, expected) in cases {
        let actual = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(close(actual, expected), "{text}: {actual} != {expected}");
    }
}

#[test]
fn durations() {
    check(
        parse_duration_s,
        &[
            ("0.5", 0.5),
            ("3", 3.0),
            ("2s", 2.0),
            ("250ms", 0.25),
            ("100us", 1e-4),
            ("100µs", 1e-4),
            ("40ns", 4e-8),
            ("1.5m", 90.0),
            ("2min", 120.0),
            ("1h", 3600.0),
            (" 250 ms ", 0.25),
            ("1e-3s", 1e-3),
            ("2E3ms", 2.0),
            (".5s", 0.5),
            ("-2s", -2.0),
        ],
    );
    assert_eq!(parse_duration_s("250ms"), Ok(0.25));
}

#[test]
fn rates() {
    check(
        parse_rate_per_s,
        &[
            ("900", 900.0),
            ("900/s", 900.0),
            ("54000/min", 900.0),
            ("54000/m", 900.0),
            ("10/h", 10.0 / 3600.0),
            ("5/ms", 5000.0),
            ("1/us", 1e6),
            ("1/ns", 1e9),
            ("900 / s", 900.0),
        ],
    );
}

#[test]
fn sizes() {
    check(
        parse_bytes,
        &[
            ("512", 512.0),
            ("512B", 512.0),
            ("1kB", 1e3),
            ("1KB", 1e3),
            ("1MB", 1e6),
            ("1.5GB", 1.5e9),
            ("2TB", 2e12),
            ("4KiB", 4096.0),
            ("1MiB", 1_048_576.0),
            ("2GiB", 2_147_483_648.0),
            ("1TiB", 1_099_511_627_776.0),
        ],
    );
}

#[test]
fn bandwidths() {
    check(
        parse_bandwidth_bytes_per_s,
        &[
            ("1000", 1000.0),
            ("8bit/s", 1.0),
            ("8kbit/s", 1e3),
            ("8Kbit/s", 1e3),
            ("100Mbit/s", 12.5e6),
            ("1Gbit/s", 125e6),
            ("1Tbit/s", 125e9),
            ("100Mbps", 12.5e6),
            ("1Gbps", 125e6),
            ("125MB/s", 125e6),
            ("1GB/s", 1e9),
            ("512B/s", 512.0),
            ("1kB/s", 1e3),
            ("1MiB/s", 1_048_576.0),
        ],
    );
}

#[test]
fn invalid_duration_names_the_input_and_the_valid_forms() {
    let err = parse_duration_s("5 parsecs").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid duration \"5 parsecs\": expected seconds as a number or a string like \
         \"250ms\", \"2s\", \"1.5m\" (units: ns, us, ms, s, m, min, h)"
    );
    for text in [
        "", "s", "ms5", "5 s s", "1..2s", "5S", "5sec", "--1s", "1e", "1e+s",
    ] {
        assert!(
            matches!(parse_duration_s(text), Err(UnitError::Invalid { .. })),
            "{text:?} accepted"
        );
    }
}

#[test]
fn invalid_rate() {
    for text in ["900/", "900/parsec", "900s", "/s", "900/s/s"] {
        let err = parse_rate_per_s(text).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("invalid rate {text:?}")),
            "{err}"
        );
    }
    assert!(RATE.expected.contains("\"900/s\""));
}

#[test]
fn invalid_size() {
    for text in ["4kb", "4Kib", "1b", "MB", "4 KiB/s"] {
        let err = parse_bytes(text).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("invalid size {text:?}"))
        );
        assert!(err.to_string().contains("KiB"));
    }
}

#[test]
fn invalid_bandwidth() {
    for text in ["1Gbit", "1Gb/s", "/s", "1Xbit/s", "1Gibit/s", "125MB"] {
        let err = parse_bandwidth_bytes_per_s(text).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("invalid bandwidth {text:?}"))
        );
        assert!(err.to_string().contains("Gbit/s"));
    }
}

#[test]
fn non_finite_numbers_are_rejected() {
    for text in ["nan", "NaN", "inf", "-inf", "infinity", "1e999", "1e999s"] {
        let err = parse_duration_s(text).unwrap_err();
        assert!(matches!(err, UnitError::NotFinite { .. }), "{text}: {err}");
        assert!(err.to_string().contains("not finite"), "{err}");
    }
    assert!(matches!(
        parse_rate_per_s("nan"),
        Err(UnitError::NotFinite { .. })
    ));
    assert!(matches!(
        parse_bytes("inf"),
        Err(UnitError::NotFinite { .. })
    ));
    assert!(matches!(
        parse_bandwidth_bytes_per_s("-inf"),
        Err(UnitError::NotFinite { .. })
    ));
    assert!(matches!(
        parse_duration_s("nanms"),
        Err(UnitError::Invalid { .. })
    ));
}

#[test]
fn quantity_conversions() {
    let text = |s: &str| Quantity::from(s);
    assert_eq!(text("250ms").to_seconds(), Ok(0.25));
    assert_eq!(text("54000/min").to_rate_per_s(), Ok(900.0));
    assert_eq!(text("4KiB").to_bytes(), Ok(4096.0));
    assert_eq!(text("1Gbit/s").to_bandwidth_bytes_per_s(), Ok(125e6));
    assert_eq!(text("0.5").to_seconds(), Ok(0.5));
    let number = Quantity::from(7.0);
    assert_eq!(number.to_seconds(), Ok(7.0));
    assert_eq!(number.to_rate_per_s(), Ok(7.0));
    assert_eq!(number.to_bytes(), Ok(7.0));
    assert_eq!(number.to_bandwidth_bytes_per_s(), Ok(7.0));
    assert_eq!(number.to_plain(), Ok(7.0));
    assert!(text("2s").to_rate_per_s().is_err());
}

#[test]
fn plain_rejects_strings() {
    let err = Quantity::from("8").to_plain().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid number \"8\": expected a plain number without a unit"
    );
}

#[test]
fn to_base_dispatches_on_kind() {
    let q = Quantity::from("2");
    assert_eq!(q.to_base(QuantityKind::Duration), Ok(2.0));
    assert_eq!(q.to_base(QuantityKind::Rate), Ok(2.0));
    assert_eq!(q.to_base(QuantityKind::Bytes), Ok(2.0));
    assert!(q.to_base(QuantityKind::Plain).is_err());
    assert_eq!(
        Quantity::from("2m").to_base(QuantityKind::Duration),
        Ok(120.0)
    );
    assert_eq!(
        Quantity::from("2/m").to_base(QuantityKind::Rate),
        Ok(2.0 / 60.0)
    );
    assert_eq!(
        Quantity::from("2kB").to_base(QuantityKind::Bytes),
        Ok(2000.0)
    );
    assert_eq!(Quantity::from(2.5).to_base(QuantityKind::Plain), Ok(2.5));
}

#[test]
fn display_shows_the_quantity_as_written() {
    assert_eq!(Quantity::from("250ms").to_string(), "250ms");
    assert_eq!(Quantity::from(0.25).to_string(), "0.25");
    assert_eq!(Quantity::from(8.0).to_string(), "8");
}

#[test]
fn deserializes_from_toml_integers_floats_and_strings() {
    #[derive(serde::Deserialize)]
    struct Row {
        a: Quantity,
        b: Quantity,
        c: Quantity,
    }
    let row: Row = toml::from_str("a = 8\nb = 0.5\nc = \"250ms\"").unwrap();
    assert_eq!(row.a, Quantity::Number(8.0));
    assert_eq!(row.b, Quantity::Number(0.5));
    assert_eq!(row.c, Quantity::Text("250ms".into()));
    let err = toml::from_str::<Row>("a = true\nb = 1\nc = 1")
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("a number or a string with a unit"),
        "{err}"
    );
}
