//! A chunk's body, the envelope `{"tableName": …, "index": …, "data": "<base64>"}`, read
//! as it streams in: the base64 data is decoded block by block into chunk JSON while the
//! body is still arriving, so the body itself is never held whole, copied into one buffer,
//! or scanned twice.
//!
//! The members before `data` are read with a small scanner; anything it does not expect
//! there (a nested value, an escaped key, a `data` that is not a string, a long prefix)
//! switches the reader to collecting the raw body, which is then parsed the ordinary way,
//! with the ordinary error messages. The envelope without its data (`…"data":""…`) is
//! parsed with serde at the end, so its other members are checked exactly as before.
//! Either way the reader hands back one [`ReceivedChunk`].
//!
//! Given the layouts of the tables a chunk may belong to ([`ChunkBodyReader::with_layouts`]),
//! the reader also cuts the rows of a large ROW chunk off into parts decoded while the body
//! still arrives ([`EarlyRows`]), once the envelope's members before the data name the
//! table and chunk.

use arrow_array::RecordBatch;
use pushdata_core::wire::{ChunkIndex, ChunkRequest};

use super::data::{base64_fault, decode_base64};
use super::early::{EarlyRows, PART_BYTES};
use super::error::{Base64Fault, DecodeError, Place};
use super::{ChunkLayout, decode_json_parts};

/// Base64 characters gathered before a decode (a multiple of 4).
const BLOCK: usize = 256 * 1024;

/// Longest prefix before the `data` string that is looked at; longer ones take the raw
/// path.
const MAX_HEAD: usize = 64 * 1024;

/// A received chunk: the envelope's table and index, and its data decoded into chunk JSON.
#[derive(Debug)]
pub(crate) struct ReceivedChunk {
    pub(crate) table_name: String,
    pub(crate) index: ChunkIndex,
    /// The chunk JSON (base64-decoded `data`); only its rows after those in `early` when
    /// that is set.
    pub(crate) json: Vec<u8>,
    /// Rows cut off and decoded while the body arrived.
    early: Option<EarlyRows>,
}

impl ReceivedChunk {
    /// The chunk's batches (in row order, one schema) with the table's columns, `layout`
    /// being the layout of the table the chunk names (see [`decode_json_parts`]).
    pub(crate) fn decode(
        self,
        layout: &ChunkLayout,
        place: &Place,
    ) -> Result<Vec<RecordBatch>, DecodeError> {
        match self.early {
            Some(early) => early.finish(self.json, layout, place),
            None => decode_json_parts(&self.json, layout, place),
        }
    }
}

/// What the reader asks, once the envelope's members before the data are read, for rows
/// of the chunk to be decoded while its body arrives: given the table the chunk names
/// (`tableName`) and its index, the rows to decode with that table's layout, if the chunk
/// is one to decode that way.
pub(crate) struct Layouts(Box<AskLayout>);

/// See [`Layouts`].
type AskLayout = dyn FnOnce(&str, ChunkIndex) -> Option<EarlyRows> + Send;

impl Layouts {
    /// Ask `f` for the rows to decode early.
    pub(crate) fn new(
        f: impl FnOnce(&str, ChunkIndex) -> Option<EarlyRows> + Send + 'static,
    ) -> Self {
        Layouts(Box::new(f))
    }
}

impl std::fmt::Debug for Layouts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Layouts")
    }
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
pub(crate) struct ChunkBodyReader {
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
    /// What is wrong with the data, once something is (and the decoder's error, if it was
    /// the one to refuse): the rest of the data is skipped and the error is given at the
    /// end, when the envelope names the table and chunk.
    failure: Option<(Base64Fault, Option<base64_simd::Error>)>,
    json: Vec<u8>,
    /// The JSON size the declared body length implies (a hint from the client: memory is
    /// reserved from it only as bytes actually arrive).
    expected_json: usize,
    /// Asked for `early` when the data starts.
    layouts: Option<Layouts>,
    /// Rows cut off the JSON and decoded while the body arrives.
    early: Option<EarlyRows>,
}

impl ChunkBodyReader {
    /// A reader for a body of about `expected` bytes (its Content-Length, if known).
    pub(crate) fn new(expected: Option<usize>) -> Self {
        ChunkBodyReader {
            phase: Phase::Head,
            head: Vec::new(),
            tail: Vec::new(),
            carry: Vec::with_capacity(BLOCK + 8),
            escape: false,
            decoded_chars: 0,
            failure: None,
            json: Vec::new(),
            expected_json: expected.map_or(0, |n| n / 4 * 3),
            layouts: None,
            early: None,
        }
    }

