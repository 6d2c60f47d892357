//! Streaming base64 (standard alphabet, padded) through base64-simd, appended to a buffer.
//!
//! The chunk JSON comes in pieces (one per encoded slice, plus brackets); the stream carries
//! up to two bytes between pieces so each piece is encoded in place, large pieces in parallel
//! blocks with rayon, without first joining the JSON into one buffer.

use base64_simd::{Out, STANDARD};
use rayon::prelude::*;

/// Input block size of one parallel base64 task (a multiple of 3).
const PAR_BLOCK: usize = 3 << 20;

/// Appends the base64 of everything written to it to `out`.
///
/// With more than one rayon thread, pieces smaller than a parallel block (a chunk's JSON
/// comes as many slices of a few hundred KB) are first gathered into a staging buffer of
/// one block per thread, which is then encoded in parallel.
pub struct Base64Stream<'a> {
    out: &'a mut Vec<u8>,
    carry: [u8; 3],
    carried: usize,
    staged: Vec<u8>,
    /// Staging size (0: no staging, one thread).
    stage_limit: usize,
}

impl<'a> Base64Stream<'a> {
    /// Start appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
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
    pub fn write(&mut self, data: &[u8]) {
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
    pub fn finish(mut self) {
        self.flush_staged();
        if self.carried > 0 {
            STANDARD.encode_append(&self.carry[..self.carried], self.out);
        }
    }

    fn encode_whole(&mut self, src: &[u8]) {
        if src.is_empty() {
            return;
        }
        let start = self.out.len();
        let len = src.len() / 3 * 4;
        self.out.resize(start + len, 0);
        let dst = &mut self.out[start..];
        if src.len() > PAR_BLOCK {
            src.par_chunks(PAR_BLOCK)
                .zip(dst.par_chunks_mut(PAR_BLOCK / 3 * 4))
                .for_each(|(s, d)| {
                    let _ = STANDARD.encode(s, Out::from_slice(d));
                });
        } else {
            let _ = STANDARD.encode(src, Out::from_slice(dst));
        }
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
