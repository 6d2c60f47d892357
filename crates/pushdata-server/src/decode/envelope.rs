//! A chunk request body (`{"tableName": …, "index": …, "data": "<base64>"}`) read as it
//! streams in: the base64 `data` is decoded block by block into the chunk's JSON text while
//! the body is still arriving, so the body itself is never held whole, copied into one
//! buffer, or scanned twice.
//!
//! The members before `data` are read with a small tokenizer; anything it does not expect
//! there (a nested value, an escaped key, a `data` that is not a string, a long prefix)
//! switches the reader to collecting the raw body, which is then parsed the ordinary way,
//! with the ordinary error messages. The envelope without its data (`…"data":""…`) is
//! parsed with serde at the end, so its other members are checked exactly as before.

use pushdata_core::wire::ChunkRequest;

use crate::mstr::error::{ApiError as ServerError, Result};

/// Base64 characters gathered before a decode (a multiple of 4).
const BLOCK: usize = 256 * 1024;

/// Longest prefix before the `data` string that is looked at; longer ones take the raw
/// path.
const MAX_HEAD: usize = 64 * 1024;

/// What a finished body holds.
#[derive(Debug)]
pub enum ChunkBody {
    /// The envelope's table and index, and the decoded JSON of the data.
    Decoded {
        /// `tableName`.
        table_name: String,
        /// `index`.
        index: pushdata_core::wire::ChunkIndex,
        /// The chunk's JSON text (base64-decoded `data`).
        json: Vec<u8>,
    },
    /// The whole raw body, for the ordinary parse.
    Raw(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the `data` string.
    Head,
    /// Inside the `data` string.
    Data,
    /// After the `data` string.
    Tail,
    /// Collecting the raw body.
    Raw,
}

/// Feeds on the body's frames; see the module docs.
#[derive(Debug)]
pub struct ChunkBodyReader {
    phase: Phase,
    /// The body before the data (through its opening quote), or the raw body.
    head: Vec<u8>,
    /// From the data's closing quote to the end.
    tail: Vec<u8>,
    /// Base64 characters not decoded yet.
    carry: Vec<u8>,
    /// A `\` ended the last frame inside the data.
    escape: bool,
    /// Base64 characters decoded so far (error offsets).
    decoded_chars: usize,
    /// What is wrong with the data, once something is: the rest of the data is skipped and
    /// the error is given at the end, when the envelope names the table and chunk.
    failure: Option<String>,
    json: Vec<u8>,
}

impl ChunkBodyReader {
    /// A reader for a body of about `expected` bytes (its Content-Length, if known).
    pub fn new(expected: Option<usize>) -> Self {
        ChunkBodyReader {
            phase: Phase::Head,
            head: Vec::new(),
            tail: Vec::new(),
            carry: Vec::with_capacity(BLOCK + 8),
            escape: false,
            decoded_chars: 0,
            failure: None,
            json: Vec::with_capacity(expected.map_or(0, |n| n / 4 * 3)),
        }
    }

    /// Take the next frame of the body.
    pub fn feed(&mut self, mut frame: &[u8]) -> Result<()> {
        while !frame.is_empty() {
            match self.phase {
                Phase::Raw => {
                    self.head.extend_from_slice(frame);
                    return Ok(());
                }
                Phase::Tail => {
                    self.tail.extend_from_slice(frame);
                    return Ok(());
                }
                Phase::Head => {
                    let before = self.head.len();
                    self.head.extend_from_slice(frame);
                    match scan_head(&self.head) {
                        Head::NeedMore if self.head.len() <= MAX_HEAD => return Ok(()),
                        Head::NeedMore | Head::Unusual => {
                            self.phase = Phase::Raw;
                            self.json = Vec::new();
                            return Ok(());
                        }
                        Head::DataAt(at) => {
                            // The rest of this frame is data (and maybe the tail).
                            frame = &frame[at - before..];
                            self.head.truncate(at);
                            self.phase = Phase::Data;
                        }
                    }
                }
                Phase::Data => {
                    frame = self.data(frame);
                }
            }
        }
        Ok(())
    }

