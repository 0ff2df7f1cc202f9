//! Reading a RabbitMQ definitions export (`rabbitmqctl export_definitions`,
//! `GET /api/definitions`, or one vhost's `GET /api/definitions/{vhost}`)
//! and a list of operator policies (`GET /api/operator-policies`).
//!
//! Only the fields that mean the same in every RabbitMQ 3.x version are
//! read: `vhosts`, `queues`, `exchanges`, `bindings`, `policies` (and
//! `operator_policies` where an export has them). Users, permissions and
//! parameters are ignored. A file of one vhost has no `vhost` fields: its
//! objects belong to the vhost given by `--vhost`, or `/`.

use std::path::Path;

use serde_json::{Map, Value};

use super::policies::{ApplyTo, Policy};
use crate::import::ImportError;
use crate::import::json::{self, Node};

/// A declared queue.
#[derive(Debug, Clone)]
pub struct QueueDef {
    /// Its vhost.
    pub vhost: String,
    /// Its name.
    pub name: String,
    /// Its `x-` arguments.
    pub arguments: Map<String, Value>,
}

impl QueueDef {
    /// `classic`, `quorum` or `stream` (`x-queue-type`, default classic).
    pub fn queue_type(&self) -> &str {
        self.arguments
            .get("x-queue-type")
            .and_then(Value::as_str)
            .unwrap_or("classic")
    }
}

/// A declared exchange.
#[derive(Debug, Clone)]
pub struct ExchangeDef {
    /// Its vhost.
    pub vhost: String,
    /// Its name.
    pub name: String,
    /// `direct`, `fanout`, `topic`, `headers` or a plugin's type.
    pub kind: String,
    /// Its arguments (`alternate-exchange`).
    pub arguments: Map<String, Value>,
}

/// A binding from an exchange to a queue or an exchange.
#[derive(Debug, Clone)]
pub struct BindingDef {
    /// Its vhost.
    pub vhost: String,
    /// The exchange bound from.
    pub source: String,
    /// The queue or exchange bound to.
    pub destination: String,
    /// Whether the destination is an exchange.
    pub to_exchange: bool,
    /// The binding key.
    pub routing_key: String,
    /// Its arguments (a headers exchange's match).
    pub arguments: Map<String, Value>,
}

/// A policy as the file gives it, with its vhost.
#[derive(Debug, Clone)]
pub struct VhostPolicy {
    /// Its vhost.
    pub vhost: String,
    /// The policy.
    pub policy: Policy,
}

/// A definitions file.
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    /// The broker version that wrote it, if it says.
    pub version: Option<String>,
    /// Vhosts, in file order (those named by objects included).
    pub vhosts: Vec<String>,
    /// Queues.
    pub queues: Vec<QueueDef>,
    /// Exchanges.
    pub exchanges: Vec<ExchangeDef>,
    /// Bindings.
    pub bindings: Vec<BindingDef>,
    /// Policies.
    pub policies: Vec<VhostPolicy>,
    /// Operator policies.
    pub operator_policies: Vec<VhostPolicy>,
    /// Policies that could not be read (a pattern this reader does not
    /// understand), one sentence each.
    pub notes: Vec<String>,
}

