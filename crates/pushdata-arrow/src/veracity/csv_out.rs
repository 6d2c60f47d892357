//! The bytes of one encoded slice ([`SliceOut`]) and the writers of its values, which
//! write into the room made for a row (`room`, from offset `k`, returning the offset after
//! the value) with fixed-size stores that may run past the value's end (the next value
//! overwrites those bytes): a value costs no `memcpy` call and no capacity check per byte.
//! A writer returns `None` only if the room is too small, which the row's bound rules out.

use pushdata_core::veracity::csv::special_flags;

use crate::encode::digits::{NUMBER_ROOM, write_decimal_u64, write_decimal2, write_i64};

/// Bytes the buffer grows by at least, past what a row needs.
const GROW: usize = 64 * 1024;

/// Bytes of text checked and copied at a time.
const CHUNK: usize = 16;

/// Room a row needs past its values' widths, for the stores that run past a value's end.
pub(super) const ROW_SLACK: usize = 64;

/// A buffer written from its start: kept longer than what was written (zeros or stale
/// bytes past `pos`), so that a row's room is made without zeroing it; cut to the bytes
/// written by [`finish`](SliceOut::finish).
pub(super) struct SliceOut<'a> {
    buf: &'a mut Vec<u8>,
    pos: usize,
}

impl<'a> SliceOut<'a> {
    /// Write into `buf` from its start, with room for `capacity` bytes made at once (the
    /// bytes `buf` holds already are overwritten, not zeroed again).
    pub(super) fn new(buf: &'a mut Vec<u8>, capacity: usize) -> Self {
        if buf.len() < capacity {
            buf.resize(capacity, 0);
        }
        SliceOut { buf, pos: 0 }
    }

    /// Bytes written.
    #[inline(always)]
    pub(super) fn len(&self) -> usize {
        self.pos
    }

    /// Cut the buffer to the bytes written.
    pub(super) fn finish(self) {
        self.buf.truncate(self.pos);
    }

    /// The `n` bytes after what was written (grown if needed), to write a row into and then
    /// [`commit`](SliceOut::commit) the bytes of.
    #[inline(always)]
    pub(super) fn room(&mut self, n: usize) -> &mut [u8] {
        if self.buf.len() - self.pos < n {
            self.grow(n);
        }
        &mut self.buf[self.pos..self.pos + n]
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        let len = self.buf.len();
        self.buf.resize((self.pos + n + GROW).max(len * 2), 0);
    }

    /// Keep the first `k` bytes of the room last made.
    #[inline(always)]
    pub(super) fn commit(&mut self, k: usize) {
        self.pos += k;
    }
}

/// The [`NUMBER_ROOM`] bytes of `room` from `k`.
#[inline(always)]
fn number_room(room: &mut [u8], k: usize) -> Option<&mut [u8; NUMBER_ROOM]> {
    room.get_mut(k..)?.first_chunk_mut()
}

/// Write `bytes`.
#[inline]
pub(super) fn put_bytes(room: &mut [u8], k: usize, bytes: &[u8]) -> Option<usize> {
    let end = k + bytes.len();
    room.get_mut(k..end)?.copy_from_slice(bytes);
    Some(end)
}

/// Write an integer.
#[inline(always)]
pub(super) fn put_int(room: &mut [u8], k: usize, v: i64) -> Option<usize> {
    Some(k + write_i64(number_room(room, k)?, v))
}

/// Write the decimal `magnitude` / 10^`scale` (see
/// [`write_decimal_u64`](crate::encode::digits::write_decimal_u64)).
#[inline(always)]
pub(super) fn put_decimal(
    room: &mut [u8],
    k: usize,
    negative: bool,
    magnitude: u64,
    scale: usize,
) -> Option<usize> {
    Some(k + write_decimal_u64(number_room(room, k)?, negative, magnitude, scale))
}

/// Write the decimal `magnitude` / 100.
#[inline(always)]
pub(super) fn put_decimal2(room: &mut [u8], k: usize, negative: bool, m: u64) -> Option<usize> {
    Some(k + write_decimal2(number_room(room, k)?, negative, m))
}

/// Write `YYYY-MM-DD`.
#[inline(always)]
pub(super) fn put_date(room: &mut [u8], k: usize, text: &[u8; 10]) -> Option<usize> {
    room.get_mut(k..k + 10)?.copy_from_slice(text);
    Some(k + 10)
}

/// Write a boolean, `true` or `false`.
#[inline(always)]
pub(super) fn put_bool(room: &mut [u8], k: usize, v: bool) -> Option<usize> {
    let (word, len) = if v { (*b"true\0", 4) } else { (*b"false", 5) };
    room.get_mut(k..k + 5)?.copy_from_slice(&word);
    Some(k + len)
}

