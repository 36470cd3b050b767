//! A BSON encoder for the answers of the legacy Auth API v1 (`/rest/v1/*.bson`), which duo_unix
//! before 2.0 reads. Only what those answers hold: documents of strings, integers, booleans,
//! nulls and nested documents (BSON 1.1, <https://bsonspec.org/spec.html>).

use serde_json::{Map, Value};

/// Why a value cannot be written as BSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BsonError {
    #[error("a BSON key cannot contain a NUL byte")]
    NulInKey,
    #[error("only objects, strings, integers, booleans and nulls are written")]
    Unsupported,
    #[error("the document is larger than BSON allows")]
    TooLarge,
}

fn length_prefix(len: usize) -> Result<[u8; 4], BsonError> {
    i32::try_from(len)
        .map(i32::to_le_bytes)
        .map_err(|_| BsonError::TooLarge)
}

/// Encodes an object as a BSON document. Integers that fit in 32 bits are `int32` (what
/// duo_unix's `bson_int` reads), others `int64`.
pub fn to_bson(object: &Map<String, Value>) -> Result<Vec<u8>, BsonError> {
    let mut body = Vec::new();
    for (key, value) in object {
        if key.as_bytes().contains(&0) {
            return Err(BsonError::NulInKey);
        }
        let (tag, bytes): (u8, Vec<u8>) = match value {
            Value::String(text) => {
                let mut bytes = length_prefix(text.len() + 1)?.to_vec();
                bytes.extend_from_slice(text.as_bytes());
                bytes.push(0);
                (0x02, bytes)
            }
            Value::Object(inner) => (0x03, to_bson(inner)?),
            Value::Bool(flag) => (0x08, vec![u8::from(*flag)]),
            Value::Null => (0x0A, Vec::new()),
            Value::Number(n) => {
                match (n.as_i64(), n.as_i64().and_then(|i| i32::try_from(i).ok())) {
                    (_, Some(small)) => (0x10, small.to_le_bytes().to_vec()),
                    (Some(large), None) => (0x12, large.to_le_bytes().to_vec()),
                    (None, _) => return Err(BsonError::Unsupported),
                }
            }
            Value::Array(_) => return Err(BsonError::Unsupported),
        };
        body.push(tag);
        body.extend_from_slice(key.as_bytes());
        body.push(0);
        body.extend_from_slice(&bytes);
    }
    // The length counts itself (4 bytes) and the closing NUL.
    let mut document = length_prefix(body.len() + 5)?.to_vec();
    document.extend_from_slice(&body);
    document.push(0);
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn encode(value: Value) -> Vec<u8> {
        to_bson(value.as_object().unwrap()).unwrap()
    }

    #[test]
    fn the_specification_example() {
        // bsonspec.org's first example: {"hello": "world"}.
        assert_eq!(
            encode(json!({"hello": "world"})),
            b"\x16\x00\x00\x00\x02hello\x00\x06\x00\x00\x00world\x00\x00".to_vec()
        );
    }

    #[test]
    fn nested_documents_integers_and_flags() {
        let bytes = encode(json!({"stat": "FAIL", "code": 40103, "r": {"b": true, "n": null}}));
        assert_eq!(
            usize::try_from(i32::from_le_bytes(bytes[..4].try_into().unwrap())).unwrap(),
            bytes.len()
        );
        assert_eq!(*bytes.last().unwrap(), 0);
        // code is an int32 (type 0x10) with its little-endian value.
        let at = bytes.windows(5).position(|w| w == b"code\x00").unwrap();
        assert_eq!(bytes[at - 1], 0x10);
        assert_eq!(&bytes[at + 5..at + 9], &40103i32.to_le_bytes());
        assert!(to_bson(json!({"a\u{0}": 1}).as_object().unwrap()).is_err());
        assert!(to_bson(json!({"a": [1]}).as_object().unwrap()).is_err());
        assert_eq!(encode(json!({"big": 5_000_000_000i64}))[4], 0x12);
    }
}
