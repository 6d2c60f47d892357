//! The rows of a ROW chunk decoded while its body still arrives.
//!
//! The envelope reader decodes the base64 data into chunk JSON as the body's frames come
//! in; without this module the rows are decoded only once the whole body is there, so the
//! one thread reading the body works alone while the others wait. [`EarlyRows`] takes the
//! JSON as it grows: each time about [`PART_BYTES`] of whole rows are there, they are cut
//! off (at the last `]` ws* `,` ws* `[` between two rows, as [`split`](super::split) cuts)
//! into a part of their own, decoded on a rayon thread while the body goes on arriving.
//! When the body ends, the rest is decoded and the parts are joined in row order (their
//! decimal columns unified, as the parallel decode does).
//!
//! A cut can only be wrong where the sequence sits inside a string; the part that holds
//! the string's start then fails. On any failure the chunk JSON is put together again
//! from the parts' bytes and decoded the ordinary way, which gives the exact error with
//! the row numbers and offsets of the whole chunk.

use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, mpsc};

use arrow_array::RecordBatch;

use super::decode_json_parts;
use super::error::{BatchError, DecodeError, Place};
use super::grammar::{Frame, decode_text};
use super::layout::ChunkLayout;
use super::split::{is_ws, unify};

/// The chunk JSON gathered before whole rows are cut off into a part.
pub(crate) const PART_BYTES: usize = 2 << 20;

/// How far before the end of the last search a cut is looked for again (a cut's `]`, `,`
/// and whitespace may end one search and its `[` start the next).
const LOOKBACK: usize = 64;

/// A part handed to a rayon thread, as it comes back.
struct Part {
    /// The JSON buffer the part was cut from: `bytes[..keep]` is the chunk JSON it took
    /// (its rows, what came before them in the buffer, and the separator after them).
    bytes: Vec<u8>,
    keep: usize,
    /// Its rows decoded; `None` when they did not decode (or the decode panicked).
    batch: Option<RecordBatch>,
}

/// The parts of a chunk cut and decoded so far; see the module docs.
pub(crate) struct EarlyRows {
    layout: Arc<ChunkLayout>,
    place: Place,
    /// Where the rows start in the JSON buffer (after the chunk's `[`, or at the first row
    /// after a cut); `None` until the `[` is there.
    from: Option<usize>,
    /// The JSON does not start like ROW chunk JSON: no cuts.
    off: bool,
    /// How far the buffer was searched for a cut without finding one.
    searched: usize,
    /// The parts in row order, as their decodes answer.
    parts: Vec<mpsc::Receiver<Part>>,
}

impl std::fmt::Debug for EarlyRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EarlyRows")
            .field("place", &self.place)
            .field("from", &self.from)
            .field("parts", &self.parts.len())
            .finish_non_exhaustive()
    }
}

impl EarlyRows {
    /// Rows of a chunk (`place`) of the table of `layout`, decoded while its body arrives;
    /// `None` when that is not done: COLUMN chunks (cut between column arrays only once
    /// whole, by [`split`](super::split)) and a rayon pool of one thread.
    pub(crate) fn new(layout: Arc<ChunkLayout>, place: Place) -> Option<Self> {
        let row = layout.orientation == pushdata_core::wire::Orientation::Row;
        (row && rayon::current_num_threads() > 1).then_some(EarlyRows {
            layout,
            place,
            from: None,
            off: false,
            searched: 0,
            parts: Vec::new(),
        })
    }

    /// Whether rows may still be cut off (the JSON starts as ROW chunk JSON of row
    /// arrays, or not enough of it is there to tell).
    pub(crate) fn cutting(&self) -> bool {
        !self.off
    }

    /// The JSON buffer `json` grew: when it holds enough whole rows, cut them off into a
    /// part and hand it to a rayon thread; `json` then holds the rest (a new buffer of
    /// `capacity` bytes, or more).
    pub(crate) fn take(&mut self, json: &mut Vec<u8>, capacity: usize) {
        if self.off {
            return;
        }
        let from = match self.from {
            Some(from) => from,
            None => match rows_start(json) {
                Start::NeedMore => return,
                Start::At(from) => *self.from.insert(from),
                Start::NotRowArrays => {
                    self.off = true;
                    return;
                }
            },
        };
        if json.len() < from + PART_BYTES {
            return;
        }
        let start = self.searched.saturating_sub(LOOKBACK).max(from);
        self.searched = json.len();
        let Some((row_end, next)) = rfind_row_cut(&json[start..]) else {
            return;
        };
        let (row_end, next) = (start + row_end, start + next);
        let mut rest = Vec::with_capacity(capacity.max(json.len() - next));
        rest.extend_from_slice(&json[next..]);
        let bytes = std::mem::replace(json, rest);
        self.spawn(bytes, from..row_end, next);
        self.from = Some(0);
        self.searched = json.len();
    }