    /// Decode the rows of a large ROW chunk while its body arrives, asking `layouts` for
    /// them once the members before the data name the table and chunk (see the module
    /// docs).
    pub(crate) fn with_layouts(mut self, layouts: Layouts) -> Self {
        self.layouts = Some(layouts);
        self
    }

    /// Take the next frame of the body.
    pub(crate) fn feed(&mut self, mut frame: &[u8]) -> Result<(), DecodeError> {
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
                Phase::Head => frame = self.head_frame(frame),
                Phase::Data => frame = self.data(frame),
            }
        }
        Ok(())
    }

    /// Take head bytes from `frame`; returns what follows the head in it (the data), if
    /// the data string starts there.
    fn head_frame<'f>(&mut self, frame: &'f [u8]) -> &'f [u8] {
        let before = self.head.len();
        self.head.extend_from_slice(frame);
        match scan_head(&self.head) {
            Ok(at) => {
                self.head.truncate(at);
                self.phase = Phase::Data;
                self.start_early();
                &frame[at - before..]
            }
            Err(Stop::NeedMore) if self.head.len() <= MAX_HEAD => &[],
            Err(Stop::NeedMore | Stop::Unusual) => {
                self.phase = Phase::Raw;
                self.json = Vec::new();
                &[]
            }
        }
    }

    /// The data starts: if the members before it name the table and chunk, ask for the
    /// rows to be decoded while the body arrives.
    fn start_early(&mut self) {
        let Some(layouts) = self.layouts.take() else {
            return;
        };
        let mut envelope = self.head.clone();
        envelope.extend_from_slice(b"\"}");
        if let Ok(req) = serde_json::from_slice::<ChunkRequest<'_>>(&envelope) {
            self.early = (layouts.0)(&req.table_name, req.index);
        }
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
                    let at = self.decoded_chars + self.carry.len();
                    self.fail(Base64Fault::Escape {
                        found: char::from(c),
                        at,
                    });
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

    fn fail(&mut self, fault: Base64Fault) {
        self.fail_with(fault, None);
    }

    fn fail_with(&mut self, fault: Base64Fault, source: Option<base64_simd::Error>) {
        if self.failure.is_none() {
            self.failure = Some((fault, source));
        }
        self.carry = Vec::new();
        self.json = Vec::new();
        self.early = None;
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

    /// Make room for `more` bytes of JSON. Once data arrives, the buffer is reserved at the
    /// size the declared length implies (at most the body limit, checked before the body
    /// is read), so a body of the declared size is never moved while it grows; the
    /// reservation is address space, and a page of it is only touched, so only counts
    /// in memory, when decoded bytes reach it. Past the declared size (a client that
    /// understated it) the buffer doubles.
    #[inline]
    fn reserve_for(&mut self, more: usize) {
        let need = self.json.len() + more;
        if need <= self.json.capacity() {
            return;
        }
        let expected = match &self.early {
            // A part is cut off at about this size.
            Some(early) if early.cutting() => PART_BYTES + BLOCK,
            _ => self.expected_json,
        };
        let target = need.max(expected).max(self.json.capacity() * 2);
        self.json.reserve_exact(target - self.json.len());
    }

    /// Decode `block` (whole groups of 4) onto the JSON; false (and the failure noted) when
    /// it is not valid base64.
    fn decode_block(&mut self, block: &[u8], last: bool) -> bool {
        // Padding may only end the data: a block ending in `=` that is not the last is
        // invalid even though it decodes on its own.
        let padded_inside = !last && block.last() == Some(&b'=');
        self.reserve_for(block.len() / 4 * 3);
        let decoded = if padded_inside {
            Err(None)
        } else {
            base64_simd::STANDARD
                .decode_append(block, &mut self.json)
                .map_err(Some)
        };
        match decoded {
            Ok(()) => {
                self.decoded_chars += block.len();
                if let Some(early) = &mut self.early {
                    early.take(&mut self.json, PART_BYTES + BLOCK);
                }
                true
            }
            Err(source) => {
                let fault = base64_fault(
                    block,
                    self.decoded_chars,
                    self.decoded_chars + block.len() + self.carry.len(),
                );
                self.fail_with(fault, source);
                false
            }
        }
    }

    /// The body is complete: the chunk it holds, whichever way it was read.
    pub(crate) fn finish(self) -> Result<ReceivedChunk, DecodeError> {
        match self.phase {
            Phase::Data => Err(DecodeError::BodyEndsInData),
            // Let the ordinary parse read an unusual body (or describe what is wrong).
            Phase::Raw | Phase::Head => parse_whole(&self.head),
            Phase::Tail => self.finish_streamed(),
        }
    }

    /// The envelope with an empty data string (`…"data":` + `""` + `…}`) parsed, and the
    /// data decoded so far.
    fn finish_streamed(mut self) -> Result<ReceivedChunk, DecodeError> {
        self.head.extend_from_slice(&self.tail);
        let req: ChunkRequest<'_> = serde_json::from_slice(&self.head)
            .map_err(|source| DecodeError::Envelope { source })?;
        if let Some((fault, source)) = self.failure {
            return Err(DecodeError::Base64 {
                place: Place::chunk(&req.table_name, req.index),
                fault,
                source,
            });
        }
        Ok(ReceivedChunk {
            table_name: req.table_name.to_string(),
            index: req.index,
            json: self.json,
            early: self.early,
        })
    }
}