/// Write a text field: as is, or quoted (RFC 4180) when it contains `,`, `"`, CR or LF,
/// starts or ends with a space or tab, or is empty (so that it differs from a null); it
/// takes at most `2 * len + 2` bytes, and [`CHUNK`] more of room. The text is
/// `data[start..start + len]`; the bytes of `data` after it may be read (and copied, then
/// overwritten) to move whole chunks. `None` if the text is not in `data`.
#[inline(always)]
pub(super) fn put_text_in(
    room: &mut [u8],
    k: usize,
    data: &[u8],
    start: usize,
    len: usize,
) -> Option<usize> {
    let text = data.get(start..start.checked_add(len)?)?;
    let (Some(&first), Some(&last)) = (text.first(), text.last()) else {
        return put_bytes(room, k, b"\"\"");
    };
    if edge(first) || edge(last) {
        return put_quoted(room, k, text);
    }
    let dst = room.get_mut(k..k + len + CHUNK)?;
    let mut done = 0;
    while done < len {
        let chunk = match data
            .get(start + done..)
            .and_then(|rest| rest.first_chunk::<CHUNK>())
        {
            Some(chunk) => *chunk,
            None => tail_chunk(&text[done..]),
        };
        if special_mask(chunk, len - done) {
            return put_quoted(room, k, text);
        }
        dst.get_mut(done..done + CHUNK)?.copy_from_slice(&chunk);
        done += CHUNK;
    }
    Some(k + len)
}

/// Write a text of at most 12 bytes held in an Arrow string view (`view`: its length in
/// the low 32 bits, its bytes in the next 96, zeros after them), quoted as
/// [`put_text_in`] says.
#[inline(always)]
pub(super) fn put_inline_text(room: &mut [u8], k: usize, view: u128) -> Option<usize> {
    let len = (view as u32 as usize).min(12);
    let bytes = (view >> 32).to_le_bytes();
    if len == 0 {
        put_bytes(room, k, b"\"\"")
    } else if edge(bytes[0]) || edge(bytes[len - 1]) || special_mask(bytes, len) {
        put_quoted(room, k, &bytes[..len])
    } else {
        put_inline_plain(room, k, view)
    }
}

/// Write the text of at most 12 bytes held in the string view `view` as it is (a text
/// [`put_inline_text`] does not quote).
#[inline(always)]
pub(super) fn put_inline_plain(room: &mut [u8], k: usize, view: u128) -> Option<usize> {
    let len = (view as u32 as usize).min(12);
    room.get_mut(k..k + CHUNK)?
        .copy_from_slice(&(view >> 32).to_le_bytes());
    Some(k + len)
}

/// Write `text` in double quotes, each `"` in it doubled.
#[cold]
fn put_quoted(room: &mut [u8], k: usize, text: &[u8]) -> Option<usize> {
    let mut k = put_bytes(room, k, b"\"")?;
    let mut start = 0;
    for q in memchr::memchr_iter(b'"', text) {
        k = put_bytes(room, k, &text[start..=q])?;
        k = put_bytes(room, k, b"\"")?;
        start = q + 1;
    }
    k = put_bytes(room, k, &text[start..])?;
    put_bytes(room, k, b"\"")
}

/// Whether `b` makes an unquoted field's edge ambiguous (readers may trim it).
#[inline(always)]
fn edge(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The last bytes of a text (fewer than [`CHUNK`]), zero-padded.
#[cold]
fn tail_chunk(rest: &[u8]) -> [u8; CHUNK] {
    let mut chunk = [0; CHUNK];
    let n = rest.len().min(CHUNK);
    chunk[..n].copy_from_slice(&rest[..n]);
    chunk
}

/// Whether one of the first `keep` bytes of `chunk` is special to the CSV
/// ([`SPECIAL`](pushdata_core::veracity::csv::SPECIAL)), two words at a time (one when `keep` is at most 8, as in most short texts).
#[inline(always)]
fn special_mask(chunk: [u8; CHUNK], keep: usize) -> bool {
    let word = u128::from_le_bytes(chunk);
    let found = if keep <= 8 {
        u128::from(special_flags(word as u64))
    } else {
        u128::from(special_flags(word as u64))
            | (u128::from(special_flags((word >> 64) as u64)) << 64)
    };
    // Flags of the first `keep` bytes only (all 16 when `keep` >= 16).
    found & KEEP[keep.min(CHUNK)] != 0
}

/// The bits of the first `n` bytes of a chunk, for every `n` in 0..=16.
static KEEP: [u128; CHUNK + 1] = {
    let mut t = [0u128; CHUNK + 1];
    let mut n = 1;
    while n <= CHUNK {
        t[n] = u128::MAX >> (8 * (CHUNK - n));
        n += 1;
    }
    t
};

#[cfg(test)]
#[path = "csv_out_tests.rs"]
mod tests;
