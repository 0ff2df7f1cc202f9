//! `queuesim import rabbitmq`: one scenario per vhost from a definitions
//! export, with the management API's rates, consumers and backlogs where
//! given.
//!
//! The pieces: [`definitions`] reads the export, [`policies`] applies
//! policies as the broker does, [`stats`] reads `/api/queues` and
//! `/api/consumers`, [`queues`] writes each queue, [`routing`] the
//! exchanges and the producers that explain the measured rates.

pub mod definitions;
pub mod policies;
pub mod queues;
pub mod routing;
pub mod stats;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use self::definitions::{BindingDef, Definitions, ExchangeDef, VhostPolicy, policies_of};
use self::policies::{Effective, Policy};
use self::routing::{Exchange, Graph, Kind, Producer, Route};
use self::stats::{Consumers, Stats};
use super::emit::{self, Document, Table};
use super::{ESTIMATED, ImportError, Imported, PLACEHOLDER, file_name, scenario_name};

/// Per queue, its ready and unacknowledged messages.
type Backlogs = BTreeMap<String, (u64, u64)>;

/// The files and options of `queuesim import rabbitmq`.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The definitions export.
    pub definitions: &'a Path,
    /// `GET /api/queues`.
    pub stats: Option<&'a Path>,
    /// `GET /api/consumers`.
    pub consumers: Option<&'a Path>,
    /// `GET /api/operator-policies` (exports leave them out).
    pub operator_policies: Option<&'a Path>,
    /// Only this vhost.
    pub vhost: Option<&'a str>,
}

/// Built-in exchanges, which exports leave out, and their types.
const BUILT_IN: [(&str, &str); 6] = [
    ("amq.direct", "direct"),
    ("amq.fanout", "fanout"),
    ("amq.topic", "topic"),
    ("amq.headers", "headers"),
    ("amq.match", "headers"),
    ("amq.rabbitmq.trace", "topic"),
];

/// Imports every vhost of `inputs` that has queues (or the one named).
///
/// # Errors
///
/// [`ImportError`] for a file that cannot be read or is malformed, or a
/// `--vhost` the export does not have.
pub fn import(inputs: &Inputs<'_>) -> Result<Vec<Imported>, ImportError> {
    let default_vhost = inputs.vhost.unwrap_or("/");
    let mut defs = definitions::read(inputs.definitions, default_vhost)?;
    if let Some(file) = inputs.operator_policies {
        let extra = definitions::read_operator_policies(file, default_vhost, &mut defs.notes)?;
        defs.operator_policies.extend(extra);
    }
    let stats = inputs.stats.map(stats::read_queues).transpose()?;
    let consumers = inputs.consumers.map(stats::read_consumers).transpose()?;
    let vhosts: Vec<String> = match inputs.vhost {
        Some(v) if defs.vhosts.iter().any(|d| d == v) => vec![v.to_owned()],
        Some(v) => {
            return Err(ImportError::Inputs(format!(
                "{}: no vhost {v:?} (vhosts: {})",
                inputs.definitions.display(),
                defs.vhosts.join(", ")
            )));
        }
        None => defs
            .vhosts
            .iter()
            .filter(|v| defs.queues.iter().any(|q| &q.vhost == *v))
            .cloned()
            .collect(),
    };
    if vhosts.is_empty() {
        return Err(ImportError::Inputs(format!(
            "{}: declares no queue: nothing to simulate",
            inputs.definitions.display()
        )));
    }
    let mut notes = std::mem::take(&mut defs.notes);
    if stats.is_some() && consumers.is_none() {
        notes.push("no consumers.json (--consumers): no prefetch windows are written".to_owned());
    }
    let mut out = Vec::new();
    for (i, vhost) in vhosts.iter().enumerate() {
        let live = LiveFiles {
            stats: stats.as_ref(),
            consumers: consumers.as_ref(),
        };
        let mut imported = VhostImport::new(&defs, vhost, inputs, live).build();
        if i == 0 {
            notes.append(&mut imported.notes);
            imported.notes = notes.clone();
        }
        out.push(imported);
    }
    Ok(out)
}

