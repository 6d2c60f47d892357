//! A batch of a piece's rows split into fields: each field's value as a slice of the piece
//! (by columns, so that each column is then read in one loop), found with the piece's
//! special bytes ([`Specials`]). It follows csv-core (quoting on, `""` an escape) only where
//! that is simple and says where it does not (`None`; see `fields` for what that covers).

use super::process::BATCH_ROWS;
use super::specials::{Cursor, Specials};

/// The fields of a batch of rows of a piece: for each column, its rows' values.
#[derive(Debug)]
pub(super) struct Spans<'a> {
    piece: &'a [u8],
    specials: Specials,
    /// Where the next batch's rows start among the special bytes.
    cursor: Cursor,
    columns: usize,
    /// Rows in the batch.
    rows: usize,
    /// Each value, column `c`'s rows from `c * BATCH_ROWS` on: the bytes of an unquoted
    /// field, the bytes between the quotes of a quoted one, or, for a quoted field with
    /// escaped quotes, the field with its quotes (see [`Spans::column`]).
    spans: Vec<&'a [u8]>,
    /// Whether each column has a quoted field with escaped quotes in the batch.
    escaped: Vec<bool>,
}

/// The value of a field of [`Spans::column`]: a quoted field with escaped quotes (the only
/// fields kept with their quotes) without the outer quotes and each `""` as one quote.
pub(super) fn value(field: &[u8]) -> Vec<u8> {
    let Some(inner) = field
        .strip_prefix(b"\"")
        .and_then(|f| f.strip_suffix(b"\""))
    else {
        return field.to_vec();
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(q) = memchr::memchr(b'"', rest) {
        // An escaped quote: `""`, of which one is kept.
        out.extend_from_slice(&rest[..=q]);
        rest = rest.get(q + 2..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    out
}

impl<'a> Spans<'a> {
    /// The batches of `piece`'s rows, each of `columns` fields; `None` when there are no
    /// columns.
    pub(super) fn for_piece(piece: &'a [u8], columns: usize) -> Option<Self> {
        if columns == 0 {
            return None;
        }
        let specials = Specials::new(piece);
        Some(Spans {
            piece,
            cursor: specials.start(),
            specials,
            columns,
            rows: 0,
            spans: vec![&[][..]; columns * BATCH_ROWS],
            escaped: vec![false; columns],
        })
    }

    /// Split the next rows from `pos` on (at most [`BATCH_ROWS`]); the position after
    /// them and the number of rows (0: the piece's end). `None` when the fast path does not
    /// follow csv-core there.
    pub(super) fn split(&mut self, mut pos: usize) -> Option<(usize, usize)> {
        let piece = self.piece;
        let last = self.columns - 1;
        // The cursor in a local: in registers for the loop.
        let mut at = self.cursor;
        let mut rows = 0;
        self.escaped.fill(false);
        while rows < BATCH_ROWS {
            match piece.get(pos) {
                None => break,
                // A blank line, which csv-core skips.
                Some(b'\n') => return None,
                Some(_) => {}
            }
            for c in 0..last {
                let (span, next, escaped) = self.field(&mut at, pos, b',')?;
                *self.spans.get_mut(c * BATCH_ROWS + rows)? = span;
                if escaped {
                    *self.escaped.get_mut(c)? = true;
                }
                pos = next;
            }
            let (span, next, escaped) = self.field(&mut at, pos, b'\n')?;
            *self.spans.get_mut(last * BATCH_ROWS + rows)? = span;
            if escaped {
                *self.escaped.get_mut(last)? = true;
            }
            pos = next;
            rows += 1;
        }
        self.cursor = at;
        self.rows = rows;
        Some((pos, rows))
    }

    /// Column `c`'s fields in the batch: each the bytes of its value, unless
    /// [`Spans::escaped`] (then see [`value`]).
    pub(super) fn column(&self, c: usize) -> &[&'a [u8]] {
        let from = c * BATCH_ROWS;
        self.spans.get(from..from + self.rows).unwrap_or_default()
    }

    /// Whether column `c` has quoted fields with escaped quotes in the batch.
    pub(super) fn escaped(&self, c: usize) -> bool {
        self.escaped.get(c).copied().unwrap_or(false)
    }

    /// The field starting at `pos` (`at`: the special bytes from `pos` on not taken), ended
    /// by `ends` (the delimiter, or LF for the last column, which the piece's end also
    /// ends): its span, the position after that byte and whether it is a quoted field with
    /// escaped quotes.
    #[inline(always)]
    fn field(&self, at: &mut Cursor, pos: usize, ends: u8) -> Option<(&'a [u8], usize, bool)> {
        // Whether the byte at `i` ends the field.
        let ended = |piece: &[u8], i: usize| match piece.get(i) {
            Some(&b) => b == ends,
            None => ends == b'\n',
        };
        // The first special byte from `pos` on: the field's end, or its opening quote.
        let end = self.specials.take(at);
        if ended(self.piece, end) {
            Some((self.piece.get(pos..end)?, end + 1, false))
        } else if end == pos && self.piece.get(end) == Some(&b'"') {
            let (span, end, escaped) = self.quoted(pos)?;
            if !ended(self.piece, end) {
                return None;
            }
            self.specials.seek(at, end + 1);
            Some((span, end + 1, escaped))
        } else {
            None
        }
    }

    /// The quoted field whose opening quote is at `pos`: its span (see [`Spans::spans`]),
    /// the position just after its closing quote (a delimiter, a line end or the piece's
    /// end) and whether it has escaped quotes.
    fn quoted(&self, pos: usize) -> Option<(&'a [u8], usize, bool)> {
        let bytes = self.piece;
        let mut from = pos + 1;
        let mut escaped = false;
        loop {
            let q = from + memchr::memchr(b'"', bytes.get(from..)?)?;
            match bytes.get(q + 1) {
                Some(b'"') => {
                    escaped = true;
                    from = q + 2;
                }
                Some(b',' | b'\n') | None => {
                    let span = if escaped {
                        bytes.get(pos..=q)?
                    } else {
                        bytes.get(pos + 1..q)?
                    };
                    return Some((span, q + 1, escaped));
                }
                Some(_) => return None,
            }
        }
    }
}
