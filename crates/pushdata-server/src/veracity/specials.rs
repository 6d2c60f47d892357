//! Where the bytes special to the upload's CSV ([`SPECIAL`]: the delimiter, the quote, LF
//! and CR) are in a piece of it, found 64 bytes at a time: each block of the piece is
//! classified into a mask with one bit per byte (portable code the compiler turns into
//! vector compares), and the fields' ends are then read off the bits, one
//! `trailing_zeros` each, instead of a search that starts again at every field.

use pushdata_core::veracity::csv::SPECIAL;

/// Bytes classified at a time.
const BLOCK: usize = 64;

/// The special bytes of `block` (at most [`BLOCK`] bytes; bytes past its end are not
/// special) as bits: bit `i` set when `block[i]` is one of [`SPECIAL`].
#[inline]
fn block_mask(block: &[u8]) -> u64 {
    match block.try_into() {
        Ok(whole) => whole_block_mask(whole),
        Err(_) => {
            let mut padded = [0u8; BLOCK];
            let n = block.len().min(BLOCK);
            padded[..n].copy_from_slice(&block[..n]);
            whole_block_mask(&padded)
        }
    }
}

/// [`block_mask`] of a whole block.
#[inline(always)]
fn whole_block_mask(bytes: &[u8; BLOCK]) -> u64 {
    // One byte 0 or 1 per input byte (vector compares), then each 8 of them gathered into
    // 8 bits by one multiplication: byte j (bit 8j) times the magic's byte 7 - j lands on
    // bit 56 + j, and every other product stays below bit 56 without carries or goes past
    // bit 63.
    let flags: [u8; BLOCK] = std::array::from_fn(|i| {
        let c = bytes[i];
        u8::from((c == SPECIAL[0]) | (c == SPECIAL[1]) | (c == SPECIAL[2]) | (c == SPECIAL[3]))
    });
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let mut mask = 0;
    for (k, word) in flags.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        mask |= (u64::from_le_bytes(w).wrapping_mul(GATHER) >> 56) << (8 * k);
    }
    mask
}

/// The special bytes of a piece, each block's classified in one loop; a [`Cursor`] takes
/// them in order.
#[derive(Debug)]
pub(super) struct Specials {
    /// The length of the piece.
    len: usize,
    /// The mask of each block of the piece.
    masks: Vec<u64>,
}

/// Where a reader of [`Specials`] is (a small value, kept in registers while fields are
/// split): [`Specials::take`] gives the next special byte, [`Specials::seek`] skips to a
/// position (past a quoted field, read otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cursor {
    /// The block of `bits`.
    block: usize,
    /// The special bytes of the block not taken yet.
    bits: u64,
}

impl Specials {
    /// The special bytes of `bytes`.
    pub(super) fn new(bytes: &[u8]) -> Self {
        let blocks = bytes.chunks_exact(BLOCK);
        let tail = blocks.remainder();
        let mut masks: Vec<u64> = blocks
            .map(|b| <&[u8; BLOCK]>::try_from(b).map_or(0, whole_block_mask))
            .collect();
        if !tail.is_empty() {
            masks.push(block_mask(tail));
        }
        Specials {
            len: bytes.len(),
            masks,
        }
    }

    /// A cursor at the start of the bytes.
    pub(super) fn start(&self) -> Cursor {
        let mut at = Cursor::default();
        self.seek(&mut at, 0);
        at
    }

    /// The position of the next special byte not taken at `at` (it is taken), or the
    /// length of the bytes when there is none.
    #[inline(always)]
    pub(super) fn take(&self, at: &mut Cursor) -> usize {
        while at.bits == 0 {
            at.block += 1;
            match self.masks.get(at.block) {
                Some(&m) => at.bits = m,
                None => {
                    at.block = self.masks.len();
                    return self.len;
                }
            }
        }
        let pos = at.block * BLOCK + at.bits.trailing_zeros() as usize;
        at.bits &= at.bits - 1;
        pos
    }

    /// Go on from `pos`: the special bytes before it are taken, those from it on are not.
    pub(super) fn seek(&self, at: &mut Cursor, pos: usize) {
        at.block = pos / BLOCK;
        at.bits = self
            .masks
            .get(at.block)
            .map_or(0, |m| m & (u64::MAX << (pos % BLOCK)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every special byte of `bytes` from `from` on, as [`Specials`] gives them.
    fn all(bytes: &[u8], from: usize) -> Vec<usize> {
        let s = Specials::new(bytes);
        let mut cursor = s.start();
        s.seek(&mut cursor, from);
        let mut out = Vec::new();
        loop {
            let at = s.take(&mut cursor);
            if at == bytes.len() {
                return out;
            }
            out.push(at);
        }
    }

    #[test]
    fn every_special_byte_is_found_at_every_offset_across_blocks() {
        // Bytes next to the special ones (and a high byte), specials at every position of
        // three blocks and a partial one, taken from every start.
        for len in [0, 1, 63, 64, 65, 127, 128, 129, 200] {
            for step in [1, 5, 13, 64] {
                let mut text: Vec<u8> = (0..len)
                    .map(|i| b"+-!#\x7fxy\xff\x0b\x0c\x2d\x21"[i % 12])
                    .collect();
                let mut want = Vec::new();
                for (k, at) in (0..len).step_by(step).enumerate() {
                    text[at] = SPECIAL[k % SPECIAL.len()];
                    want.push(at);
                }
                for from in [0, 1, 63, 64, 65, len] {
                    let w: Vec<usize> = want.iter().copied().filter(|&a| a >= from).collect();
                    assert_eq!(all(&text, from.min(len)), w, "{len} {step} {from}");
                }
            }
        }
    }

    #[test]
    fn the_mask_of_a_block_is_each_byte_classified() {
        for start in 0..=192 {
            let bytes: Vec<u8> = (0..=255u8).skip(start).take(64).collect();
            let want = bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| SPECIAL.contains(b))
                .fold(0u64, |m, (i, _)| m | 1 << i);
            assert_eq!(block_mask(&bytes), want, "{start}");
        }
        // A partial block: the bytes past its end are not special.
        assert_eq!(block_mask(b",a\n\"\rb"), 0b1_1101);
        assert_eq!(block_mask(b""), 0);
    }
}