    /// Take data characters from `frame`; returns what follows the data in it.
    fn data<'f>(&mut self, mut frame: &'f [u8]) -> &'f [u8] {
        if self.escape {
            self.escape = false;
            match frame.split_first() {
                Some((b'/', rest)) => {
                    self.carry.push(b'/');
                    frame = rest;
                }
                Some((&c, rest)) => {
                    self.fail(format!(
                        "escape \\{} at character {}",
                        char::from(c),
                        self.decoded_chars + self.carry.len()
                    ));
                    frame = rest;
                }
                None => return frame,
            }
        }
        let end = memchr::memchr2(b'"', b'\\', frame);
        let (chars, rest) = match end {
            Some(p) => frame.split_at(p),
            None => (frame, &frame[frame.len()..]),
        };
        if self.failure.is_none() {
            self.take_chars(chars);
        }
        match rest.split_first() {
            None => rest,
            Some((b'\\', after)) => {
                self.escape = true;
                after
            }
            Some(_) => {
                // The closing quote: the rest is the tail.
                if self.failure.is_none() {
                    self.decode(true);
                }
                self.phase = Phase::Tail;
                rest
            }
        }
    }

    /// Take data characters: whole groups of 4 straight from `chars` when nothing is
    /// carried (all but the last group, which may hold the padding), the rest carried.
    fn take_chars(&mut self, mut chars: &[u8]) {
        if self.carry.is_empty() && chars.len() >= 2 * BLOCK {
            let n = (chars.len() / 4 - 1) * 4;
            if !self.decode_block(&chars[..n], false) {
                return;
            }
            chars = &chars[n..];
        }
        self.carry.extend_from_slice(chars);
        if self.carry.len() >= BLOCK {
            self.decode(false);
        }
    }

    fn fail(&mut self, detail: String) {
        if self.failure.is_none() {
            self.failure = Some(detail);
        }
        self.carry = Vec::new();
        self.json = Vec::new();
    }

    /// Decode the gathered characters: all of them at the end of the data, else all whole
    /// groups of 4 but the last (which may hold the padding).
    fn decode(&mut self, last: bool) {
        let n = if last {
            self.carry.len()
        } else {
            (self.carry.len() / 4).saturating_sub(1) * 4
        };
        if n == 0 {
            return;
        }
        let carry = std::mem::take(&mut self.carry);
        let ok = self.decode_block(&carry[..n], last);
        self.carry = carry;
        if ok {
            self.carry.drain(..n);
        }
    }

    /// Decode `block` (whole groups of 4) onto the JSON; false (and the failure noted) when
    /// it is not valid base64.
    fn decode_block(&mut self, block: &[u8], last: bool) -> bool {
        // Padding may only end the data: a block ending in `=` that is not the last is
        // invalid even though it decodes on its own.
        let padded_inside = !last && block.last() == Some(&b'=');
        if padded_inside
            || base64_simd::STANDARD
                .decode_append(block, &mut self.json)
                .is_err()
        {
            let detail = super::base64_fault(
                block,
                self.decoded_chars,
                self.decoded_chars + block.len() + self.carry.len(),
            );
            self.fail(detail);
            return false;
        }
        self.decoded_chars += block.len();
        true
    }

    /// The body is complete.
    pub fn finish(mut self) -> Result<ChunkBody> {
        match self.phase {
            Phase::Raw | Phase::Head | Phase::Data => {
                // Let the ordinary parse describe what is wrong (or read an unusual body).
                if self.phase == Phase::Data {
                    return Err(ServerError::bad_request(
                        "invalid chunk body (expected {\"tableName\", \"index\", \"data\"}): the body ends inside the data string",
                    ));
                }
                Ok(ChunkBody::Raw(self.head))
            }
            Phase::Tail => {
                // The envelope with an empty data string: `…"data":` + `""` + `…}`.
                self.head.extend_from_slice(&self.tail);
                let req: ChunkRequest<'_> = serde_json::from_slice(&self.head).map_err(|e| {
                    ServerError::bad_request(format!(
                        "invalid chunk body (expected {{\"tableName\", \"index\", \"data\"}}): {e}"
                    ))
                })?;
                if let Some(detail) = self.failure {
                    return Err(ServerError::bad_request(format!(
                        "table {:?}, chunk {}: data is not valid base64 (standard alphabet, padded): {detail}",
                        req.table_name, req.index
                    )));
                }
                Ok(ChunkBody::Decoded {
                    table_name: req.table_name.to_string(),
                    index: req.index,
                    json: self.json,
                })
            }
        }
    }
}

