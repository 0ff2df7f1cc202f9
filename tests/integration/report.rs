//! The report of a run: CSV headers and the HTML page (insta snapshots on a
//! tiny fixed-seed scenario), and the plots as `queuesim run` writes them.

use std::fs;

use queuesim::report::{self, ReportInput};

use crate::util::{load, queuesim, simulate, tiny_scenario};

/// A plot's file stem, `(width, height)` in pixels, title and axis descriptions.
type ExpectedPlot = (
    &'static str,
    (u32, u32),
    &'static str,
    &'static [&'static str],
);

/// The plots `queuesim run` writes.
const PLOTS: [ExpectedPlot; 4] = [
    (
        "latency_cdf",
        (1200, 560),
        "End-to-end latency",
        &["end-to-end latency (s)", "P(latency ≤ x)", "1 − F"],
    ),
    (
        "queue_length",
        (1200, 310),
        "Queue length over time",
        &["simulated time (s)", "messages"],
    ),
    (
        "node_utilization_loss",
        (1200, 520),
        "Utilization and loss per queue",
        &[
            "queue",
            "busy fraction of consumers",
            "lost / arrivals at the queue",
        ],
    ),
    (
        "wait_cdf",
        (1200, 560),
        "Waiting time per queue",
        &["waiting time before service (s)", "P(wait ≤ x)"],
    ),
];

/// The report files of the fixture, rendered in memory.
fn tiny_report() -> Vec<(String, Vec<u8>)> {
    let text = fs::read_to_string(tiny_scenario()).unwrap();
    let model = load(&tiny_scenario(), &[]);
    let (_, result) = simulate(&model);
    report::render(&ReportInput {
        model: &model,
        result: &result,
        scenario_text: &text,
        command_line: "queuesim run tests/fixtures/report_tiny.toml --out reports/tiny",
    })
    .unwrap()
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in the report"))
        .1
}

/// Replaces the contents of every `<open ...>...</close>` block with `…`.
fn blank_between(text: &str, open: &str, close: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let tag_end = start + rest[start..].find('>').unwrap() + 1;
        let end = tag_end + rest[tag_end..].find(close).unwrap();
        out.push_str(&rest[..tag_end]);
        out.push('…');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn csv_headers_of_a_tiny_run() {
    let files = tiny_report();
    let headers: Vec<String> = files
        .iter()
        .filter(|(name, _)| name.ends_with(".csv"))
        .map(|(name, bytes)| {
            let text = String::from_utf8_lossy(bytes);
            format!("{name}: {}", text.lines().next().unwrap())
        })
        .collect();
    insta::assert_snapshot!(headers.join("\n"));
}

/// Counts with separators, times in ms/s/µs with their unit, rates in /s.
#[test]
fn terminal_summary_of_a_tiny_run() {
    let model = load(&tiny_scenario(), &[]);
    let (_, result) = simulate(&model);
    insta::assert_snapshot!(report::table::summary(&result));
}

#[test]
fn html_skeleton_of_a_tiny_run() {
    let files = tiny_report();
    let html = String::from_utf8(file(&files, "report.html").to_vec()).unwrap();
    let mut skeleton = html;
    for (open, close) in [
        ("<svg", "</svg>"),
        ("<td class=\"num\"", "</td>"),
        ("<li", "</li>"),
    ] {
        skeleton = blank_between(&skeleton, open, close);
    }
    insta::assert_snapshot!(skeleton);
}

#[test]
fn the_html_report_is_self_contained() {
    let files = tiny_report();
    let html = String::from_utf8(file(&files, "report.html").to_vec()).unwrap();
    for forbidden in ["<script", "<link", "<img", "src=", "@import", "url("] {
        assert!(
            !html.contains(forbidden),
            "report.html contains {forbidden}"
        );
    }
    let external = html
        .match_indices("http")
        .filter(|(i, _)| !html[*i..].starts_with("http://www.w3.org/2000/svg"))
        .count();
    assert_eq!(external, 0, "report.html refers to an external resource");
    assert_eq!(html.matches("<svg").count(), PLOTS.len());
    assert!(html.contains("queuesim run tests/fixtures/report_tiny.toml --out reports/tiny"));
    assert!(html.contains("capacity = 4"), "scenario as given");
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Walks the chunks of a PNG file, checking each CRC, and returns the
/// image size from IHDR and the chunk types in order.
fn png_chunks(png: &[u8]) -> ((u32, u32), Vec<String>) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "no PNG signature");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    let mut at = 8;
    let mut types = Vec::new();
    let mut size = (0, 0);
    while at < png.len() {
        let length = be(&png[at..at + 4]) as usize;
        let kind = &png[at + 4..at + 8];
        let data = &png[at + 8..at + 8 + length];
        let stored = be(&png[at + 8 + length..at + 12 + length]);
        assert_eq!(crc32(&png[at + 4..at + 8 + length]), stored, "bad CRC");
        if kind == b"IHDR" {
            size = (be(&data[0..4]), be(&data[4..8]));
        }
        types.push(String::from_utf8_lossy(kind).into_owned());
        at += 12 + length;
    }
    (size, types)
}

#[test]
fn run_writes_every_plot_as_a_valid_png_and_a_labelled_svg() {
    let out = tempfile::tempdir().unwrap();
    queuesim()
        .args(["run", tiny_scenario().to_str().unwrap(), "--quiet", "--out"])
        .arg(out.path())
        .assert()
        .success();
    for (name, size, title, axes) in PLOTS {
        let png = fs::read(out.path().join(format!("{name}.png"))).unwrap();
        let (png_size, chunks) = png_chunks(&png);
        assert_eq!(png_size, size, "{name}.png size");
        assert_eq!(
            chunks.first().map(String::as_str),
            Some("IHDR"),
            "{name}.png"
        );
        assert_eq!(
            chunks.last().map(String::as_str),
            Some("IEND"),
            "{name}.png"
        );
        assert!(
            chunks.iter().any(|c| c == "IDAT"),
            "{name}.png has no pixels"
        );

        let svg = fs::read_to_string(out.path().join(format!("{name}.svg"))).unwrap();
        let (width, height) = size;
        assert!(
            svg.contains(&format!("width=\"{width}\" height=\"{height}\"")),
            "{name}.svg size"
        );
        for text in std::iter::once(title).chain(axes.iter().copied()) {
            assert!(svg.contains(text), "{name}.svg lacks the text {text:?}");
        }
    }
    let html = fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("--out"), "the reproducing command");
}

#[test]
fn the_report_shows_the_legends_of_deadlines_and_capacities() {
    let files = tiny_report();
    let latency = String::from_utf8_lossy(file(&files, "latency_cdf.svg")).into_owned();
    assert!(latency.contains("deadline 100 ms (web)"), "deadline legend");
    let queues = String::from_utf8_lossy(file(&files, "queue_length.svg")).into_owned();
    assert!(queues.contains("capacity 4"), "capacity legend");
    assert!(queues.contains("waiting (ready)"), "series legend");
    let nodes = String::from_utf8_lossy(file(&files, "node_utilization_loss.svg")).into_owned();
    assert!(
        nodes.contains(">\ntheory\n<"),
        "theory beside the bars (M/M/1/K)"
    );
}
