//! `--set KEY=VALUE`: edits of the scenario document before validation.
//!
//! KEY is a dotted key path in which arrays of tables are addressed by the
//! `name` of an element (`queues.orders.consumers.count`), route lists by the
//! `to` of a route, and any array by a 0-based index. Names containing dots
//! work unquoted (`queues.orders.dlq.ttl`) or quoted
//! (`queues."orders.dlq".ttl`). VALUE is read as a TOML value (integer,
//! float, boolean, string, array, inline table); anything that is not valid
//! TOML is taken as a string, so `ttl=30s` needs no quotes.
//!
//! Edits go through `toml_edit`, which keeps the rest of the file byte for
//! byte, so errors in untouched keys still point at the right line. A key
//! that does not exist yet is created (missing tables as inline tables);
//! validation then judges it like any other key.

use toml_edit::{DocumentMut, InlineTable, Item, Key, TableLike, Value};

use super::error::{ErrorKind, closest};
use super::locate::{Applied, join};

/// Applies one `KEY=VALUE` argument to `doc`.
pub fn apply(doc: &mut DocumentMut, arg: &str) -> Result<Applied, ErrorKind> {
    let bad = |reason: String| ErrorKind::BadOverride {
        arg: arg.to_owned(),
        reason,
    };
    let (key, raw_value) = arg.split_once('=').ok_or_else(|| {
        bad("expected KEY=VALUE, for example queues.orders.consumers.count=12".into())
    })?;
    if key.trim().is_empty() {
        return Err(bad("the KEY before `=` is empty".into()));
    }
    let segments: Vec<String> = Key::parse(key.trim())
        .map_err(|_| bad(format!("`{}` is not a dotted key", key.trim())))?
        .iter()
        .map(|k| k.get().to_owned())
        .collect();
    let raw_value = raw_value.trim();
    let value = raw_value
        .parse::<Value>()
        .unwrap_or_else(|_| Value::from(raw_value));
    let mut path = String::new();
    set_in(doc.as_table_mut(), &segments, value, &mut path).map_err(bad)?;
    Ok(Applied {
        path,
        arg: arg.to_owned(),
    })
}