/// Reads the definitions at `file`; objects without a `vhost` field belong
/// to `default_vhost`.
pub fn read(file: &Path, default_vhost: &str) -> Result<Definitions, ImportError> {
    let text = crate::import::read_text(file)?;
    let value = json::parse(file, &text)?;
    let root = Node::root(file, &value);
    root.object()?;
    let mut defs = Definitions {
        version: root
            .opt_str("rabbitmq_version")?
            .or(root.opt_str("rabbit_version")?)
            .map(str::to_owned),
        ..Definitions::default()
    };
    for v in root.items_of("vhosts")? {
        defs.add_vhost(v.req("name")?.str()?);
    }
    for q in root.items_of("queues")? {
        let vhost = vhost_of(&q, default_vhost)?;
        defs.add_vhost(&vhost);
        defs.queues.push(QueueDef {
            vhost,
            name: q.req("name")?.str()?.to_owned(),
            arguments: arguments(&q)?,
        });
    }
    for x in root.items_of("exchanges")? {
        let vhost = vhost_of(&x, default_vhost)?;
        defs.add_vhost(&vhost);
        defs.exchanges.push(ExchangeDef {
            vhost,
            name: x.req("name")?.str()?.to_owned(),
            kind: x.req("type")?.str()?.to_owned(),
            arguments: arguments(&x)?,
        });
    }
    for b in root.items_of("bindings")? {
        let kind = b.req("destination_type")?;
        let to_exchange = match kind.str()? {
            "queue" => false,
            "exchange" => true,
            _ => return Err(kind.expected("\"queue\" or \"exchange\"")),
        };
        defs.bindings.push(BindingDef {
            vhost: vhost_of(&b, default_vhost)?,
            source: b.req("source")?.str()?.to_owned(),
            destination: b.req("destination")?.str()?.to_owned(),
            to_exchange,
            routing_key: b.opt_str("routing_key")?.unwrap_or("").to_owned(),
            arguments: arguments(&b)?,
        });
    }
    let policies = root.items_of("policies")?;
    defs.policies = read_policies(&policies, default_vhost, &mut defs.notes)?;
    let operator = root.items_of("operator_policies")?;
    defs.operator_policies = read_policies(&operator, default_vhost, &mut defs.notes)?;
    Ok(defs)
}

/// Reads a list of operator policies (`GET /api/operator-policies`).
pub fn read_operator_policies(
    file: &Path,
    default_vhost: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<VhostPolicy>, ImportError> {
    let text = crate::import::read_text(file)?;
    let value = json::parse(file, &text)?;
    let root = Node::root(file, &value);
    read_policies(&root.items()?, default_vhost, notes)
}

impl Definitions {
    fn add_vhost(&mut self, name: &str) {
        if !self.vhosts.iter().any(|v| v == name) {
            self.vhosts.push(name.to_owned());
        }
    }
}

/// The policies of `list` that belong to `vhost`.
pub fn policies_of(list: &[VhostPolicy], vhost: &str) -> Vec<Policy> {
    list.iter()
        .filter(|p| p.vhost == vhost)
        .map(|p| p.policy.clone())
        .collect()
}

fn vhost_of(node: &Node<'_>, default_vhost: &str) -> Result<String, ImportError> {
    Ok(node.opt_str("vhost")?.unwrap_or(default_vhost).to_owned())
}

fn arguments(node: &Node<'_>) -> Result<Map<String, Value>, ImportError> {
    node.get("arguments")
        .map_or(Ok(Map::new()), |a| a.object().cloned())
}

fn read_policies(
    items: &[Node<'_>],
    default_vhost: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<VhostPolicy>, ImportError> {
    let mut out = Vec::new();
    for p in items {
        let name = p.req("name")?.str()?;
        let pattern = p.req("pattern")?.str()?;
        let apply_node = p.get("apply-to");
        let apply_to = match &apply_node {
            None => ApplyTo::All,
            Some(n) => ApplyTo::parse(n.str()?).ok_or_else(|| {
                n.expected(
                    "\"all\", \"queues\", \"exchanges\", \"classic_queues\", \"quorum_queues\" or \"streams\"",
                )
            })?,
        };
        let priority = match p.get("priority") {
            None => 0,
            Some(n) => n
                .value
                .as_i64()
                .ok_or_else(|| n.expected("a whole number"))?,
        };
        let definition = p.req("definition")?.object()?.clone();
        match Policy::new(name, pattern, apply_to, priority, definition) {
            Ok(policy) => out.push(VhostPolicy {
                vhost: vhost_of(p, default_vhost)?,
                policy,
            }),
            Err(e) => notes.push(format!(
                "policy {name:?}: its pattern {pattern:?} is not a regular expression this version reads ({e}); the policy is ignored"
            )),
        }
    }
    Ok(out)
}
