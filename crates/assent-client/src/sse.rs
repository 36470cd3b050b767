//! A small incremental parser for server-sent events (the WHATWG event-stream format), enough
//! for Assent's streams: `event`, `data` (joined by newlines), comments and keep-alives ignored.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// Feeds bytes in, takes events out. Bounded: a line longer than `MAX_LINE` is dropped.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    event: String,
    data: Vec<String>,
}

/// Longest line kept; Assent's events are far smaller.
pub const MAX_LINE: usize = 64 * 1024;

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes; returns the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                let line = std::mem::take(&mut self.buffer);
                let line = String::from_utf8_lossy(&line);
                let line = line.strip_suffix('\r').unwrap_or(&line);
                if let Some(event) = self.line(line) {
                    events.push(event);
                }
            } else if self.buffer.len() < MAX_LINE {
                self.buffer.push(b);
            }
        }
        events
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            let data = std::mem::take(&mut self.data);
            if data.is_empty() {
                return None;
            }
            let event = if event.is_empty() {
                "message".to_owned()
            } else {
                event
            };
            return Some(SseEvent {
                event,
                data: data.join("\n"),
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = value.to_owned(),
            "data" => self.data.push(value.to_owned()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_across_chunks() {
        let mut p = SseParser::new();
        assert!(p.push(b": keep-alive\n\nevent: appr").is_empty());
        let events = p.push(b"oval\ndata: {\"id\":1}\r\n\nevent: x\ndata: a\ndata: b\n\n");
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: "approval".into(),
                    data: "{\"id\":1}".into()
                },
                SseEvent {
                    event: "x".into(),
                    data: "a\nb".into()
                }
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..64), 0..16)) {
            let mut p = SseParser::new();
            for c in chunks {
                let _ = p.push(&c);
            }
        }
    }
}
