//! Diagnostics: every problem of a board or chip file with file, key, line
//! and column; unknown keys found against the JSON Schema, with did-you-mean.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;
use zant_common::suggest::close_matches;

use crate::raw::{RawBoard, RawChip};

/// One problem found in a board or chip file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// File (or `built-in:<name>`).
    pub file: String,
    /// Dotted key path (`placement.arena`).
    pub key: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// What to do (did you mean …).
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n    help: {h}")?;
        }
        Ok(())
    }
}

/// Errors of board resolution.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// No built-in board or file of that name.
    #[error("unknown board `{name}`{}", suggest(.suggestions))]
    NotFound {
        /// What was asked for.
        name: String,
        /// Close built-in names.
        suggestions: Vec<String>,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is invalid; every problem is listed.
    #[error("{} problem{} in the board file:\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

impl BoardError {
    /// What to do about the error, kept apart from its message (`None`
    /// when zant has no advice for it).
    pub fn help(&self) -> Option<String> {
        match self {
            BoardError::NotFound { .. } => Some(
                "`zant boards` lists the built-in boards; a path to your own board TOML works too"
                    .into(),
            ),
            _ => None,
        }
    }
}

pub(crate) fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(
            " (did you mean {}?)",
            s.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    }
}

/// JSON Schema of board files (with the chip table), for editors.
pub fn board_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(RawBoard)).expect("schema serializes")
}

/// JSON Schema of chip files.
pub fn chip_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(RawChip)).expect("schema serializes")
}

pub(crate) struct Source<'a> {
    file: String,
    text: &'a str,
    doc: Option<toml_edit::Document<String>>,
}

impl Source<'_> {
    /// Every type error and missing key of the file against `schema`
    /// ([`type_errors`]), none when it is not valid TOML.
    pub(crate) fn type_errors(&self, schema: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if let Some(d) = &self.doc {
            type_errors(self, d.as_item(), schema, schema, "", &mut out);
        }
        out
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
        (line, col)
    }

    /// Line and column of a dotted key path (`run.qemu.machine`, `memory.2.size`).
    fn span_of(&self, path: &str) -> Option<(usize, usize)> {
        let doc = self.doc.as_ref()?;
        let parts: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
        span_in_table(doc.as_table(), &parts).map(|s| self.line_col(s.start))
    }

    pub(crate) fn diag(
        &self,
        key: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Diagnostic {
        let lc = self.span_of(key);
        Diagnostic {
            file: self.file.clone(),
            key: key.to_string(),
            line: lc.map(|l| l.0),
            column: lc.map(|l| l.1),
            message: message.into(),
            help,
        }
    }
}

type Span = std::ops::Range<usize>;

pub(crate) fn span_in_table(t: &dyn toml_edit::TableLike, parts: &[&str]) -> Option<Span> {
    let (first, rest) = parts.split_first()?;
    let (k, v) = t.get_key_value(first)?;
    if rest.is_empty() {
        return k.span();
    }
    span_in_item(v, rest).or_else(|| k.span())
}

pub(crate) fn span_in_item(item: &toml_edit::Item, parts: &[&str]) -> Option<Span> {
    let (first, rest) = parts.split_first()?;
    if let Ok(i) = first.parse::<usize>() {
        return match item {
            toml_edit::Item::ArrayOfTables(a) => {
                let t = a.get(i)?;
                if rest.is_empty() {
                    t.span()
                } else {
                    span_in_table(t, rest).or_else(|| t.span())
                }
            }
            toml_edit::Item::Value(toml_edit::Value::Array(a)) => a.get(i)?.span(),
            _ => None,
        };
    }
    span_in_table(item.as_table_like()?, parts)
}

pub(crate) fn resolve_ref<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        if let Some(d) = root.get("$defs").and_then(|d| d.get(name)) {
            return resolve_ref(d, root);
        }
    }
    schema
}

/// Known keys of an object schema (merging anyOf/oneOf alternatives).
pub(crate) fn object_props<'a>(
    schema: &'a Value,
    root: &'a Value,
) -> Option<Vec<(&'a String, &'a Value)>> {
    let s = resolve_ref(schema, root);
    if let Some(p) = s.get("properties").and_then(Value::as_object) {
        return Some(p.iter().collect());
    }
    for k in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(k).and_then(Value::as_array) {
            for a in alts {
                if let Some(p) = object_props(a, root) {
                    return Some(p);
                }
            }
        }
    }
    None
}