    /// Decode the rows `bytes[rows]` on a rayon thread.
    fn spawn(&mut self, bytes: Vec<u8>, rows: Range<usize>, keep: usize) {
        let (tx, rx) = mpsc::sync_channel(1);
        let layout = self.layout.clone();
        let place = self.place.clone();
        rayon::spawn(move || {
            let decode = || {
                let text = std::str::from_utf8(bytes.get(rows)?).ok()?;
                decode_text(text, &layout, &place, Frame::RowsPart).ok()
            };
            // The decoder does not panic on any input; should it, the part is decoded
            // again with the whole chunk (which would report it), not lost.
            let batch = std::panic::catch_unwind(AssertUnwindSafe(decode))
                .ok()
                .flatten();
            // The receiver is gone when the upload failed meanwhile: nothing to do.
            let _ = tx.send(Part { bytes, keep, batch });
        });
        self.parts.push(rx);
        tracing::trace!(place = %self.place, part = self.parts.len(), "rows cut off for an early decode");
    }

    /// The body is complete and `rest` is the chunk JSON after the parts: the chunk's
    /// batches in row order, with `layout` (the layout of the table the whole envelope
    /// names; the parts are used if they were decoded with it). Decodes the chunk whole,
    /// the ordinary way ([`decode_json_parts`]), when nothing was cut off or any part
    /// failed.
    pub(crate) fn finish(
        self,
        rest: Vec<u8>,
        layout: &ChunkLayout,
        place: &Place,
    ) -> Result<Vec<RecordBatch>, DecodeError> {
        if self.parts.is_empty() {
            return decode_json_parts(&rest, layout, place);
        }
        let same = std::ptr::eq(Arc::as_ptr(&self.layout), layout) && self.place == *place;
        let from = self.from.unwrap_or(0);
        // The last rows, from `from` to the chunk's closing `]` (whitespace after it).
        let last = rest
            .iter()
            .rposition(|&b| !is_ws(b))
            .filter(|&c| same && rest[c] == b']' && c > from)
            .and_then(|c| std::str::from_utf8(&rest[from..c]).ok())
            .and_then(|text| decode_text(text, layout, place, Frame::RowsPart).ok());
        let mut done = Vec::with_capacity(self.parts.len());
        for rx in self.parts {
            done.push(rx.recv().map_err(|_| DecodeError::Batch {
                place: place.clone(),
                source: BatchError::PartLost,
            })?);
        }
        if let Some(batches) = last.and_then(|last| joined(&mut done, last)) {
            return Ok(batches);
        }
        let keep: usize = done.iter().map(|p| p.keep).sum();
        let mut whole = Vec::with_capacity(keep + rest.len());
        for p in done {
            whole.extend_from_slice(&p.bytes[..p.keep]);
        }
        whole.extend_from_slice(&rest);
        decode_json_parts(&whole, layout, place)
    }
}

/// The parts' batches and `last`, in row order with one schema; `None` when a part failed
/// (or their decimals do not unify).
fn joined(done: &mut [Part], last: RecordBatch) -> Option<Vec<RecordBatch>> {
    let mut batches = Vec::with_capacity(done.len() + 1);
    for p in done.iter_mut() {
        batches.push(p.batch.take()?);
    }
    batches.push(last);
    unify(batches)
}

/// Where the rows of chunk JSON start.
enum Start {
    /// After the chunk's `[`, at the first row array's `[` (or the closing `]`).
    At(usize),
    /// Not known yet.
    NeedMore,
    /// Not `[` then a row array (row objects have no cuts to look for).
    NotRowArrays,
}

fn rows_start(json: &[u8]) -> Start {
    let first = |from: usize| {
        json[from..]
            .iter()
            .position(|&b| !is_ws(b))
            .map(|p| from + p)
    };
    let Some(open) = first(0) else {
        return Start::NeedMore;
    };
    if json[open] != b'[' {
        return Start::NotRowArrays;
    }
    match first(open + 1) {
        None => Start::NeedMore,
        Some(row) if matches!(json[row], b'[' | b']') => Start::At(open + 1),
        Some(_) => Start::NotRowArrays,
    }
}

