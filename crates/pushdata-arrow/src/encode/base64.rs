//! Base64 (standard alphabet, padded) through base64-simd:
//!
//! - [`PieceWriter`]: the fused path of the chunk encoder. A slice's JSON is written into a
//!   small per-thread scratch and base64-encoded into the slice's piece every
//!   [`FLUSH_BYTES`] (so the JSON is encoded while it is still in cache, and no chunk-sized
//!   JSON buffer exists). Each segment's JSON is padded with spaces to a multiple of 3
//!   bytes, so its base64 starts and ends on a 3-byte boundary of the chunk's JSON and the
//!   pieces of a chunk can simply be concatenated; each segment starts with a 4-character
//!   slot for the separator (3 bytes of JSON) chosen when the chunk is assembled.
//! - [`Base64Stream`]: a stream over JSON that comes in arbitrary pieces (the
//!   single-request workflow's one-shot encoding); it carries up to two bytes between
//!   pieces so each piece is encoded in place, large pieces in parallel blocks with rayon.

use base64_simd::{Out, STANDARD};
use rayon::prelude::*;

use super::framing::NEXT_PIECE_SLOT;

/// Input block size of one parallel base64 task (a multiple of 3).
const PAR_BLOCK: usize = 3 << 20;

/// Appends the base64 of everything written to it to `out`.
///
/// With more than one rayon thread, pieces smaller than a parallel block (a chunk's JSON
/// comes as many slices of a few hundred KB) are first gathered into a staging buffer of
/// one block per thread, which is then encoded in parallel.
pub(crate) struct Base64Stream<'a> {
    out: &'a mut Vec<u8>,
    carry: [u8; 3],
    carried: usize,
    staged: Vec<u8>,
    /// Staging size (0: no staging, one thread).
    stage_limit: usize,
}

impl<'a> Base64Stream<'a> {
    /// Start appending to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        let threads = rayon::current_num_threads();
        Base64Stream {
            out,
            carry: [0; 3],
            carried: 0,
            staged: Vec::new(),
            stage_limit: if threads > 1 { PAR_BLOCK * threads } else { 0 },
        }
    }

    /// Encode more bytes.
    pub(crate) fn write(&mut self, data: &[u8]) {
        if self.stage_limit > 0 {
            if self.staged.len() + data.len() <= self.stage_limit {
                if self.staged.capacity() == 0 {
                    self.staged.reserve(self.stage_limit);
                }
                self.staged.extend_from_slice(data);
                return;
            }
            self.flush_staged();
            if data.len() < self.stage_limit {
                self.staged.extend_from_slice(data);
                return;
            }
        }
        self.write_direct(data);
    }

    fn flush_staged(&mut self) {
        if self.staged.is_empty() {
            return;
        }
        let mut staged = std::mem::take(&mut self.staged);
        self.write_direct(&staged);
        staged.clear();
        self.staged = staged;
    }

    fn write_direct(&mut self, mut data: &[u8]) {
        if self.carried > 0 {
            while self.carried < 3 {
                let Some((&b, rest)) = data.split_first() else {
                    return;
                };
                self.carry[self.carried] = b;
                self.carried += 1;
                data = rest;
            }
            let carry = self.carry;
            self.encode_whole(&carry);
            self.carried = 0;
        }
        let whole = data.len() / 3 * 3;
        self.encode_whole(&data[..whole]);
        for &b in &data[whole..] {
            self.carry[self.carried] = b;
            self.carried += 1;
        }
    }

    /// Encode the remaining bytes with padding.
    pub(crate) fn finish(mut self) {
        self.flush_staged();
        if self.carried > 0 {
            STANDARD.encode_append(&self.carry[..self.carried], self.out);
        }
    }

    fn encode_whole(&mut self, src: &[u8]) {
        if src.is_empty() {
            return;
        }
        if src.len() <= PAR_BLOCK {
            // Written straight into the spare capacity (whole groups of 3: no padding),
            // not into zeroes written first.
            STANDARD.encode_append(src, self.out);
            return;
        }
        let start = self.out.len();
        let len = src.len() / 3 * 4;
        self.out.resize(start + len, 0);
        let dst = &mut self.out[start..];
        src.par_chunks(PAR_BLOCK)
            .zip(dst.par_chunks_mut(PAR_BLOCK / 3 * 4))
            .for_each(|(s, d)| {
                let _ = STANDARD.encode(s, Out::from_slice(d));
            });
    }
}

/// JSON bytes gathered in the scratch before they are base64-encoded into the piece (a
/// multiple of 3, small enough to stay in the core's cache).
pub(crate) const FLUSH_BYTES: usize = 48 * 1024;

/// The encoded output would exceed the piece's cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

/// Writes a piece: segments of whitespace-padded JSON, each base64-encoded behind a
/// 4-byte separator slot, into one buffer that never grows past `cap` bytes.
///
/// The JSON is written into [`json`](PieceWriter::json) (the scratch) and moved out by
/// [`maybe_flush`](PieceWriter::maybe_flush) / [`end_segment`](PieceWriter::end_segment).
pub(crate) struct PieceWriter<'s> {
    /// JSON not yet encoded (fewer than [`FLUSH_BYTES`] plus one row or value).
    pub(crate) json: &'s mut Vec<u8>,
    out: &'s mut Vec<u8>,
    cap: usize,
    /// JSON bytes the piece stands for: padded segments plus 3 per separator slot.
    json_len: usize,
    seg_ends: Vec<usize>,
}