/// A body the streaming reader did not follow, parsed whole the ordinary way.
fn parse_whole(body: &[u8]) -> Result<ReceivedChunk, DecodeError> {
    let req: ChunkRequest<'_> =
        serde_json::from_slice(body).map_err(|source| DecodeError::Envelope { source })?;
    let place = Place::chunk(&req.table_name, req.index);
    let json = decode_base64(req.data.as_bytes(), &place)?;
    Ok(ReceivedChunk {
        table_name: req.table_name.to_string(),
        index: req.index,
        json,
        early: None,
    })
}

/// Why the head scan stopped before the data string.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// The head ends before the data string.
    NeedMore,
    /// Not a shape this reader follows: collect the raw body.
    Unusual,
}

/// A step of the head scan: the offset after what it read.
type Step = Result<usize, Stop>;

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Follow `{ "key": value, … "data": "` over `b`: the offset where the data string starts
/// (after its opening quote).
fn scan_head(b: &[u8]) -> Step {
    let mut i = byte(b, 0, b'{')?;
    loop {
        let (key, after) = key(b, i)?;
        i = skip_ws(b, byte(b, after, b':')?);
        let Some(&first) = b.get(i) else {
            return Err(Stop::NeedMore);
        };
        if key == b"data" {
            return if first == b'"' {
                Ok(i + 1)
            } else {
                Err(Stop::Unusual)
            };
        }
        i = skip_value(b, i)?;
        // The object ending without a data string is unusual: the ordinary parse says so.
        i = byte(b, i, b',')?;
    }
}

/// `want` after whitespace.
fn byte(b: &[u8], i: usize, want: u8) -> Step {
    let i = skip_ws(b, i);
    match b.get(i) {
        None => Err(Stop::NeedMore),
        Some(&c) if c == want => Ok(i + 1),
        Some(_) => Err(Stop::Unusual),
    }
}

/// A member's key (without escapes) after whitespace, and the offset after it.
fn key(b: &[u8], i: usize) -> Result<(&[u8], usize), Stop> {
    let i = byte(b, i, b'"')?;
    let Some(len) = b[i..].iter().position(|&c| c == b'"' || c == b'\\') else {
        return Err(Stop::NeedMore);
    };
    if b[i + len] == b'\\' {
        return Err(Stop::Unusual);
    }
    Ok((&b[i..i + len], i + len + 1))
}

/// Skip another member's value starting at `i`: a string, a number or a literal.
fn skip_value(b: &[u8], mut i: usize) -> Step {
    match b.get(i) {
        Some(b'"') => {
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err(Stop::NeedMore),
                    Some(b'\\') => i += 2,
                    Some(b'"') => return Ok(i + 1),
                    Some(_) => i += 1,
                }
            }
        }
        Some(b'{' | b'[') => Err(Stop::Unusual),
        _ => {
            while i < b.len() && !matches!(b[i], b',' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                i += 1;
            }
            Ok(i)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use base64::Engine;

    fn feed_all(body: &[u8], frame: usize) -> ChunkBodyReader {
        let mut r = ChunkBodyReader::new(Some(body.len()));
        for f in body.chunks(frame.max(1)) {
            r.feed(f).unwrap();
        }
        r
    }

    fn read(body: &[u8], frame: usize) -> Result<ReceivedChunk, DecodeError> {
        feed_all(body, frame).finish()
    }

    /// The raw body collected for the ordinary parse, if the reader took that path.
    fn collected_raw(r: &ChunkBodyReader) -> Option<&[u8]> {
        matches!(r.phase, Phase::Raw | Phase::Head).then_some(r.head.as_slice())
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
                let r = feed_all(body.as_bytes(), frame);
                if collected_raw(&r).is_some() {
                    panic!("raw for {frame}");
                }
                let ReceivedChunk {
                    table_name,
                    index,
                    json: got,
                    ..
                } = r.finish().unwrap();
                assert_eq!(table_name, "t\"1");
                assert_eq!(index.0, 3);
                assert!(got == json, "frame {frame}");
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
                let r = feed_all(body.as_bytes(), frame);
                match collected_raw(&r) {
                    Some(raw) => assert_eq!(raw, body.as_bytes()),
                    None => panic!("{body}: {r:?}"),
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