/// Where the head scan got.
#[derive(Debug, PartialEq, Eq)]
enum Head {
    /// The data string starts at this offset (after its opening quote).
    DataAt(usize),
    /// The head ends before the data string.
    NeedMore,
    /// Not a shape this reader follows: collect the raw body.
    Unusual,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Follow `{ "key": value, … "data": "` over `b`.
fn scan_head(b: &[u8]) -> Head {
    let mut i = skip_ws(b, 0);
    match b.get(i) {
        None => return Head::NeedMore,
        Some(b'{') => i += 1,
        Some(_) => return Head::Unusual,
    }
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            None => return Head::NeedMore,
            Some(b'"') => i += 1,
            Some(_) => return Head::Unusual,
        }
        // The key (no escapes).
        let Some(len) = b[i..].iter().position(|&c| c == b'"' || c == b'\\') else {
            return Head::NeedMore;
        };
        if b[i + len] == b'\\' {
            return Head::Unusual;
        }
        let key = &b[i..i + len];
        i = skip_ws(b, i + len + 1);
        match b.get(i) {
            None => return Head::NeedMore,
            Some(b':') => i = skip_ws(b, i + 1),
            Some(_) => return Head::Unusual,
        }
        let Some(&first) = b.get(i) else {
            return Head::NeedMore;
        };
        if key == b"data" {
            return if first == b'"' {
                Head::DataAt(i + 1)
            } else {
                Head::Unusual
            };
        }
        // Skip another member's value: a string, a number or a literal.
        if first == b'"' {
            i += 1;
            loop {
                match b.get(i) {
                    None => return Head::NeedMore,
                    Some(b'\\') => i += 2,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
        } else if first == b'{' || first == b'[' {
            return Head::Unusual;
        } else {
            while i < b.len() && !matches!(b[i], b',' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                i += 1;
            }
        }
        i = skip_ws(b, i);
        match b.get(i) {
            None => return Head::NeedMore,
            Some(b',') => i += 1,
            // The object ends without a data string: the ordinary parse says so.
            Some(_) => return Head::Unusual,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use base64::Engine;

    fn read(body: &[u8], frame: usize) -> Result<ChunkBody> {
        let mut r = ChunkBodyReader::new(Some(body.len()));
        for f in body.chunks(frame.max(1)) {
            r.feed(f)?;
        }
        r.finish()
    }

    fn b64(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    #[test]
    fn decodes_across_any_frame_boundaries() {
        let json: Vec<u8> = (0..(BLOCK * 2 + 7)).map(|i| b"[1,\"x\"],"[i % 8]).collect();
        let bodies = [
            format!(
                r#"{{"tableName":"t\"1","index":3,"data":"{}"}}"#,
                b64(&json)
            ),
            format!(
                "{{ \"index\" : \"3\" ,\n \"tableName\": \"t\\\"1\", \"data\" : \"{}\" , \"extra\": null }}",
                b64(&json)
            ),
            // A serializer that escapes '/'.
            format!(
                r#"{{"tableName":"t\"1","index":3,"data":"{}"}}"#,
                b64(&json).replace('/', "\\/")
            ),
        ];
        for body in &bodies {
            for frame in [1, 3, 4, 5, 1000, BLOCK + 1, body.len()] {
                match read(body.as_bytes(), frame).unwrap() {
                    ChunkBody::Decoded {
                        table_name,
                        index,
                        json: got,
                    } => {
                        assert_eq!(table_name, "t\"1");
                        assert_eq!(index.0, 3);
                        assert!(got == json, "frame {frame}");
                    }
                    ChunkBody::Raw(_) => panic!("raw for {frame}"),
                }
            }
        }
    }

    #[test]
    fn unusual_bodies_are_collected_raw() {
        for body in [
            r#"{"data":{"x":1},"tableName":"t","index":1}"#,
            r#"{"tableName":"t","index":1}"#,
            r#"{"ta\u0062leName":"t","index":1,"data":"W10="}"#,
            r#"[1,2]"#,
            r#"{"meta":[1],"data":"W10="}"#,
            "",
        ] {
            for frame in [1, 7, 100] {
                match read(body.as_bytes(), frame).unwrap() {
                    ChunkBody::Raw(raw) => assert_eq!(raw, body.as_bytes()),
                    other => panic!("{body}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn padding_inside_the_data_is_refused() {
        // A padded group right where a block ends, more data after it.
        let mut data = "A".repeat(BLOCK - 4);
        data.push_str("W10=");
        data.push_str(&"A".repeat(BLOCK));
        let body = format!(r#"{{"tableName":"t","index":1,"data":"{data}"}}"#);
        let e = read(body.as_bytes(), BLOCK / 2).unwrap_err().to_string();
        assert!(e.contains("bad length or padding"), "{e}");
        assert!(base64_simd::STANDARD.decode_to_vec(&data).is_err());
    }

    #[test]
    fn errors_say_where() {
        let e = read(br#"{"tableName":"t","index":1,"data":"W1*0"}"#, 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid character '*' at offset 2"), "{e}");
        assert!(e.contains("table \"t\", chunk 1"), "{e}");
        let e = read(br#"{"tableName":"t","index":1,"data":"W10"}"#, 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad length or padding"), "{e}");
        let e = read(br#"{"tableName":"t","index":1,"data":"W1\n0="}"#, 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("escape \\n"), "{e}");
        // The table and chunk come after the data: still named.
        let e = read(br#"{"data":"!W10=","index":4,"tableName":"u"}"#, 3)
            .unwrap_err()
            .to_string();
        assert!(e.contains("table \"u\", chunk 4"), "{e}");
        assert!(e.contains("invalid character '!' at offset 0"), "{e}");
        let e = read(br#"{"tableName":"t","index":1,"data":"W10="#, 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("ends inside the data string"), "{e}");
        let e = read(br#"{"tableName":"t","index":"x","data":"W10="}"#, 5)
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid chunk body"), "{e}");
        let e = read(br#"{"tableName":"t","index":1,"data":"W10="} x"#, 5)
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid chunk body"), "{e}");
    }
}