/// The live-figure files, if given.
#[derive(Clone, Copy)]
struct LiveFiles<'a> {
    stats: Option<&'a Stats>,
    consumers: Option<&'a Consumers>,
}

/// The import of one vhost.
struct VhostImport<'a> {
    defs: &'a Definitions,
    vhost: &'a str,
    inputs: &'a Inputs<'a>,
    live: LiveFiles<'a>,
    policies: Vec<Policy>,
    operator: Vec<Policy>,
    notes: Vec<String>,
}

impl<'a> VhostImport<'a> {
    fn new(
        defs: &'a Definitions,
        vhost: &'a str,
        inputs: &'a Inputs<'a>,
        live: LiveFiles<'a>,
    ) -> Self {
        let of = |list: &[VhostPolicy]| policies_of(list, vhost);
        Self {
            defs,
            vhost,
            inputs,
            live,
            policies: of(&defs.policies),
            operator: of(&defs.operator_policies),
            notes: Vec::new(),
        }
    }

    fn who(&self) -> String {
        if self.vhost == "/" {
            String::new()
        } else {
            format!("vhost {:?}: ", self.vhost)
        }
    }

    fn note(&mut self, text: String) {
        let prefix = self.who();
        self.notes.push(format!("{prefix}{text}"));
    }

    fn build(mut self) -> Imported {
        let mut queues: Vec<_> = self
            .defs
            .queues
            .iter()
            .filter(|q| q.vhost == self.vhost)
            .collect();
        queues.sort_by(|a, b| a.name.cmp(&b.name));
        let queue_names: Vec<String> = queues.iter().map(|q| q.name.clone()).collect();
        let graph = self.graph(&queue_names);
        let name = scenario_name("rabbitmq", self.vhost);

        let mut entries = routing::Entries::default();
        let mut queue_tables = Vec::new();
        let mut targets = BTreeSet::new();
        let mut resolved = Vec::new();
        let policies = std::mem::take(&mut self.policies);
        let operator = std::mem::take(&mut self.operator);
        for queue in &queues {
            let effective =
                Effective::for_queue(&policies, &operator, &queue.name, queue.queue_type());
            for tie in &effective.ties {
                self.note(format!(
                    "queue {:?}: policy {tie} of equal priority is not applied",
                    queue.name
                ));
            }
            self.check_broker_policy(&queue.name, &effective);
            let dl = self.dead_letter(
                &graph,
                queue,
                &effective,
                &mut entries.dead_letter_exchanges,
            );
            if let Some((target, _)) = &dl {
                entries
                    .dead_letters
                    .insert(queue.name.clone(), target.clone());
                targets.insert(target.clone());
            }
            resolved.push((queue, effective, dl));
        }
        for (queue, effective, dl) in resolved {
            let mut table = Table::new("[[queues]]");
            let notes = queues::write_queue(&mut table, queue, &effective, dl);
            for n in notes {
                self.note(n);
            }
            let key = (self.vhost.to_owned(), queue.name.clone());
            let live = queues::Live {
                stats: self.live.stats.and_then(|s| s.get(&key)),
                have_stats: self.live.stats.is_some(),
                consumers: self
                    .live
                    .consumers
                    .map(|c| c.get(&key).map_or(&[][..], Vec::as_slice)),
                dead_letter_target: targets.contains(&queue.name),
            };
            let consumers = queues::write_consumers(&mut table, queue, live);
            queue_tables.push(table);
            queue_tables.extend(consumers);
        }

        let (rates, backlog) = self.rates_and_backlog(&queue_names);
        entries.backlog = backlog.keys().cloned().collect();
        let producers = routing::producers(&graph, &queue_names, rates.as_ref(), &entries);
        let reached = routing::reached(&graph, &producers, &entries);
        let (kept, idle): (Vec<&Exchange>, Vec<&Exchange>) = graph
            .exchanges
            .values()
            .partition(|x| reached.contains(&x.node));
        let idle_comment = self.idle_exchanges(&idle, &entries);

        let mut doc = Document::default();
        self.header(&mut doc);
        let mut top = Table::top();
        top.entry("name", emit::string(&name), "");
        top.entry(
            "description",
            emit::string(&format!(
                "imported from {} (vhost {})",
                file_name(self.inputs.definitions),
                self.vhost
            )),
            "",
        );
        doc.push(top);
        doc.push(self.simulation(&backlog));
        for (i, p) in producers.iter().enumerate() {
            doc.push(producer_table(i, p, &graph));
        }
        for exchange in kept {
            doc.push(exchange_table(exchange));
        }
        if let Some(comment) = idle_comment {
            let mut table = Table::top();
            table.comment(&comment);
            doc.push(table);
        }
        for table in queue_tables {
            doc.push(table);
        }
        Imported {
            name,
            toml: doc.render(),
            notes: self.notes,
        }
    }

