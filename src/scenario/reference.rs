//! `docs/scenarios.md` names every key the scenario parser accepts.
//!
//! The keys are not listed by hand: they are read off the parser itself.
//! A tracing [`Deserializer`] drives [`RawScenario::deserialize`] and
//! records the `fields` of every `deserialize_struct` call and the
//! `variants` of every `deserialize_enum` call, answering each request with
//! a value that makes the derived code recurse into nested tables, arrays
//! and options. Values that ask for `deserialize_any` (quantities with
//! units, the seed, `next`, and the internally tagged `pattern`) are
//! probed: the walk is repeated, and where a value fails, the next answer
//! is tried at that key (a number, a one-element array, a table). The
//! tagged enum reveals its tag through `missing_field`, its variants
//! through `unknown_variant` and each variant's keys through
//! `unknown_field`, which the tracer's error type records.
//!
//! String values that are checked after parsing are read off the
//! validation messages: the distribution families (and the keys each
//! accepts) from [`DistSpec::build`], the `engine` choices from
//! [`super::from_str`].

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::value::{MapDeserializer, StrDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

use super::raw::RawScenario;
use crate::dist::DistSpec;
use crate::units::QuantityKind;

/// A key that no struct of the parser has, to make tagged variants list theirs.
const PROBE: &str = "\u{1}probe";

/// What one walk learnt, and how to answer `deserialize_any` next time.
#[derive(Default)]
struct Trace {
    /// Keys: struct fields, tags and the fields of tagged variants.
    keys: BTreeSet<&'static str>,
    /// Names of enum variants (string values such as `"drop-head"`).
    variants: BTreeSet<&'static str>,
    /// Which answer `deserialize_any` gives at a key path.
    answer: HashMap<String, usize>,
    /// Key paths left out of their table (no answer worked).
    skip: HashSet<String>,
    /// The tag key of a tagged enum at a key path.
    tag: HashMap<String, &'static str>,
    /// The variants of a tagged enum at a key path.
    tagged: HashMap<String, &'static [&'static str]>,
    /// The key paths that asked for `deserialize_any` in this walk.
    anys: HashSet<String>,
    /// The innermost key path whose value failed in this walk.
    blame: Option<String>,
    /// The field a `missing_field` error of this walk named.
    missing: Option<&'static str>,
    /// The variants an `unknown_variant` error of this walk listed.
    expected_variants: Option<&'static [&'static str]>,
}

thread_local! {
    static TRACE: RefCell<Trace> = RefCell::new(Trace::default());
}

fn with<T>(f: impl FnOnce(&mut Trace) -> T) -> T {
    TRACE.with(|t| f(&mut t.borrow_mut()))
}

/// The tracer's error: records what serde's generated code reports.
#[derive(Debug)]
struct TraceError(String);

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

impl de::Error for TraceError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TraceError(msg.to_string())
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        with(|t| {
            t.variants.extend(expected);
            t.expected_variants = Some(expected);
        });
        TraceError(format!("unknown variant {variant}"))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        with(|t| t.keys.extend(expected));
        TraceError(format!("unknown field {field}"))
    }

    fn missing_field(field: &'static str) -> Self {
        with(|t| {
            t.keys.insert(field);
            t.missing = Some(field);
        });
        TraceError(format!("missing field {field}"))
    }
}

/// Notes `path` as the failing key unless a key inside it failed first.
fn blame<T>(path: &str, result: Result<T, TraceError>) -> Result<T, TraceError> {
    if result.is_err() {
        with(|t| {
            t.blame.get_or_insert_with(|| path.to_owned());
        });
    }
    result
}

/// Deserializes whatever the parser asks for at key path `path`.
struct Tracer {
    path: String,
}

impl Tracer {
    fn at(&self, key: &str) -> Tracer {
        Tracer {
            path: format!("{}.{key}", self.path),
        }
    }
}

/// A table with the given keys, every value a string.
fn table<'de, V: Visitor<'de>>(
    visitor: V,
    entries: Vec<(&str, &str)>,
) -> Result<V::Value, TraceError> {
    let entries = entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
    visitor.visit_map(MapDeserializer::new(entries))
}

impl<'de> Deserializer<'de> for Tracer {
    type Error = TraceError;