pub(crate) fn array_items<'a>(schema: &'a Value, root: &'a Value) -> Option<&'a Value> {
    let s = resolve_ref(schema, root);
    if let Some(i) = s.get("items") {
        return Some(i);
    }
    for k in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(k).and_then(Value::as_array) {
            for a in alts {
                if let Some(i) = array_items(a, root) {
                    return Some(i);
                }
            }
        }
    }
    None
}

/// Reports every key the schema does not know, with a did-you-mean.
pub(crate) fn unknown_keys(
    src: &Source<'_>,
    item: &toml_edit::Item,
    schema: &Value,
    root: &Value,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    match item {
        toml_edit::Item::Table(_) | toml_edit::Item::Value(toml_edit::Value::InlineTable(_)) => {
            let Some(props) = object_props(schema, root) else {
                return;
            };
            let known: Vec<String> = props.iter().map(|(k, _)| (*k).clone()).collect();
            let table = item.as_table_like().expect("a table");
            for (k, v) in table.iter() {
                let p = if path.is_empty() {
                    k.to_string()
                } else {
                    format!("{path}.{k}")
                };
                match props.iter().find(|(name, _)| name.as_str() == k) {
                    Some((_, sub)) => unknown_keys(src, v, sub, root, &p, out),
                    None => {
                        let m = close_matches(k, &known);
                        let help = if m.is_empty() {
                            Some(format!("known keys here: {}", known.join(", ")))
                        } else {
                            Some(format!("did you mean `{}`?", m[0]))
                        };
                        out.push(src.diag(&p, format!("unknown key `{k}`"), help));
                    }
                }
            }
        }
        toml_edit::Item::ArrayOfTables(a) => {
            if let Some(items) = array_items(schema, root) {
                for (i, t) in a.iter().enumerate() {
                    let it = toml_edit::Item::Table(t.clone());
                    unknown_keys(src, &it, items, root, &format!("{path}.{i}"), out);
                }
            }
        }
        _ => {}
    }
}

/// The JSON type of a TOML item, as the schema names it.
fn json_type(item: &toml_edit::Item) -> &'static str {
    match item {
        toml_edit::Item::None => "null",
        toml_edit::Item::ArrayOfTables(_) => "array",
        toml_edit::Item::Table(_) => "object",
        toml_edit::Item::Value(v) => match v {
            toml_edit::Value::String(_) | toml_edit::Value::Datetime(_) => "string",
            toml_edit::Value::Integer(_) => "integer",
            toml_edit::Value::Float(_) => "number",
            toml_edit::Value::Boolean(_) => "boolean",
            toml_edit::Value::Array(_) => "array",
            toml_edit::Value::InlineTable(_) => "object",
        },
    }
}

/// `a string`, `an integer`, … as a reader says it.
fn type_words(t: &str) -> &'static str {
    match t {
        "string" => "a string",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "array" => "a list",
        "object" => "a table",
        _ => "nothing",
    }
}