/// Sets `segments` (relative to `table`) to `value`, extending `path` with
/// the canonical key path as it goes.
fn set_in(
    table: &mut dyn TableLike,
    segments: &[String],
    value: Value,
    path: &mut String,
) -> Result<(), String> {
    let (key, rest) = segments.split_first().ok_or("the KEY is empty")?;
    *path = join(path, key);
    if rest.is_empty() {
        match table.get_mut(key) {
            Some(Item::Value(old)) => {
                let decor = old.decor().clone();
                *old = value;
                *old.decor_mut() = decor;
            }
            Some(other) => *other = Item::Value(value),
            None => {
                table.insert(key, Item::Value(value));
            }
        }
        return Ok(());
    }
    if table.get(key).is_none_or(Item::is_none) {
        table.insert(key, Item::Value(Value::InlineTable(InlineTable::new())));
    }
    let Some(child) = table.get_mut(key) else {
        return Err(format!("cannot create `{path}`"));
    };
    match child {
        Item::Table(t) => set_in(t, rest, value, path),
        Item::Value(Value::InlineTable(t)) => set_in(t, rest, value, path),
        Item::ArrayOfTables(array) => {
            let names: Vec<Option<String>> = array
                .iter()
                .map(|t| {
                    t.get(field_of(key))
                        .and_then(Item::as_str)
                        .map(str::to_owned)
                })
                .collect();
            let (index, used) = find_element(key, path, &names, rest)?;
            let element = array
                .get_mut(index)
                .ok_or_else(|| format!("`{path}` has no element {index}"))?;
            push_element(path, &names[index], index);
            set_in(element, &rest[used..], value, path)
        }
        Item::Value(Value::Array(array)) => {
            let names: Vec<Option<String>> = array
                .iter()
                .map(|v| {
                    v.as_inline_table()
                        .and_then(|t| t.get(field_of(key)))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect();
            let (index, used) = find_element(key, path, &names, rest)?;
            push_element(path, &names[index], index);
            match array.get_mut(index) {
                Some(Value::InlineTable(t)) => set_in(t, &rest[used..], value, path),
                _ => Err(format!(
                    "`{path}` is not a table; set the whole array instead"
                )),
            }
        }
        Item::Value(_) | Item::None => Err(format!(
            "`{path}` is a value, not a table; set `{path}` itself"
        )),
    }
}

/// The field that names the elements of the array `key`.
fn field_of(key: &str) -> &'static str {
    if matches!(key, "routes" | "next") {
        "to"
    } else {
        "name"
    }
}

/// Extends `path` with the segment of an array element, as
/// [`super::locate`] names it.
fn push_element(path: &mut String, name: &Option<String>, index: usize) {
    *path = match name {
        Some(name) => join(path, name),
        None => format!("{path}[{index}]"),
    };
}

/// Which element of an array `rest` starts with, and how many segments its
/// name takes (a name may contain dots). At least one segment must remain
/// after the element: the key to set inside it.
fn find_element(
    key: &str,
    path: &str,
    names: &[Option<String>],
    rest: &[String],
) -> Result<(usize, usize), String> {
    let field = field_of(key);
    for used in (1..rest.len()).rev() {
        let candidate = rest[..used].join(".");
        if let Some(index) = names.iter().position(|n| n.as_deref() == Some(&candidate)) {
            return Ok((index, used));
        }
    }
    if rest.len() > 1
        && let Ok(index) = rest[0].parse::<usize>()
        && index < names.len()
    {
        return Ok((index, 1));
    }
    let known: Vec<&str> = names.iter().flatten().map(String::as_str).collect();
    if rest.len() == 1 {
        return Err(format!(
            "`{path}.{}` addresses a whole element; set one of its keys, for example \
             `{path}.{}.<key>=...`",
            rest[0], rest[0]
        ));
    }
    let hint = closest(&rest[0], known.iter().copied())
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    Err(format!(
        "no element of `{path}` has {field} = \"{}\"; {hint}(known: {})",
        rest[0],
        if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
[simulation]
duration = 100 # seconds

[[queues]]
name = \"orders.dlq\"

[[queues]]
name = \"orders\"
[queues.consumers]
count = 2
service = { dist = \"exponential\", mean = 0.01 }
next = [{ to = \"orders.dlq\", weight = 1 }]
";

    fn set(arg: &str) -> Result<(String, String), ErrorKind> {
        let mut doc: DocumentMut = TEXT.parse().unwrap();
        let applied = apply(&mut doc, arg)?;
        Ok((doc.to_string(), applied.path))
    }

    #[test]
    fn replaces_a_value_and_keeps_its_comment() {
        let (text, path) = set("simulation.duration=600").unwrap();
        assert!(text.contains("duration = 600 # seconds"), "{text}");
        assert_eq!(path, "simulation.duration");
    }

    #[test]
    fn addresses_elements_by_name_even_with_dots() {
        let (text, path) = set("queues.orders.dlq.capacity=5").unwrap();
        assert!(
            text.contains("name = \"orders.dlq\"\ncapacity = 5"),
            "{text}"
        );
        assert_eq!(path, "queues.orders.dlq.capacity");
        let (text, _) = set("queues.orders.consumers.service.mean=0.02").unwrap();
        assert!(text.contains("mean = 0.02 }"), "{text}");
        let (text, path) = set("queues.orders.consumers.next.orders.dlq.weight=3").unwrap();
        assert!(text.contains("weight = 3 }"), "{text}");
        assert_eq!(path, "queues.orders.consumers.next.orders.dlq.weight");
    }

    #[test]
    fn non_toml_values_are_strings_and_missing_tables_are_created() {
        let (text, _) = set("queues.orders.ttl=30s").unwrap();
        assert!(text.contains("ttl = \"30s\""), "{text}");
        let (text, _) = set("queues.orders.consumers.retry.max_attempts=3").unwrap();
        assert!(text.contains("retry = { max_attempts = 3 }"), "{text}");
    }

    #[test]
    fn unknown_element_lists_the_known_names() {
        let err = set("queues.ordrs.consumers.count=3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `orders`?"), "{err}");
        assert!(err.contains("known: orders.dlq, orders"), "{err}");
    }

    #[test]
    fn malformed_arguments_are_refused() {
        let err = set("simulation.duration").unwrap_err().to_string();
        assert!(err.contains("expected KEY=VALUE"), "{err}");
        let err = set("simulation.duration.x=1").unwrap_err().to_string();
        assert!(err.contains("is a value, not a table"), "{err}");
    }
}
