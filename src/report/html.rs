//! `report.html`: one self-contained page per run, to read on any screen,
//! print, or attach to a ticket.
//!
//! Everything is inline (CSS, SVG plots); the page loads nothing from the
//! network and runs no script. It shows the warnings first, then the
//! summary and per-queue tables with their 95% confidence intervals, the
//! plots, the resolved model, the scenario as given and the command that
//! reproduces the run.

use std::fmt::Write;

use super::ReportInput;
use super::plots::Plot;
use super::table::short;
use crate::results::{NodeRow, RunResult};
use crate::scenario;
use crate::stats::Estimate;

const STYLE: &str = "
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --rule: #d0d7de; --warn: #fff4d6; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; color: var(--ink);
  max-width: 1200px; margin: 0 auto; padding: 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0.2rem 0; }
h2 { font-size: 1.25rem; border-bottom: 1px solid var(--rule); padding-bottom: 0.2rem; margin-top: 2rem; }
nav { display: flex; flex-wrap: wrap; gap: 0.3rem 0.9rem; }
.muted { color: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.92rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid var(--rule); text-align: left; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.warnings { background: var(--warn); border: 1px solid #e3b341; padding: 0.5rem 1rem 0.5rem 2rem; }
figure { margin: 1rem 0 2rem; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.9rem; }
pre { background: #f6f8fa; border: 1px solid var(--rule); padding: 0.7rem; overflow-x: auto; font-size: 0.85rem; }
@media (max-width: 600px) { body { padding: 0.5rem; } th, td { padding: 0.25rem 0.4rem; } }
@media print {
  nav { display: none; }
  body { max-width: none; }
  .scroll, pre { overflow: visible; white-space: pre-wrap; }
  figure, table { break-inside: avoid; }
}
";

/// The whole page for `input`, with `plots` inlined.
pub fn page(input: &ReportInput<'_>, plots: &[Plot], warnings: &[String]) -> String {
    let name = escape(&input.model.name);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>queuesim report: {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    header(&mut out, input);
    warnings_section(&mut out, warnings);
    summary_section(&mut out, input.result);
    nodes_section(&mut out, &input.result.nodes);
    plots_section(&mut out, plots);
    pre_section(
        &mut out,
        "model",
        "Resolved model",
        &scenario::describe(input.model),
    );
    pre_section(
        &mut out,
        "scenario",
        "Scenario as given",
        input.scenario_text,
    );
    pre_section(
        &mut out,
        "reproduce",
        "Reproduce this run",
        input.command_line,
    );
    let _ = write!(
        out,
        "<footer class=\"muted\"><p>queuesim {}</p></footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

fn header(out: &mut String, input: &ReportInput<'_>) {
    let s = &input.model.simulation;
    let _ = write!(
        out,
        "<header>\n<h1>{}</h1>\n<p>{}</p>\n<p class=\"muted\">{} replications × {} s measured after {} s warm-up, seed {}</p>\n</header>\n\
         <nav><a href=\"#warnings\">Warnings</a><a href=\"#summary\">Summary</a><a href=\"#queues\">Queues</a>\
         <a href=\"#plots\">Plots</a><a href=\"#model\">Model</a><a href=\"#scenario\">Scenario</a>\
         <a href=\"#reproduce\">Reproduce</a></nav>\n",
        escape(&input.model.name),
        escape(&input.model.description),
        s.replications,
        short(s.duration_s),
        short(s.warmup_s),
        s.seed
    );
}

fn warnings_section(out: &mut String, warnings: &[String]) {
    out.push_str("<section id=\"warnings\">\n<h2>Warnings</h2>\n");
    if warnings.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<ul class=\"warnings\">\n");
        for warning in warnings {
            let _ = writeln!(out, "<li>{}</li>", escape(warning));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn summary_section(out: &mut String, result: &RunResult) {
    let s = &result.summary;
    let rows = [
        ("produced", "messages", s.produced),
        ("delivered", "messages", s.delivered),
        ("lost", "messages", s.lost),
        ("in flight at the end", "messages", s.in_flight),
        ("success ratio", "", s.success_ratio),
        ("mean latency", "s", s.mean_latency),
        ("p50 latency", "s", s.p50_latency),
        ("p95 latency", "s", s.p95_latency),
        ("p99 latency", "s", s.p99_latency),
        ("p99.9 latency", "s", s.p999_latency),
        ("throughput", "/s", s.throughput),
    ];
    out.push_str(
        "<section id=\"summary\">\n<h2>Summary</h2>\n<p class=\"muted\">Mean over replications \
         (counts per replication; percentiles of the replications pooled) and half-width of its \
         95% confidence interval.</p>\n\
         <div class=\"scroll\"><table>\n<thead><tr><th>metric</th><th>mean</th><th>± 95% CI</th>\
         <th>unit</th></tr></thead>\n<tbody>\n",
    );
    // Unroutable messages exist only where exchanges route on keys.
    let unroutable = (s.unroutable.mean > 0.0).then_some(("unroutable", "messages", s.unroutable));
    for (name, unit, estimate) in rows.into_iter().chain(unroutable) {
        let _ = writeln!(
            out,
            "<tr><th>{name}</th>{}<td>{unit}</td></tr>",
            estimate_cells(estimate)
        );
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// A per-queue column: header, unit, value.
type NodeColumn = (&'static str, &'static str, fn(&NodeRow) -> Estimate);

/// The columns of the per-queue table.
const NODE_COLUMNS: [NodeColumn; 10] = [
    ("utilization", "", |n| n.utilization),
    ("mean wait", "s", |n| n.mean_wait),
    ("p99 wait", "s", |n| n.p99_wait),
    ("mean sojourn", "s", |n| n.mean_sojourn),
    ("mean in queue", "msgs", |n| n.mean_in_queue),
    ("max in queue", "msgs", |n| n.max_in_queue),
    ("throughput", "/s", |n| n.throughput),
    ("arrivals", "msgs", |n| n.arrivals),
    ("loss ratio", "", |n| n.loss_ratio),
    ("retries", "msgs", |n| n.retries),
];

fn nodes_section(out: &mut String, nodes: &[NodeRow]) {
    out.push_str(
        "<section id=\"queues\">\n<h2>Queues</h2>\n<p class=\"muted\">Each cell: mean ± 95% CI \
         half-width.</p>\n<div class=\"scroll\"><table>\n<thead><tr><th>queue</th>",
    );
    for (name, unit, _) in NODE_COLUMNS {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" ({unit})")
        };
        let _ = write!(out, "<th>{name}{unit}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for node in nodes {
        let _ = write!(out, "<tr><th>{}</th>", escape(&node.node));
        for (_, _, value) in NODE_COLUMNS {
            let _ = write!(out, "<td class=\"num\">{}</td>", with_ci(value(node)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}

fn plots_section(out: &mut String, plots: &[Plot]) {
    out.push_str("<section id=\"plots\">\n<h2>Plots</h2>\n");
    for plot in plots {
        let _ = write!(
            out,
            "<figure id=\"plot-{name}\">\n{svg}\n<figcaption>{title}: <code>{name}.svg</code>, \
             <code>{name}.png</code></figcaption>\n</figure>\n",
            name = plot.name,
            svg = inline_svg(&plot.svg),
            title = escape(&plot.title)
        );
    }
    out.push_str("</section>\n");
}

fn pre_section(out: &mut String, id: &str, title: &str, text: &str) {
    let _ = write!(
        out,
        "<section id=\"{id}\">\n<h2>{title}</h2>\n<pre>{}</pre>\n</section>\n",
        escape(text.trim_end())
    );
}

/// The SVG element of a standalone SVG document (without an XML prolog).
fn inline_svg(document: &str) -> &str {
    document
        .find("<svg")
        .map_or(document, |start| &document[start..])
        .trim_end()
}

fn estimate_cells(estimate: Estimate) -> String {
    format!(
        "<td class=\"num\">{}</td><td class=\"num\">{}</td>",
        short(estimate.mean),
        short(estimate.ci95)
    )
}

fn with_ci(estimate: Estimate) -> String {
    if estimate.ci95.is_nan() {
        short(estimate.mean)
    } else {
        format!("{} ± {}", short(estimate.mean), short(estimate.ci95))
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<b>\"a\" & 'b'</b>"),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn inline_svg_drops_the_xml_prolog() {
        let doc = "<?xml version=\"1.0\"?>\n<svg width=\"1\"></svg>\n";
        assert_eq!(inline_svg(doc), "<svg width=\"1\"></svg>");
    }
}
