//! Stored bytes shown as values, where the file's catalog describes them
//! (buckets declared with `Bucket::of`, every index): the key and the value
//! read by their recorded shapes, as text and as JSON. Without a
//! description the commands show the bytes as before.

use serde_json::{Map, Value as Json, json};
use vbolt::ReadTx;
use vpack::{Shape, Value};

/// The recorded shapes of one table's keys and values; for an index's
/// term table, of its entries' term, priority and target.
#[derive(Default)]
pub struct Described {
    key: Option<Shape>,
    value: Option<Shape>,
    /// Term, priority, target.
    entry: Option<[Shape; 3]>,
}

impl Described {
    /// What the catalog records for `table` (nothing when it records
    /// nothing, or cannot be read: the bytes are then shown as they are).
    pub fn of(tx: &ReadTx, table: &str) -> Described {
        let mut d = Described::default();
        let mut entry = [Shape::Unknown, Shape::Unknown, Shape::Unknown];
        if let Ok(parts) = vbolt::recorded_shapes(tx, table) {
            for (part, shape) in parts {
                match part.as_str() {
                    "key" => d.key = Some(shape),
                    "value" => d.value = Some(shape),
                    "term" => entry[0] = shape,
                    "priority" => entry[1] = shape,
                    "target" => entry[2] = shape,
                    _ => {}
                }
            }
        }
        if table.starts_with("index:") && entry.iter().any(|s| *s != Shape::Unknown) {
            d.entry = Some(entry);
        }
        d
    }

    /// An entry's key as a value: a bucket's key, or an index entry's
    /// term, priority and target (split by the lengths its value records).
    pub fn entry_key(&self, key: &[u8], value: &[u8]) -> Option<Result<Value, String>> {
        let Some(shapes) = &self.entry else {
            return self.key(key);
        };
        let Some(parts) = vbolt::index_entry_parts(key, value) else {
            return Some(Err("its recorded lengths do not fit the key".into()));
        };
        let mut fields = Vec::new();
        for ((name, shape), bytes) in ["term", "priority", "target"]
            .into_iter()
            .zip(shapes)
            .zip(parts)
        {
            let v = match read(shape, bytes) {
                Some(Ok(v)) => v,
                Some(Err(e)) => return Some(Err(format!("{name}: {e}"))),
                None => Value::Bytes(bytes.to_vec()),
            };
            fields.push((name.to_string(), v));
        }
        Some(Ok(Value::Struct {
            name: "entry".into(),
            version: None,
            fields,
        }))
    }

    pub fn key(&self, bytes: &[u8]) -> Option<Result<Value, String>> {
        read(self.key.as_ref()?, bytes)
    }

    pub fn value(&self, bytes: &[u8]) -> Option<Result<Value, String>> {
        read(self.value.as_ref()?, bytes)
    }

    /// The value as text: its reading, or the bytes and why they do not
    /// read. For an index entry, whose value only records lengths, the
    /// entry's term, priority and target.
    pub fn value_text(
        &self,
        key: &[u8],
        bytes: &[u8],
        raw: impl FnOnce(&[u8]) -> String,
    ) -> String {
        let reading = match self.entry {
            Some(_) => self.entry_key(key, bytes),
            None => self.value(bytes),
        };
        match reading {
            Some(Ok(v)) => v.to_string(),
            Some(Err(e)) => format!("{} (does not read as described: {e})", raw(bytes)),
            None => raw(bytes),
        }
    }

    /// `base` (the bytes' JSON form) with the reading added under
    /// `"decoded"`, or why the bytes do not read under `"decode_error"`.
    pub fn json(reading: Option<Result<Value, String>>, mut base: Json) -> Json {
        if let Json::Object(map) = &mut base {
            match reading {
                Some(Ok(v)) => {
                    map.insert("decoded".into(), to_json(&v));
                }
                Some(Err(e)) => {
                    map.insert("decode_error".into(), Json::String(e));
                }
                None => {}
            }
        }
        base
    }
}

fn read(shape: &Shape, bytes: &[u8]) -> Option<Result<Value, String>> {
    if *shape == Shape::Unknown {
        return None;
    }
    Some(
        shape
            .read(bytes)
            .map_err(|e| format!("{e} (recorded as `{shape}`)")),
    )
}

/// A value as JSON: structs as objects, options as the value or null,
/// times as RFC 3339 text, bytes as `0x` hex, integers beyond JSON's
/// safe range as text.
pub fn to_json(v: &Value) -> Json {
    const SAFE: u128 = 1 << 53;
    let fields = |fs: &[(String, Value)]| {
        Json::Object(
            fs.iter()
                .map(|(n, v)| (n.clone(), to_json(v)))
                .collect::<Map<_, _>>(),
        )
    };
    match v {
        Value::None => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Uint(n) if *n <= SAFE => json!(*n as u64),
        Value::Int(n) if n.unsigned_abs() <= SAFE => json!(*n as i64),
        Value::Uint(n) => json!(n.to_string()),
        Value::Int(n) => json!(n.to_string()),
        Value::Float(x) => serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number),
        Value::Text(s) => json!(s),
        Value::Bytes(b) => json!(format!("0x{}", crate::show::hex(b))),
        Value::TimeMillis(ms) => json!(vpack::format_millis(*ms)),
        Value::Some(inner) => to_json(inner),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(pairs) if pairs.iter().all(|(k, _)| matches!(k, Value::Text(_))) => {
            Json::Object(
                pairs
                    .iter()
                    .map(|(k, v)| match k {
                        Value::Text(s) => (s.clone(), to_json(v)),
                        _ => unreachable!("all keys are text"),
                    })
                    .collect(),
            )
        }
        Value::Map(pairs) => Json::Array(
            pairs
                .iter()
                .map(|(k, v)| json!([to_json(k), to_json(v)]))
                .collect(),
        ),
        Value::Struct { fields: fs, .. } => fields(fs),
        Value::Variant {
            variant,
            fields: fs,
            ..
        } if fs.is_empty() => json!(variant),
        Value::Variant {
            variant,
            fields: fs,
            ..
        } => json!({ variant.clone(): fields(fs) }),
        Value::Rest(b) => json!({ "undescribed": format!("0x{}", crate::show::hex(b)) }),
    }
}
