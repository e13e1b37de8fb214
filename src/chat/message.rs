//! Reading and writing the chat room's JSON objects, leniently where the
//! protocol allows it and with a precise reason where it does not.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::time::timestamp;
use super::SERVER_NAME;
use crate::framing::ChatMessage;

/// A message as a client sent it: the two fields the room needs, the time
/// if the client gave one, and whatever else the object held.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Incoming {
    pub(crate) name: String,
    pub(crate) msg: String,
    /// `None` when missing or not a string.
    pub(crate) time: Option<String>,
    /// Every other field, relayed unchanged.
    pub(crate) extra: Map<String, Value>,
}

/// Parses one frame. The error says, for the client's error message, what
/// is wrong with it.
pub(crate) fn parse(frame: &[u8]) -> Result<Incoming, String> {
    let value: Value = serde_json::from_slice(frame).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(mut object) = value else {
        return Err(format!(
            "the message must be a JSON object, not {}",
            kind_of(&value)
        ));
    };
    let name = take_string(&mut object, "name")?;
    let msg = take_string(&mut object, "msg")?;
    let time = match object.remove("time") {
        Some(Value::String(t)) => Some(t),
        _ => None,
    };
    Ok(Incoming {
        name,
        msg,
        time,
        extra: object,
    })
}

fn take_string(object: &mut Map<String, Value>, key: &str) -> Result<String, String> {
    match object.remove(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "\"{key}\" must be a string, not {}",
            kind_of(&other)
        )),
        None => Err(format!("the message has no \"{key}\"")),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Incoming {
    /// The message as the room relays it: compact JSON, `"name"`, `"msg"`
    /// and `"time"` first (a missing time filled in with the server's
    /// clock), then the other fields.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let now;
        let time = match &self.time {
            Some(t) => t.as_str(),
            None => {
                now = timestamp();
                now.as_str()
            }
        };
        encode(&self.name, &self.msg, time, &self.extra)
    }

    /// The message for a client program: the three fields, a missing time
    /// as `""`.
    pub(crate) fn into_chat_message(self) -> ChatMessage {
        ChatMessage::new(self.name, self.msg, self.time.unwrap_or_default())
    }
}

/// A message from the server itself, stamped now.
pub(crate) fn server_message(text: &str) -> Vec<u8> {
    encode(SERVER_NAME, text, &timestamp(), &Map::new())
}

/// A client's own message, as compact JSON in the protocol's field order.
pub(crate) fn chat_message_json(m: &ChatMessage) -> Vec<u8> {
    encode(&m.name, &m.msg, &m.time, &Map::new())
}

fn encode(name: &str, msg: &str, time: &str, extra: &Map<String, Value>) -> Vec<u8> {
    let out = Ordered {
        name,
        msg,
        time,
        extra,
    };
    // Strings and parsed JSON values always serialize.
    serde_json::to_vec(&out).expect("a chat message serializes")
}

/// The object with its fields in the protocol's order.
struct Ordered<'a> {
    name: &'a str,
    msg: &'a str,
    time: &'a str,
    extra: &'a Map<String, Value>,
}

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3 + self.extra.len()))?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("msg", self.msg)?;
        map.serialize_entry("time", self.time)?;
        for (k, v) in self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_the_object_compactly_in_protocol_order() {
        let m = parse(br#"{"time": "2024-2-24", "zz": [1, 2], "msg": "hi", "name": "a"}"#).unwrap();
        assert_eq!(
            m.to_json(),
            br#"{"name":"a","msg":"hi","time":"2024-2-24","zz":[1,2]}"#
        );
    }

    #[test]
    fn reads_python_escapes_and_writes_utf8() {
        let m = parse(br#"{"name": "\u5f20\u4e09", "msg": "\u4f60\u597d", "time": "t"}"#).unwrap();
        assert_eq!(
            String::from_utf8(m.to_json()).unwrap(),
            r#"{"name":"张三","msg":"你好","time":"t"}"#
        );
    }

    #[test]
    fn fills_in_a_missing_or_non_string_time() {
        for frame in [
            &br#"{"name":"a","msg":"b"}"#[..],
            br#"{"name":"a","msg":"b","time":5}"#,
        ] {
            let m = parse(frame).unwrap();
            assert_eq!(m.time, None);
            let v: Value = serde_json::from_slice(&m.to_json()).unwrap();
            assert_eq!(v["time"].as_str().unwrap().len(), 19);
        }
    }

    #[test]
    fn says_what_is_wrong_with_a_bad_message() {
        let why = |f: &[u8]| parse(f).unwrap_err();
        assert!(
            why(b"{nope").starts_with("invalid JSON: "),
            "{}",
            why(b"{nope")
        );
        assert!(why(b"").starts_with("invalid JSON: "));
        assert_eq!(
            why(b"[1]"),
            "the message must be a JSON object, not an array"
        );
        assert_eq!(why(br#"{"msg":"x"}"#), "the message has no \"name\"");
        assert_eq!(why(br#"{"name":"x"}"#), "the message has no \"msg\"");
        assert_eq!(
            why(br#"{"name":1,"msg":"x"}"#),
            "\"name\" must be a string, not a number"
        );
        assert_eq!(
            why(br#"{"name":"x","msg":null}"#),
            "\"msg\" must be a string, not null"
        );
        assert!(why(b"{\"name\":\"\xff\",\"msg\":\"x\"}").starts_with("invalid JSON: "));
    }

    #[test]
    fn server_messages_come_from_the_server() {
        let v: Value = serde_json::from_slice(&server_message("bob joined")).unwrap();
        assert_eq!(v["name"], "server");
        assert_eq!(v["msg"], "bob joined");
    }
}