impl<'s> PieceWriter<'s> {
    /// A piece of at most `cap` bytes of base64 written into `out` (cleared; give it that
    /// capacity so it never grows), through `scratch` (cleared).
    pub(crate) fn new(
        scratch: &'s mut Vec<u8>,
        out: &'s mut Vec<u8>,
        cap: usize,
        segments: usize,
    ) -> Self {
        scratch.clear();
        out.clear();
        PieceWriter {
            json: scratch,
            out,
            cap,
            json_len: 0,
            seg_ends: Vec::with_capacity(segments),
        }
    }

    /// Start a segment: its separator slot.
    pub(crate) fn begin_segment(&mut self) -> Result<(), Overflow> {
        if self.out.len() + NEXT_PIECE_SLOT.len() > self.cap {
            return Err(Overflow);
        }
        self.out.extend_from_slice(&NEXT_PIECE_SLOT);
        self.json_len += 3;
        Ok(())
    }

    /// Encode the scratch's whole 3-byte groups once it holds [`FLUSH_BYTES`] or more.
    #[inline]
    pub(crate) fn maybe_flush(&mut self) -> Result<(), Overflow> {
        if self.json.len() >= FLUSH_BYTES {
            self.encode(self.json.len() / 3 * 3)
        } else {
            Ok(())
        }
    }

    /// End a segment: pad its JSON with spaces to a multiple of 3 bytes and encode it all.
    pub(crate) fn end_segment(&mut self) -> Result<(), Overflow> {
        let pad = (3 - self.json.len() % 3) % 3;
        self.json.extend_from_slice(&b"  "[..pad]);
        self.encode(self.json.len())?;
        self.seg_ends.push(self.out.len());
        Ok(())
    }

    fn encode(&mut self, n: usize) -> Result<(), Overflow> {
        if n == 0 {
            return Ok(());
        }
        if self.out.len() + n / 3 * 4 > self.cap {
            return Err(Overflow);
        }
        STANDARD.encode_append(&self.json[..n], &mut *self.out);
        self.json_len += n;
        let rest = self.json.len() - n;
        self.json.copy_within(n.., 0);
        self.json.truncate(rest);
        Ok(())
    }

    /// The end of each segment in the piece, and the JSON bytes it stands for.
    pub(crate) fn finish(self) -> (Vec<usize>, usize) {
        (self.seg_ends, self.json_len)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use base64::Engine;

    #[test]
    fn staged_pieces_match_one_shot_on_several_threads() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let data: Vec<u8> = (0..(PAR_BLOCK * 4 + 5))
            .map(|i| (i * 13 % 251) as u8)
            .collect();
        for piece in [7usize, 1000, 300_001, PAR_BLOCK - 1, PAR_BLOCK * 2] {
            let out = pool.install(|| {
                let mut out = b"prefix".to_vec();
                let mut s = Base64Stream::new(&mut out);
                for p in data.chunks(piece) {
                    s.write(p);
                }
                s.finish();
                out
            });
            let mut want = b"prefix".to_vec();
            want.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(&data)
                    .as_bytes(),
            );
            assert!(out == want, "piece size {piece}");
        }
    }

    #[test]
    fn piece_writer_pads_segments_and_respects_its_cap() {
        let mut scratch = Vec::new();
        let mut out = Vec::new();
        let mut w = PieceWriter::new(&mut scratch, &mut out, 1 << 20, 2);
        let mut want = Vec::new();
        for (seg, len) in [(0u8, FLUSH_BYTES * 2 + 1), (1, 5)] {
            w.begin_segment().unwrap();
            want.extend_from_slice(b",  ");
            for i in 0..len {
                let b = b'a' + ((i + seg as usize) % 26) as u8;
                w.json.push(b);
                want.push(b);
                w.maybe_flush().unwrap();
            }
            w.end_segment().unwrap();
            while want.len() % 3 != 0 {
                want.push(b' ');
            }
        }
        let (ends, json_len) = w.finish();
        assert_eq!(json_len, want.len());
        assert_eq!(ends.len(), 2);
        assert_eq!(*ends.last().unwrap(), out.len());
        assert_eq!(
            out,
            base64::engine::general_purpose::STANDARD
                .encode(&want)
                .into_bytes()
        );
        // The cap is never exceeded: the writer stops with `Overflow` instead.
        let mut scratch = Vec::new();
        let mut out = Vec::new();
        let mut w = PieceWriter::new(&mut scratch, &mut out, 100, 1);
        w.begin_segment().unwrap();
        w.json.extend_from_slice(&[b'x'; 200]);
        assert_eq!(w.end_segment(), Err(Overflow));
        drop(w);
        assert!(out.len() <= 100);
    }

    #[test]
    fn pieces_match_one_shot() {
        let data: Vec<u8> = (0..(PAR_BLOCK * 2 + 17))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        for cuts in [
            vec![0, 1, 2, 3, 4],
            vec![1, 1, 1, 5, 100, 1000],
            vec![PAR_BLOCK + 1, 2, 5],
            vec![],
        ] {
            let mut out = Vec::new();
            let mut s = Base64Stream::new(&mut out);
            let mut pos = 0;
            for c in cuts {
                let end = (pos + c).min(data.len());
                s.write(&data[pos..end]);
                pos = end;
            }
            s.write(&data[pos..]);
            s.finish();
            assert_eq!(
                out,
                base64::engine::general_purpose::STANDARD
                    .encode(&data)
                    .into_bytes()
            );
        }
    }
}