    fn header(&self, doc: &mut Document) {
        let mut sources = vec![format!(
            "{} (vhost {:?})",
            file_name(self.inputs.definitions),
            self.vhost
        )];
        sources.extend(self.inputs.stats.map(file_name));
        sources.extend(self.inputs.consumers.map(file_name));
        sources.extend(self.inputs.operator_policies.map(file_name));
        doc.header(&format!(
            "Imported by `queuesim import rabbitmq` from {}.",
            sources.join(", ")
        ));
        if let Some(v) = &self.defs.version {
            doc.header(&format!("Definitions exported by RabbitMQ {v}."));
        }
        doc.header(super::LEGEND);
    }

    fn simulation(&self, backlog: &BTreeMap<String, (u64, u64)>) -> Table {
        let mut table = Table::new("[simulation]");
        table.entry(
            "duration",
            emit::string("10m"),
            "queuesim's choice, not from the broker",
        );
        table.entry("replications", "10", "queuesim's choice");
        table.entry("seed", "1", "");
        if !backlog.is_empty() {
            let entries: Vec<String> = backlog
                .iter()
                .map(|(q, (ready, unacked))| format!("{} = {}", emit::bare_key(q), ready + unacked))
                .collect();
            let detail: Vec<String> = backlog
                .iter()
                .map(|(q, (r, u))| format!("{q} {r}+{u}"))
                .collect();
            table.entry(
                "initial",
                format!("{{ {} }}", entries.join(", ")),
                &format!(
                    "messages_ready + messages_unacknowledged in queues.json: {}",
                    detail.join(", ")
                ),
            );
        }
        table
    }

    /// Publish rates per queue (if stats were given) and backlogs.
    fn rates_and_backlog(
        &self,
        queue_names: &[String],
    ) -> (Option<BTreeMap<String, f64>>, Backlogs) {
        let Some(stats) = self.live.stats else {
            return (None, BTreeMap::new());
        };
        let mut rates = BTreeMap::new();
        let mut backlog = BTreeMap::new();
        for name in queue_names {
            let Some(s) = stats.get(&(self.vhost.to_owned(), name.clone())) else {
                continue;
            };
            rates.insert(name.clone(), s.publish_per_s.unwrap_or(0.0));
            if s.ready + s.unacked > 0 {
                backlog.insert(name.clone(), (s.ready, s.unacked));
            }
        }
        (Some(rates), backlog)
    }