/// In `s`, the last `]` ws* `,` ws* `[`: (the index after the `]`, the index of the `[`).
fn rfind_row_cut(s: &[u8]) -> Option<(usize, usize)> {
    let back_ws = |mut j: usize| {
        while j > 0 && is_ws(s[j - 1]) {
            j -= 1;
        }
        j
    };
    memchr::memrchr_iter(b'[', s).find_map(|open| {
        let j = back_ws(open);
        if j == 0 || s[j - 1] != b',' {
            return None;
        }
        let j = back_ws(j - 1);
        (j > 0 && s[j - 1] == b']').then_some((j, open))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::mstr::decode::decode_json;
    use crate::mstr::decode::tests::{big_row_chunk, layout};
    use pushdata_core::wire::Orientation;

    /// `text` fed to an [`EarlyRows`] in `step`-byte appends, as the envelope reader does.
    fn early(
        text: &str,
        step: usize,
        threads: usize,
    ) -> (usize, Result<Vec<RecordBatch>, DecodeError>) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let l = Arc::new(layout(Orientation::Row));
            let mut rows = EarlyRows::new(l.clone(), Place::table("t")).unwrap();
            let mut json = Vec::new();
            for piece in text.as_bytes().chunks(step) {
                json.extend_from_slice(piece);
                rows.take(&mut json, PART_BYTES);
            }
            let parts = rows.parts.len();
            (parts, rows.finish(json, &l, &Place::table("t")))
        })
    }

    #[test]
    fn rows_decoded_while_arriving_match_one_thread() {
        let text = format!(" \n{} ", big_row_chunk(120_000));
        let want = decode_json(&text, &layout(Orientation::Row), &Place::table("t")).unwrap();
        for (step, threads) in [(7_777, 2), (192 * 1024, 3), (1 << 20, 2)] {
            let (parts, got) = early(&text, step, threads);
            assert!(parts >= 2, "step {step}: {parts} parts");
            let got = got.unwrap();
            // The parts and the last rows, not the chunk decoded again.
            assert_eq!(got.len(), parts + 1, "step {step}");
            let joined = arrow_select::concat::concat_batches(&got[0].schema(), &got).unwrap();
            assert_eq!(joined, want, "step {step}");
        }
    }

    #[test]
    fn a_cut_inside_a_string_decodes_the_chunk_whole() {
        let mut text = big_row_chunk(120_000);
        let at = PART_BYTES / 2 + text[PART_BYTES / 2..].find("],[").unwrap() + 2;
        let trap = format!("[0,\"{}\",0,0],", "],[".repeat(PART_BYTES / 2));
        text.insert_str(at, &trap);
        let want = decode_json(&text, &layout(Orientation::Row), &Place::table("t")).unwrap();
        let (parts, got) = early(&text, 100_000, 2);
        assert!(parts >= 2);
        let got = got.unwrap();
        let joined = arrow_select::concat::concat_batches(&got[0].schema(), &got).unwrap();
        assert_eq!(joined, want);
    }

    #[test]
    fn errors_are_those_of_the_whole_chunk() {
        let l = layout(Orientation::Row);
        let t = Place::table("t");
        let good = big_row_chunk(120_000);
        let cases = [
            good.replacen("[3,", "[3.5,", 1),
            good.replacen("[100000,", "[100000.5,", 1),
            good.replacen("\"plain text value 99998\"", "\"unterminated", 1),
            good.trim_end().trim_end_matches(']').to_string(),
            format!("{good} x"),
        ];
        for bad in cases {
            let want = decode_json(&bad, &l, &t).unwrap_err();
            let (parts, got) = early(&bad, 50_000, 2);
            assert!(parts >= 2);
            let got = got.unwrap_err();
            assert_eq!(got.to_string(), want.to_string());
            assert_eq!(std::mem::discriminant(&got), std::mem::discriminant(&want));
        }
    }

    #[test]
    fn small_chunks_and_row_objects_are_not_cut() {
        let l = layout(Orientation::Row);
        let t = Place::table("t");
        let small = big_row_chunk(1_000);
        let (parts, got) = early(&small, 100, 2);
        assert_eq!(parts, 0);
        assert_eq!(got.unwrap(), vec![decode_json(&small, &l, &t).unwrap()]);
        let not_rows = format!("{{\"x\": {}}}", big_row_chunk(120_000));
        let (parts, got) = early(&not_rows, 100_000, 2);
        assert_eq!(parts, 0);
        let want = decode_json(&not_rows, &l, &t).unwrap_err();
        assert_eq!(got.unwrap_err().to_string(), want.to_string());
        let objects: Vec<String> = (0..200_000)
            .map(|r| format!("{{\"Year\":{r},\"Name\":\"],[ {r}\"}}"))
            .collect();
        let objects = format!("[{}]", objects.join(","));
        assert!(objects.len() > 2 * PART_BYTES);
        let (parts, got) = early(&objects, 100_000, 2);
        assert_eq!(parts, 0);
        let want = decode_json(&objects, &l, &t).unwrap();
        let got = got.unwrap();
        let joined = arrow_select::concat::concat_batches(&got[0].schema(), &got).unwrap();
        assert_eq!(joined, want);
    }

    #[test]
    fn the_last_cut_is_found_whatever_the_whitespace() {
        assert_eq!(rfind_row_cut(b"[1],[2] , \n [3"), Some((7, 12)));
        assert_eq!(rfind_row_cut(b"[1],[2]"), Some((3, 4)));
        assert_eq!(rfind_row_cut(b"[[1]"), None);
        assert_eq!(rfind_row_cut(b"\"],\"[1"), None);
    }
}
