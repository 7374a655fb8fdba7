//! AWS's binary event-stream framing (`application/vnd.amazon.eventstream`), which
//! ConverseStream answers in: each message is a prelude (total length, headers length,
//! CRC32 of both), typed headers, a payload and a CRC32 of everything before it
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/RESTSelectObjectAppendix.html>
//! describes the same framing). Checksums are verified, so a corrupted or truncated
//! stream fails instead of being misread.

use crate::llm::LlmError;

/// Largest message accepted (ConverseStream's are small JSON events).
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// One decoded message: its string headers (`:event-type`, `:message-type`, ...) and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// String-valued headers, in order (other header types are skipped).
    pub headers: Vec<(String, String)>,
    /// The payload (JSON for Bedrock's events and exceptions).
    pub payload: Vec<u8>,
}

impl Frame {
    /// A string header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Splits a byte stream into [`Frame`]s.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// Bytes of the message being received.
    buffer: Vec<u8>,
}

impl FrameDecoder {
    /// Feeds the next bytes and returns the messages they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Frame>, LlmError> {
        self.buffer.extend_from_slice(bytes);
        let mut frames = Vec::new();
        while self.buffer.len() >= 12 {
            let total = be32(&self.buffer[0..4]) as usize;
            let headers_len = be32(&self.buffer[4..8]) as usize;
            if be32(&self.buffer[8..12]) != crc32(&self.buffer[0..8]) {
                return Err(broken("a message prelude fails its checksum"));
            }
            if total > MAX_MESSAGE_BYTES || total < 16 + headers_len {
                return Err(broken("a message has an impossible length"));
            }
            if self.buffer.len() < total {
                break;
            }
            let message: Vec<u8> = self.buffer.drain(..total).collect();
            if be32(&message[total - 4..]) != crc32(&message[..total - 4]) {
                return Err(broken("a message fails its checksum"));
            }
            frames.push(Frame {
                headers: headers(&message[12..12 + headers_len])?,
                payload: message[12 + headers_len..total - 4].to_vec(),
            });
        }
        Ok(frames)
    }

    /// Whether part of a message is still waiting for its rest.
    pub fn is_mid_message(&self) -> bool {
        !self.buffer.is_empty()
    }
}

fn broken(why: &str) -> LlmError {
    LlmError::server_error(format!("Bedrock's event stream is broken: {why}"))
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// The string headers of a header block; values of other types are skipped.
fn headers(mut bytes: &[u8]) -> Result<Vec<(String, String)>, LlmError> {
    let mut out = Vec::new();
    let take = |bytes: &mut &[u8], n: usize| -> Result<Vec<u8>, LlmError> {
        if bytes.len() < n {
            return Err(broken("a header is cut short"));
        }
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        Ok(head.to_vec())
    };
    while !bytes.is_empty() {
        let name_len = usize::from(take(&mut bytes, 1)?[0]);
        let name = String::from_utf8_lossy(&take(&mut bytes, name_len)?).into_owned();
        let kind = take(&mut bytes, 1)?[0];
        let fixed = match kind {
            0 | 1 => 0,
            2 => 1,
            3 => 2,
            4 => 4,
            5 | 8 => 8,
            9 => 16,
            6 | 7 => {
                let len = take(&mut bytes, 2)?;
                let value = take(
                    &mut bytes,
                    usize::from(u16::from_be_bytes([len[0], len[1]])),
                )?;
                if kind == 7 {
                    out.push((name, String::from_utf8_lossy(&value).into_owned()));
                }
                continue;
            }
            _ => return Err(broken("a header has an unknown type")),
        };
        take(&mut bytes, fixed)?;
    }
    Ok(out)
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as the framing uses.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// One message with string headers (type 7) and `payload`, framed as the spec says:
/// the counterpart of [`FrameDecoder`], for fake Bedrock services in tests and benches.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in headers {
        block.push(name.len() as u8);
        block.extend_from_slice(name.as_bytes());
        block.push(7);
        block.extend_from_slice(&(value.len() as u16).to_be_bytes());
        block.extend_from_slice(value.as_bytes());
    }
    let total = (16 + block.len() + payload.len()) as u32;
    let mut message = total.to_be_bytes().to_vec();
    message.extend_from_slice(&(block.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&message);
    message.extend_from_slice(&prelude_crc.to_be_bytes());
    message.extend_from_slice(&block);
    message.extend_from_slice(payload);
    let crc = crc32(&message);
    message.extend_from_slice(&crc.to_be_bytes());
    message
}

/// A Bedrock `event` message of type `kind` with a JSON payload.
pub fn encode_event(kind: &str, payload: &serde_json::Value) -> Vec<u8> {
    let headers = [
        (":event-type", kind),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ];
    encode(&headers, payload.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
        encode(headers, payload)
    }

    #[test]
    fn crc32_has_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn messages_split_anywhere_are_reassembled_and_checked() {
        let mut bytes = frame(
            &[(":event-type", "messageStart"), (":message-type", "event")],
            br#"{"role":"assistant"}"#,
        );
        bytes.extend(frame(
            &[(":event-type", "messageStop")],
            br#"{"stopReason":"end_turn"}"#,
        ));
        let mut decoder = FrameDecoder::default();
        let mut frames = Vec::new();
        for piece in bytes.chunks(7) {
            frames.extend(decoder.push(piece).unwrap());
        }
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].header(":event-type"), Some("messageStart"));
        assert_eq!(frames[1].payload, br#"{"stopReason":"end_turn"}"#);
        assert!(!decoder.is_mid_message());

        let mut corrupted = frame(&[(":event-type", "messageStop")], b"{}");
        let last = corrupted.len() - 6;
        corrupted[last] ^= 1;
        let error = FrameDecoder::default().push(&corrupted).unwrap_err();
        assert!(
            error.message.contains("fails its checksum"),
            "{}",
            error.message
        );
    }
}