    /// Notes on the exchanges nothing reaches, left out of the scenario;
    /// the comment that says so in the file.
    fn idle_exchanges(&mut self, idle: &[&Exchange], entries: &routing::Entries) -> Option<String> {
        let mut lines = Vec::new();
        for x in idle {
            let why = if entries.dead_letter_exchanges.contains(&x.node) {
                "a dead-letter exchange: its route is each queue's `dead_letter`".to_owned()
            } else {
                self.note(format!(
                    "exchange `{}`: no traffic through it in queues.json; left out",
                    x.node
                ));
                "no traffic through it in queues.json".to_owned()
            };
            lines.push(format!("exchange `{}` left out: {why}", x.node));
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    /// Compares queuesim's reading of the policies with the broker's
    /// `effective_policy_definition`, where queues.json gives it.
    fn check_broker_policy(&mut self, queue: &str, effective: &Effective<'_>) {
        let key = (self.vhost.to_owned(), queue.to_owned());
        let Some(broker) = self
            .live
            .stats
            .and_then(|s| s.get(&key))
            .and_then(|s| s.effective_policy.clone())
        else {
            return;
        };
        let ours = effective.merged_definition();
        if ours != broker {
            self.note(format!(
                "queue {queue:?}: the broker reports the effective policy {}, queuesim's reading of the policies gives {}; queuesim's is used",
                Value::Object(broker),
                Value::Object(ours)
            ));
        }
    }

    fn dead_letter(
        &mut self,
        graph: &Graph,
        queue: &definitions::QueueDef,
        effective: &Effective<'_>,
        dead_letter_exchanges: &mut BTreeSet<String>,
    ) -> Option<(String, String)> {
        let settings = queues::dead_letter_settings(queue, effective);
        let (exchange, source) = settings.exchange?;
        let node = exchange.as_ref().map(|x| self.node_of(x, graph));
        dead_letter_exchanges.extend(node.clone());
        let key = settings.routing_key.as_ref().map(|(k, _)| k.as_str());
        let described = match (&exchange, key) {
            (Some(x), Some(k)) => format!("dead-letter exchange {x:?} with routing key {k:?}"),
            (Some(x), None) => format!("dead-letter exchange {x:?}"),
            (None, Some(k)) => format!("the default exchange with dead-letter routing key {k:?}"),
            (None, None) => "the default exchange".to_owned(),
        };
        match routing::dead_letter_queue(graph, &queue.name, node.as_deref(), key) {
            Ok(target) => {
                let mut comment = format!("{described}: {source}");
                if let Some((_, key_source)) = &settings.routing_key
                    && key_source != &source
                {
                    comment.push_str(&format!("; routing key: {key_source}"));
                }
                Some((target, comment))
            }
            Err(why) => {
                self.note(format!(
                    "queue {:?}: dead letters to {described} not imported: {why}",
                    queue.name
                ));
                None
            }
        }
    }

    /// The scenario node of exchange `name` (renamed where a queue has its name).
    fn node_of(&self, name: &str, graph: &Graph) -> String {
        if graph.queues.contains(name) {
            format!("{name}.exchange")
        } else {
            name.to_owned()
        }
    }

    /// The vhost's exchanges in the scenario's terms, those that cannot be
    /// written left out (with notes).
    fn graph(&mut self, queue_names: &[String]) -> Graph {
        let mut graph = Graph {
            queues: queue_names.iter().cloned().collect(),
            ..Graph::default()
        };
        let mut declared: Vec<ExchangeDef> = self
            .defs
            .exchanges
            .iter()
            .filter(|x| x.vhost == self.vhost && !x.name.is_empty())
            .cloned()
            .collect();
        let bindings: Vec<&BindingDef> = self
            .defs
            .bindings
            .iter()
            .filter(|b| b.vhost == self.vhost && !b.source.is_empty())
            .collect();
        for (name, kind) in BUILT_IN {
            let used = bindings
                .iter()
                .any(|b| b.source == name || (b.to_exchange && b.destination == name));
            if used && !declared.iter().any(|x| x.name == name) {
                declared.push(ExchangeDef {
                    vhost: self.vhost.to_owned(),
                    name: name.to_owned(),
                    kind: kind.to_owned(),
                    arguments: serde_json::Map::new(),
                });
            }
        }
        declared.sort_by(|a, b| a.name.cmp(&b.name));
        let names: BTreeSet<&str> = declared.iter().map(|x| x.name.as_str()).collect();
        for x in &declared {
            let node = self.node_of(&x.name, &graph);
            if node != x.name {
                self.note(format!(
                    "exchange {:?} is named `{node}`: a queue has its name",
                    x.name
                ));
            }
            let Some((kind, comment)) = self.kind_of(x) else {
                continue;
            };
            let mut routes = Vec::new();
            for b in bindings.iter().filter(|b| b.source == x.name) {
                let known = if b.to_exchange {
                    names.contains(b.destination.as_str())
                } else {
                    graph.queues.contains(&b.destination)
                };
                if !known {
                    self.note(format!(
                        "binding {:?} -> {:?}: its destination is not declared; left out",
                        x.name, b.destination
                    ));
                    continue;
                }
                routes.push(self.route(x, kind, b, &graph));
            }
            dedupe_routes(&mut routes, kind);
            let alternate = self.alternate(x, kind, &names, &graph);
            graph.exchanges.insert(
                node.clone(),
                Exchange {
                    node,
                    kind,
                    routes,
                    alternate,
                    comment,
                },
            );
        }
        self.prune(&mut graph);
        graph
    }

    /// The scenario's kind for exchange `x`, or `None` (with a note) for a
    /// type the format cannot express.
    fn kind_of(&mut self, x: &ExchangeDef) -> Option<(Kind, String)> {
        let source = format!("type {} in the definitions", x.kind);
        Some(match x.kind.as_str() {
            "direct" => (Kind::Direct, source),
            "topic" => (Kind::Topic, source),
            "fanout" => (Kind::Fanout, source),
            "headers" => {
                self.note(format!(
                    "exchange {:?} (headers): matching on message headers cannot be expressed; written as a weighted exchange, its bindings equally likely",
                    x.name
                ));
                (
                    Kind::Weighted,
                    format!("{ESTIMATED}: headers exchange, each binding equally likely"),
                )
            }
            "x-consistent-hash" => (
                Kind::Weighted,
                format!(
                    "{ESTIMATED}: consistent-hash exchange, binding keys as weights (hash points)"
                ),
            ),
            "x-random" => (
                Kind::Weighted,
                "x-random exchange: one binding at random".to_owned(),
            ),
            other => {
                self.note(format!(
                    "exchange {:?}: type {other} (a plugin's) cannot be expressed; left out",
                    x.name
                ));
                return None;
            }
        })
    }

    fn route(&self, x: &ExchangeDef, kind: Kind, b: &BindingDef, graph: &Graph) -> Route {
        let to = if b.to_exchange {
            self.node_of(&b.destination, graph)
        } else {
            b.destination.clone()
        };
        let weight = match x.kind.as_str() {
            "x-consistent-hash" => b
                .routing_key
                .parse::<f64>()
                .ok()
                .filter(|w| *w > 0.0)
                .unwrap_or(1.0),
            _ => 1.0,
        };
        let comment = if b.arguments.is_empty() {
            String::new()
        } else {
            format!("binding arguments {}", Value::Object(b.arguments.clone()))
        };
        Route {
            to,
            key: kind.keyed().then(|| b.routing_key.clone()),
            weight,
            comment,
        }
    }

    /// The alternate exchange: the exchange's argument, else its policy's.
    fn alternate(
        &mut self,
        x: &ExchangeDef,
        kind: Kind,
        names: &BTreeSet<&str>,
        graph: &Graph,
    ) -> Option<String> {
        let effective = Effective::for_exchange(&self.policies, &x.name);
        let from_policy = effective
            .policy
            .and_then(|p| p.definition.get("alternate-exchange"))
            .and_then(Value::as_str);
        let ae = x
            .arguments
            .get("alternate-exchange")
            .and_then(Value::as_str)
            .or(from_policy)?;
        if !kind.keyed() {
            self.note(format!(
                "exchange {:?}: alternate exchange {ae:?} left out (a {} exchange routes every message)",
                x.name,
                kind.as_str()
            ));
            return None;
        }
        if !names.contains(ae) || ae == x.name {
            self.note(format!(
                "exchange {:?}: alternate exchange {ae:?} is not declared; left out",
                x.name
            ));
            return None;
        }
        Some(self.node_of(ae, graph))
    }

    /// Removes exchanges without routes, and routes and alternates to
    /// removed exchanges, until none is left to remove.
    fn prune(&mut self, graph: &mut Graph) {
        loop {
            let empty: Vec<String> = graph
                .exchanges
                .iter()
                .filter(|(_, x)| x.routes.is_empty())
                .map(|(n, _)| n.clone())
                .collect();
            if empty.is_empty() {
                break;
            }
            for node in &empty {
                graph.exchanges.remove(node);
                self.note(format!(
                    "exchange `{node}` has no binding that can be imported: left out (its messages would be unroutable)"
                ));
            }
            let exchanges = graph.exchanges.keys().cloned().collect::<BTreeSet<_>>();
            let alive = |to: &str| exchanges.contains(to) || graph.queues.contains(to);
            let mut cleaned = graph.exchanges.clone();
            for x in cleaned.values_mut() {
                x.routes.retain(|r| alive(&r.to));
                if x.alternate.as_deref().is_some_and(|a| !alive(a)) {
                    x.alternate = None;
                }
            }
            graph.exchanges = cleaned;
        }
    }
}

/// Removes repeated routes: a destination once per exchange without keys,
/// a (destination, key) pair once with keys.
fn dedupe_routes(routes: &mut Vec<Route>, kind: Kind) {
    let mut seen = BTreeSet::new();
    routes.retain(|r| {
        let id = (
            r.to.clone(),
            if kind.keyed() { r.key.clone() } else { None },
        );
        seen.insert(id)
    });
}

fn producer_table(index: usize, p: &Producer, graph: &Graph) -> Table {
    let mut table = Table::new("[[producers]]");
    let name = if graph.exchanges.contains_key(&p.to) {
        format!("to-{}", p.to)
    } else {
        format!("direct-{}", p.to)
    };
    table.entry(
        "name",
        emit::string(&name),
        &format!("producer {}", index + 1),
    );
    table.entry("to", emit::string(&p.to), "");
    match p.rate_per_s {
        Some(rate) if graph.exchanges.contains_key(&p.to) => {
            table.entry(
                "rate",
                emit::rate(rate),
                &format!(
                    "{ESTIMATED}: the queues.json publish rates of the queues it reaches, split over its binding keys"
                ),
            );
        }
        Some(rate) => {
            let mut comment = format!(
                "publish rate {}/s in queues.json (message_stats.publish_details.rate)",
                emit::number(rate + p.explained_per_s)
            );
            if p.explained_per_s > routing::MIN_RATE {
                comment.push_str(&format!(
                    ", less {}/s from exchanges",
                    emit::number(p.explained_per_s)
                ));
            }
            comment.push_str(": published through the default exchange");
            table.entry("rate", emit::rate(rate), &comment);
        }
        None => {
            table.entry(
                "rate",
                emit::rate(1.0),
                &format!("{PLACEHOLDER}: no publish rate measured (give --stats queues.json, or the real rate)"),
            );
        }
    }
    if let [(key, _, reach)] = p.keys.as_slice() {
        let reached: Vec<&str> = reach.iter().map(String::as_str).collect();
        table.entry(
            "routing_key",
            emit::string(key),
            &format!("reaches {}", reached.join(", ")),
        );
    } else if !p.keys.is_empty() {
        let mut value = String::from("[\n");
        for (key, weight, reach) in &p.keys {
            let reached: Vec<&str> = reach.iter().map(String::as_str).collect();
            let item = format!(
                "  {{ key = {}, weight = {} }},",
                emit::string(key),
                emit::number(*weight)
            );
            let what = if p.rate_per_s.is_some() {
                "/s"
            } else {
                " (placeholder)"
            };
            value.push_str(&format!(
                "{item:<50} # {}{what}: reaches {}\n",
                emit::number(*weight),
                reached.join(", ")
            ));
        }
        value.push(']');
        table.entry("routing_keys", value, "");
    }
    table
}

fn exchange_table(x: &Exchange) -> Table {
    let mut table = Table::new("[[exchanges]]");
    table.entry("name", emit::string(&x.node), "");
    table.entry("kind", emit::string(x.kind.as_str()), &x.comment);
    let mut value = String::from("[\n");
    for r in &x.routes {
        let item = match (&r.key, x.kind) {
            (Some(k), _) => format!(
                "  {{ to = {}, key = {} }},",
                emit::string(&r.to),
                emit::string(k)
            ),
            (None, Kind::Weighted) => format!(
                "  {{ to = {}, weight = {} }},",
                emit::string(&r.to),
                emit::number(r.weight)
            ),
            (None, _) => format!("  {{ to = {} }},", emit::string(&r.to)),
        };
        if r.comment.is_empty() {
            value.push_str(&format!("{item}\n"));
        } else {
            value.push_str(&format!("{item:<50} # {}\n", r.comment));
        }
    }
    value.push(']');
    table.entry("routes", value, "bindings in the definitions");
    if let Some(a) = &x.alternate {
        table.entry("alternate", emit::string(a), "alternate-exchange");
    }
    table
}