    /// Answer 0 a number, 1 a one-element array, 2 an empty table (a
    /// tagged enum names its tag), 3 the tag with an unknown variant (it
    /// lists its variants), 4 + i variant i with an unknown key (it lists
    /// its keys).
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let (answer, tag, tagged) = with(|t| {
            t.anys.insert(self.path.clone());
            (
                t.answer.get(&self.path).copied().unwrap_or(0),
                t.tag.get(&self.path).copied(),
                t.tagged.get(&self.path).copied(),
            )
        });
        match (answer, tag, tagged) {
            (0, ..) => visitor.visit_u64(0),
            (1, ..) => visitor.visit_seq(OneElement {
                path: format!("{}[]", self.path),
                done: false,
            }),
            (2, ..) => table(visitor, Vec::new()),
            (3, Some(tag), _) => table(visitor, vec![(tag, PROBE)]),
            (n, Some(tag), Some(variants)) if n - 4 < variants.len() => {
                table(visitor, vec![(tag, variants[n - 4]), (PROBE, "0")])
            }
            _ => Err(de::Error::custom("no answer left")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        with(|t| t.keys.extend(fields));
        let fields = with(|t| {
            fields
                .iter()
                .copied()
                .filter(|f| !t.skip.contains(&self.at(f).path))
                .collect()
        });
        visitor.visit_map(Fields {
            tracer: self,
            fields,
            next: 0,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        with(|t| t.variants.extend(variants));
        let first: StrDeserializer<TraceError> = variants[0].into_deserializer();
        visitor.visit_enum(first)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_seq(OneElement {
            path: format!("{}[]", self.path),
            done: false,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_map(OneEntry {
            tracer: self,
            done: false,
        })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_bool(false)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_i8(0)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_i16(0)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_i32(0)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_i64(0)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_u8(0)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_u16(0)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_u32(0)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_u64(0)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_f32(0.0)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_f64(0.0)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_char('x')
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_str("x")
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_str("x")
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_str("x")
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_bytes(b"x")
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_bytes(b"x")
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        visitor.visit_unit()
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_unit()
    }
}

/// A table holding every field of a struct (but the skipped ones).
struct Fields {
    tracer: Tracer,
    fields: Vec<&'static str>,
    next: usize,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = TraceError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        let Some(&field) = self.fields.get(self.next) else {
            return Ok(None);
        };
        let key: StrDeserializer<TraceError> = field.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, TraceError> {
        let child = self.tracer.at(self.fields[self.next]);
        self.next += 1;
        let path = child.path.clone();
        blame(&path, seed.deserialize(child))
    }
}

/// A map (such as `simulation.initial`) with one entry.
struct OneEntry {
    tracer: Tracer,
    done: bool,
}

impl<'de> MapAccess<'de> for OneEntry {
    type Error = TraceError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(None);
        }
        let key: StrDeserializer<TraceError> = "x".into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, TraceError> {
        let child = self.tracer.at("<key>");
        let path = child.path.clone();
        blame(&path, seed.deserialize(child))
    }
}

/// An array with one element.
struct OneElement {
    path: String,
    done: bool,
}

impl<'de> SeqAccess<'de> for OneElement {
    type Error = TraceError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TraceError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(None);
        }
        let child = Tracer {
            path: self.path.clone(),
        };
        blame(&self.path, seed.deserialize(child).map(Some))
    }
}

/// The key path that contains `path`, if any.
fn parent(path: &str) -> Option<&str> {
    path.strip_suffix("[]")
        .or_else(|| path.rsplit_once('.').map(|(parent, _)| parent))
}

/// Whether there is an answer left after answer `answer` at `path`.
fn answer_left(t: &Trace, path: &str, answer: usize) -> bool {
    match answer {
        0 | 1 => true,
        2 => t.tag.contains_key(path),
        n => t.tagged.get(path).is_some_and(|v| n - 3 < v.len()),
    }
}

/// Walks the parser until one walk succeeds; returns the keys and the
/// variant names it met. After a failed walk, the innermost failing key
/// path, or the nearest one containing it, that asked for
/// `deserialize_any` gets its next answer; when none is left there, the
/// nearest table key is left out of its table.
fn parser_names() -> (BTreeSet<&'static str>, BTreeSet<&'static str>) {
    with(|t| *t = Trace::default());
    for _ in 0..10_000 {
        with(|t| {
            t.blame = None;
            t.missing = None;
            t.expected_variants = None;
            t.anys.clear();
        });
        let walk = RawScenario::deserialize(Tracer {
            path: String::new(),
        });
        if walk.is_ok() {
            return with(|t| (t.keys.clone(), t.variants.clone()));
        }
        with(|t| {
            let blamed = t.blame.clone().expect("a failed walk blames a key");
            let mut at = Some(blamed.as_str());
            while let Some(path) = at {
                if t.anys.contains(path) {
                    let answer = t.answer.get(path).copied().unwrap_or(0);
                    match (answer, t.missing, t.expected_variants) {
                        (2, Some(tag), _) => {
                            t.tag.insert(path.to_owned(), tag);
                        }
                        (3, _, Some(variants)) => {
                            t.tagged.insert(path.to_owned(), variants);
                        }
                        _ => {}
                    }
                    if answer_left(t, path, answer) {
                        t.answer.insert(path.to_owned(), answer + 1);
                        return;
                    }
                }
                let is_field =
                    !path.is_empty() && !path.ends_with("[]") && !path.ends_with("<key>");
                if is_field {
                    t.skip.insert(path.to_owned());
                    return;
                }
                at = parent(path);
            }
            panic!("nothing to change after a failed walk blaming `{blamed}`");
        });
    }
    panic!("the walk of the parser did not finish");
}

/// The quoted words of `message`, but `except`.
fn quoted(message: &str, except: &str) -> BTreeSet<String> {
    message
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|word| *word != except && !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Distribution families with the keys each accepts, from the messages of
/// [`DistSpec::build`] ("valid: exponential, constant, ..." and "takes
/// exactly one of: rate | mean").
fn families() -> BTreeMap<String, BTreeSet<String>> {
    let build = |family: &str| {
        let spec: DistSpec = toml::from_str(&format!("dist = {family:?}")).unwrap();
        match spec.build(QuantityKind::Duration, Path::new(".")) {
            Ok(dist) => panic!("{family} built without parameters: {dist}"),
            Err(e) => e.to_string(),
        }
    };
    let unknown = build("zz-probe");
    let (_, list) = unknown
        .split_once("valid: ")
        .unwrap_or_else(|| panic!("no family list in {unknown:?}"));
    list.split(", ")
        .map(|family| {
            let message = build(family);
            let (_, forms) = message
                .split_once("exactly one of: ")
                .unwrap_or_else(|| panic!("no forms in {message:?}"));
            let keys = forms
                .split(['|', '+'])
                .map(|k| k.trim().to_owned())
                .collect();
            (family.to_owned(), keys)
        })
        .collect()
}

/// The values `simulation.engine` accepts, from its validation message.
fn engines() -> BTreeSet<String> {
    let text = "[simulation]\nengine = \"zz-probe\"\n";
    let error = super::from_str(text, Path::new("probe.toml"), &[]).unwrap_err();
    quoted(&error.to_string(), "zz-probe")
}

fn reference() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenarios.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether `doc` shows `name` as code (`` `name` ``), as a string
/// (`"name"`) or as a table header (`[name]`, `[[name]]`).
fn mentions(doc: &str, name: &str) -> bool {
    [
        format!("`{name}`"),
        format!("\"{name}\""),
        format!("[{name}]"),
    ]
    .iter()
    .any(|form| doc.contains(form))
}

#[test]
fn the_walk_reaches_nested_tables_custom_values_and_tagged_variants() {
    let (keys, variants) = parser_names();
    for key in [
        "duration",
        "seed",
        "initial",
        "engine",
        "rate_on",
        "rate_off",
        "times",
        "kind",
        "to",
        "weight",
        "dist",
        "cv",
        "column",
        "max_attempts",
        "jitter",
        "bandwidth",
        "timeout",
        "assignment",
    ] {
        assert!(keys.contains(key), "the walk missed `{key}`: {keys:?}");
    }
    for variant in ["onoff", "piecewise", "drop-head", "round-robin", "priority"] {
        assert!(
            variants.contains(variant),
            "the walk missed `{variant}`: {variants:?}"
        );
    }
    assert!(families().contains_key("hyperexponential"));
    assert_eq!(engines(), BTreeSet::from(["auto".into(), "events".into()]));
}

#[test]
fn the_scenario_reference_names_every_key_the_parser_accepts() {
    let doc = reference();
    let (keys, variants) = parser_names();
    let mut missing: Vec<String> = (keys.iter().chain(&variants))
        .filter(|name| !mentions(&doc, name))
        .map(|name| (*name).to_owned())
        .collect();
    for (family, family_keys) in families() {
        missing.extend((!mentions(&doc, &family)).then(|| format!("dist = {family}")));
        missing.extend(
            (family_keys.iter())
                .filter(|key| !mentions(&doc, key))
                .map(|key| format!("{family}.{key}")),
        );
    }
    missing.extend(
        (engines().into_iter())
            .filter(|engine| !mentions(&doc, engine))
            .map(|engine| format!("engine = {engine}")),
    );
    assert!(
        missing.is_empty(),
        "docs/scenarios.md does not name these keys or values of the parser: {missing:?}"
    );
}
