//! The framing of a chunk's JSON, defined once for both orientations (the idea of
//! arrow-json's `JsonFormat`): the separator before every segment, the end after the last
//! one, the JSON of a chunk without rows, and the separator between two values of a
//! segment. The one-shot encoders write these tokens as JSON; the fused chunk encoder
//! writes separators padded with spaces to 3 bytes, as base64, into the segments' slots.
//!
//! A chunk's JSON is, for every segment index `s` and then every piece `p` of the chunk:
//! [`separator(s, p)`](Framing::separator) and segment `s` of piece `p`; then
//! [`end`](Framing::end):
//!
//! - ROW (one segment per piece, its rows): `[` rows `,` rows … `]`;
//! - COLUMN (one segment per column): `[[` column 0 of piece 0 `,` column 0 of piece 1 …
//!   `],[` column 1 of piece 0 … `]]`.

use pushdata_core::wire::Orientation;

/// Between two values of a segment: rows (ROW) or one column's values (COLUMN); also
/// between the values of a row.
pub(crate) const VALUE_SEPARATOR: u8 = b',';

const ROW_START: &[u8] = b"[";
const COLUMN_START: &[u8] = b"[[";
const NEXT_COLUMN: &[u8] = b"],[";
const NEXT_PIECE: &[u8] = b",";
const ROW_END: &[u8] = b"]";
const COLUMN_END: &[u8] = b"]]";

/// The slot content every segment starts with until the chunk is assembled: the
/// separator before a segment of any piece but the first, padded, in base64 (`,  `).
pub(crate) const NEXT_PIECE_SLOT: [u8; 4] = padded_base64(NEXT_PIECE);

/// Base64 length of a slot, and of the end (1 or 2 bytes of JSON).
pub(crate) const SLOT_LEN: usize = 4;

const ROW_END_BASE64: [u8; 4] = base64(ROW_END);
const COLUMN_END_BASE64: [u8; 4] = base64(COLUMN_END);

/// The framing of one orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Framing {
    orientation: Orientation,
}

impl Framing {
    /// The framing of `orientation`.
    pub(crate) fn new(orientation: Orientation) -> Self {
        Framing { orientation }
    }

    /// Segments per piece, for a table of `columns` columns.
    pub(crate) fn segments(self, columns: usize) -> usize {
        match self.orientation {
            Orientation::Row => 1,
            Orientation::Column => columns,
        }
    }

    /// The JSON before segment `segment` of piece `piece` (both 0-based within the chunk).
    pub(crate) fn separator(self, segment: usize, piece: usize) -> &'static [u8] {
        match (self.orientation, segment, piece) {
            (_, _, 1..) => NEXT_PIECE,
            (Orientation::Row, 0, 0) => ROW_START,
            (Orientation::Column, 0, 0) => COLUMN_START,
            (Orientation::Column, _, 0) => NEXT_COLUMN,
            // A ROW piece has one segment; further ones would be further rows.
            (Orientation::Row, _, 0) => NEXT_PIECE,
        }
    }

    /// [`separator`](Framing::separator) padded with spaces to 3 bytes, in base64: what
    /// the fused encoder writes into the segment's slot.
    pub(crate) fn separator_slot(self, segment: usize, piece: usize) -> [u8; SLOT_LEN] {
        padded_base64(self.separator(segment, piece))
    }

    /// The JSON after the last segment.
    pub(crate) fn end(self) -> &'static [u8] {
        match self.orientation {
            Orientation::Row => ROW_END,
            Orientation::Column => COLUMN_END,
        }
    }

    /// [`end`](Framing::end) in base64 (not padded: nothing follows it).
    pub(crate) fn end_base64(self) -> &'static [u8; SLOT_LEN] {
        match self.orientation {
            Orientation::Row => &ROW_END_BASE64,
            Orientation::Column => &COLUMN_END_BASE64,
        }
    }

    /// The JSON of a chunk without rows: `[]` (ROW) or `[[],[],…]` with one empty array
    /// per column (COLUMN).
    pub(crate) fn empty(self, columns: usize) -> Vec<u8> {
        match self.orientation {
            Orientation::Row => b"[]".to_vec(),
            Orientation::Column => {
                let mut json = Vec::with_capacity(2 + columns * 3);
                json.push(b'[');
                for c in 0..columns {
                    if c > 0 {
                        json.push(VALUE_SEPARATOR);
                    }
                    json.extend_from_slice(b"[]");
                }
                json.push(b']');
                json
            }
        }
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 (standard, padded) of a token of 1 to 3 bytes; longer tokens are cut at 3.
const fn base64(token: &[u8]) -> [u8; 4] {
    let n = if token.len() < 3 { token.len() } else { 3 };
    let mut group = [0u8; 3];
    let mut i = 0;
    while i < n {
        group[i] = token[i];
        i += 1;
    }
    let bits = ((group[0] as u32) << 16) | ((group[1] as u32) << 8) | group[2] as u32;
    let mut out = [b'='; 4];
    let mut k = 0;
    while k <= n {
        out[k] = ALPHABET[((bits >> (18 - 6 * k)) & 63) as usize];
        k += 1;
    }
    out
}

/// Base64 of a token of 1 to 3 bytes padded with spaces to 3 bytes.
const fn padded_base64(token: &[u8]) -> [u8; 4] {
    let mut group = [b' '; 3];
    let mut i = 0;
    while i < token.len() && i < 3 {
        group[i] = token[i];
        i += 1;
    }
    base64(&group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_base64() {
        let row = Framing::new(Orientation::Row);
        let column = Framing::new(Orientation::Column);
        assert_eq!(&NEXT_PIECE_SLOT, b"LCAg");
        assert_eq!(&row.separator_slot(0, 0), b"WyAg");
        assert_eq!(&column.separator_slot(0, 0), b"W1sg");
        assert_eq!(&column.separator_slot(1, 0), b"XSxb");
        assert_eq!(&column.separator_slot(1, 3), b"LCAg");
        assert_eq!(row.end_base64(), b"XQ==");
        assert_eq!(column.end_base64(), b"XV0=");
        assert_eq!(row.empty(3), b"[]");
        assert_eq!(column.empty(3), b"[[],[],[]]");
        assert_eq!(column.empty(0), b"[]");
    }
}
