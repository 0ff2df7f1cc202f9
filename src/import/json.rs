//! Reading JSON exports with errors that name the file, the JSON path and
//! what was expected there.

use std::path::Path;

use serde_json::{Map, Value};

use super::ImportError;

/// Parses `text`, read from `file`; a syntax error names its line and column.
pub(crate) fn parse(file: &Path, text: &str) -> Result<Value, ImportError> {
    serde_json::from_str(text).map_err(|e| {
        ImportError::malformed(
            file,
            format!("line {}, column {}", e.line(), e.column()),
            format!("not valid JSON: {e}"),
        )
    })
}

/// A value of a JSON document and its path from the root (`$.queues[2]`).
pub(crate) struct Node<'a> {
    pub value: &'a Value,
    file: &'a Path,
    pub path: String,
}

impl<'a> Node<'a> {
    pub(crate) fn root(file: &'a Path, value: &'a Value) -> Self {
        Self {
            value,
            file,
            path: "$".to_owned(),
        }
    }

    /// The error "expected `what`" at this node.
    pub(crate) fn expected(&self, what: &str) -> ImportError {
        ImportError::malformed(
            self.file,
            format!("JSON path {}", self.path),
            format!("expected {what}, found {}", kind(self.value)),
        )
    }

    /// The member `key`, if present and not `null`.
    pub(crate) fn get(&self, key: &str) -> Option<Node<'a>> {
        let value = self.value.as_object()?.get(key)?;
        (!value.is_null()).then(|| Node {
            value,
            file: self.file,
            path: format!("{}.{key}", self.path),
        })
    }

    /// The member `key`, required.
    pub(crate) fn req(&self, key: &str) -> Result<Node<'a>, ImportError> {
        if !self.value.is_object() {
            return Err(self.expected("an object"));
        }
        self.get(key).ok_or_else(|| {
            ImportError::malformed(
                self.file,
                format!("JSON path {}", self.path),
                format!("missing `{key}`"),
            )
        })
    }

    /// The elements of an array.
    pub(crate) fn items(&self) -> Result<Vec<Node<'a>>, ImportError> {
        let array = self
            .value
            .as_array()
            .ok_or_else(|| self.expected("an array"))?;
        Ok(array
            .iter()
            .enumerate()
            .map(|(i, value)| Node {
                value,
                file: self.file,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// The elements of the array member `key`; none if it is absent.
    pub(crate) fn items_of(&self, key: &str) -> Result<Vec<Node<'a>>, ImportError> {
        self.get(key).map_or(Ok(Vec::new()), |n| n.items())
    }

    pub(crate) fn str(&self) -> Result<&'a str, ImportError> {
        self.value.as_str().ok_or_else(|| self.expected("a string"))
    }

    pub(crate) fn f64(&self) -> Result<f64, ImportError> {
        self.value
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.expected("a number"))
    }

    pub(crate) fn u64(&self) -> Result<u64, ImportError> {
        self.value
            .as_u64()
            .ok_or_else(|| self.expected("a whole number >= 0"))
    }

    pub(crate) fn object(&self) -> Result<&'a Map<String, Value>, ImportError> {
        self.value
            .as_object()
            .ok_or_else(|| self.expected("an object"))
    }

    /// The optional string member `key`.
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, ImportError> {
        self.get(key).map(|n| n.str()).transpose()
    }

    /// The optional numeric member `key`.
    pub(crate) fn opt_f64(&self, key: &str) -> Result<Option<f64>, ImportError> {
        self.get(key).map(|n| n.f64()).transpose()
    }

    /// The optional whole-number member `key`.
    pub(crate) fn opt_u64(&self, key: &str) -> Result<Option<u64>, ImportError> {
        self.get(key).map(|n| n.u64()).transpose()
    }
}

fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_path_and_what_was_expected() {
        let file = Path::new("defs.json");
        let value = parse(file, r#"{"queues": [{"name": "a"}, {"name": 3}]}"#).unwrap();
        let root = Node::root(file, &value);
        let queues = root.req("queues").unwrap().items().unwrap();
        assert_eq!(queues[0].req("name").unwrap().str().unwrap(), "a");
        let error = queues[1]
            .req("name")
            .unwrap()
            .str()
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "defs.json: JSON path $.queues[1].name: expected a string, found the number 3"
        );
        let missing = queues[0].req("vhost").err().unwrap().to_string();
        assert_eq!(missing, "defs.json: JSON path $.queues[0]: missing `vhost`");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let error = parse(Path::new("q.json"), "[\n{\"a\": }\n]").err().unwrap();
        assert!(
            error
                .to_string()
                .starts_with("q.json: line 2, column 7: not valid JSON"),
            "{error}"
        );
    }
}