/// The types a schema allows (`null` left out), from `type` or from the
/// alternatives of `anyOf`/`oneOf`.
fn schema_types(schema: &Value, root: &Value) -> Vec<String> {
    let s = resolve_ref(schema, root);
    match s.get("type") {
        Some(Value::String(t)) => return vec![t.clone()],
        Some(Value::Array(ts)) => {
            return ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .map(str::to_string)
                .collect()
        }
        _ => {}
    }
    let mut out = Vec::new();
    for k in ["anyOf", "oneOf"] {
        for a in s.get(k).and_then(Value::as_array).into_iter().flatten() {
            for t in schema_types(a, root) {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// The alternative of `schema` whose type `found` is (the schema itself when
/// it has no alternatives).
fn alternative<'a>(schema: &'a Value, root: &'a Value, found: &str) -> &'a Value {
    let s = resolve_ref(schema, root);
    for k in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(k).and_then(Value::as_array) {
            for a in alts {
                let ts = schema_types(a, root);
                if ts
                    .iter()
                    .any(|t| t == found || (t == "number" && found == "integer"))
                {
                    return alternative(a, root, found);
                }
            }
        }
    }
    s
}

/// Reports, against the schema, every value of the wrong type (naming its
/// key and both types), every negative number where only ≥ 0 fits, and
/// every required key that is missing: all at once, where serde would stop
/// at the first.
pub(crate) fn type_errors(
    src: &Source<'_>,
    item: &toml_edit::Item,
    schema: &Value,
    root: &Value,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    let found = json_type(item);
    let allowed = schema_types(schema, root);
    if allowed.is_empty() {
        return;
    }
    let fits = allowed
        .iter()
        .any(|t| t == found || (t == "number" && found == "integer"));
    if !fits {
        let want: Vec<&str> = allowed.iter().map(|t| type_words(t)).collect();
        let shown = match item {
            toml_edit::Item::Value(v) if found != "object" && found != "array" => {
                format!(" (`{}`)", v.to_string().trim())
            }
            _ => String::new(),
        };
        let key = path.rsplit('.').next().unwrap_or(path);
        let hint = match (allowed.first().map(String::as_str), found) {
            (Some("integer"), "string") => {
                Some(format!("write the number without quotes: {key} = 8192"))
            }
            (Some("integer"), "number") => Some("give a whole number of bytes or Hz".into()),
            (Some("array"), "string") => Some("write it as a list: [\"…\"]".into()),
            (Some("string"), _) if allowed.len() == 1 => Some("put the value in quotes".into()),
            _ => None,
        };
        out.push(src.diag(
            path,
            format!(
                "expected {}, found {}{shown}",
                crate::types::listed(&want),
                type_words(found)
            ),
            hint,
        ));
        return;
    }
    let s = alternative(schema, root, found);
    if found == "integer" {
        if let (Some(min), Some(v)) = (s.get("minimum").and_then(Value::as_i64), item.as_integer())
        {
            if v < min {
                out.push(src.diag(path, format!("{v} is negative; it must be ≥ {min}"), None));
            }
        }
    }
    match found {
        "object" => {
            let Some(props) = object_props(s, root) else {
                return;
            };
            let table = item.as_table_like().expect("a table");
            for req in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !table.contains_key(req) {
                    let where_ = if path.is_empty() {
                        "the file".to_string()
                    } else {
                        format!("`{path}`")
                    };
                    out.push(Diagnostic {
                        key: path.to_string(),
                        message: format!("{where_} lacks the required key `{req}`"),
                        ..src.diag(path, "", None)
                    });
                }
            }
            for (k, v) in table.iter() {
                if let Some((_, sub)) = props.iter().find(|(name, _)| name.as_str() == k) {
                    let p = if path.is_empty() {
                        k.to_string()
                    } else {
                        format!("{path}.{k}")
                    };
                    type_errors(src, v, sub, root, &p, out);
                }
            }
        }
        "array" => {
            let Some(items) = array_items(s, root) else {
                return;
            };
            match item {
                toml_edit::Item::ArrayOfTables(a) => {
                    for (i, t) in a.iter().enumerate() {
                        let it = toml_edit::Item::Table(t.clone());
                        type_errors(src, &it, items, root, &format!("{path}.{i}"), out);
                    }
                }
                toml_edit::Item::Value(toml_edit::Value::Array(a)) => {
                    for (i, v) in a.iter().enumerate() {
                        let it = toml_edit::Item::Value(v.clone());
                        type_errors(src, &it, items, root, &format!("{path}.{i}"), out);
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

pub(crate) fn parse_source<'a>(
    file: String,
    text: &'a str,
    schema: &Value,
) -> (Source<'a>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let doc = match toml_edit::Document::parse(text.to_string()) {
        Ok(d) => Some(d),
        Err(e) => {
            let (line, column) = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    (
                        before.matches('\n').count() + 1,
                        before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1,
                    )
                })
                .unzip();
            diags.push(Diagnostic {
                file: file.clone(),
                key: String::new(),
                line,
                column,
                message: format!("not valid TOML: {}", e.message()),
                help: None,
            });
            None
        }
    };
    let src = Source { file, text, doc };
    if let Some(d) = &src.doc {
        unknown_keys(&src, d.as_item(), schema, schema, "", &mut diags);
    }
    (src, diags)
}

pub(crate) fn serde_diag(src: &Source<'_>, e: toml::de::Error) -> Diagnostic {
    let lc = e.span().map(|s| src.line_col(s.start));
    Diagnostic {
        file: src.file.clone(),
        key: String::new(),
        line: lc.map(|l| l.0),
        column: lc.map(|l| l.1),
        message: e.message().to_string(),
        help: None,
    }
}
