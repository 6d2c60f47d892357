//! A batch of a piece's rows split into fields: where each field's value is in the piece
//! (by columns, so that each column is then read in one loop), found with the piece's
//! special bytes ([`Specials`]). It follows csv-core (quoting on, `""` an escape) only where
//! that is simple and says where it does not (`None`; see `fields` for what that covers).

use super::process::BATCH_ROWS;
use super::specials::Specials;

/// The start of a span whose value is an unescaped one (pieces are shorter: see
/// [`Spans::for_piece`]).
const UNESCAPED: u32 = u32::MAX;

/// The fields of a batch of rows of a piece: for each column, its rows' values.
#[derive(Debug)]
pub(super) struct Spans<'a> {
    piece: &'a [u8],
    specials: Specials,
    columns: usize,
    /// Rows in the batch.
    rows: usize,
    /// Start and end of each value in the piece, column `c`'s rows from `c * BATCH_ROWS`
    /// on; a start of [`UNESCAPED`]: the value is `unescaped[end]`.
    spans: Vec<(u32, u32)>,
    /// The values of quoted fields with escaped quotes, unescaped.
    unescaped: Vec<Vec<u8>>,
}

impl<'a> Spans<'a> {
    /// The batches of `piece`'s rows, each of `columns` fields; `None` when the piece is
    /// too long for 32-bit spans or there are no columns.
    pub(super) fn for_piece(piece: &'a [u8], columns: usize) -> Option<Self> {
        if u32::try_from(piece.len()).ok()? == UNESCAPED || columns == 0 {
            return None;
        }
        Some(Spans {
            piece,
            specials: Specials::new(piece),
            columns,
            rows: 0,
            spans: vec![(0, 0); columns * BATCH_ROWS],
            unescaped: Vec::new(),
        })
    }

    /// Split the next rows from `pos` on (at most [`BATCH_ROWS`]); the position after
    /// them and the number of rows (0: the piece's end). `None` when the fast path does not
    /// follow csv-core there.
    pub(super) fn split(&mut self, mut pos: usize) -> Option<(usize, usize)> {
        let bytes = self.piece;
        self.unescaped.clear();
        self.rows = 0;
        let last = self.columns - 1;
        while self.rows < BATCH_ROWS {
            match bytes.get(pos) {
                None => break,
                // A blank line, which csv-core skips.
                Some(b'\n') => return None,
                Some(_) => {}
            }
            for c in 0..last {
                pos = self.field(pos, c, b',')?;
            }
            pos = self.field(pos, last, b'\n')?;
            self.rows += 1;
        }
        Some((pos, self.rows))
    }

    /// Column `c`'s values of the batch.
    pub(super) fn column(&self, c: usize) -> impl Iterator<Item = Option<&[u8]>> {
        let from = c * BATCH_ROWS;
        self.spans
            .get(from..from + self.rows)
            .unwrap_or_default()
            .iter()
            .map(|&(start, end)| {
                if start == UNESCAPED {
                    self.unescaped.get(end as usize).map(Vec::as_slice)
                } else {
                    self.piece.get(start as usize..end as usize)
                }
            })
    }

    /// Read the field starting at `pos` as column `c` of the batch's next row, ended by
    /// `ends` (the delimiter, or LF for the last column, which the piece's end also ends);
    /// the position after that byte.
    #[inline(always)]
    fn field(&mut self, pos: usize, c: usize, ends: u8) -> Option<usize> {
        // Whether the byte at `at` ends the field.
        let ended = |piece: &[u8], at: usize| match piece.get(at) {
            Some(&b) => b == ends,
            None => ends == b'\n',
        };
        // The first special byte from `pos` on: the field's end, or its opening quote.
        let end = self.specials.take();
        let (span, end) = if ended(self.piece, end) {
            ((pos as u32, end as u32), end)
        } else if end == pos && self.piece.get(end) == Some(&b'"') {
            let (span, end) = self.quoted(pos)?;
            if !ended(self.piece, end) {
                return None;
            }
            self.specials.seek(end + 1);
            (span, end)
        } else {
            return None;
        };
        *self.spans.get_mut(c * BATCH_ROWS + self.rows)? = span;
        Some(end + 1)
    }

    /// The quoted field whose opening quote is at `pos`: its span and the position just
    /// after its closing quote (a delimiter, a line end or the piece's end).
    fn quoted(&mut self, pos: usize) -> Option<((u32, u32), usize)> {
        let bytes = self.piece;
        let mut from = pos + 1;
        let mut value: Option<Vec<u8>> = None;
        loop {
            let q = from + memchr::memchr(b'"', bytes.get(from..)?)?;
            match bytes.get(q + 1) {
                Some(b'"') => {
                    value
                        .get_or_insert_default()
                        .extend_from_slice(&bytes[from..=q]);
                    from = q + 2;
                }
                Some(b',' | b'\n') | None => {
                    let span = match value {
                        None => (pos as u32 + 1, q as u32),
                        Some(mut v) => {
                            v.extend_from_slice(&bytes[from..q]);
                            self.unescaped.push(v);
                            (UNESCAPED, (self.unescaped.len() - 1) as u32)
                        }
                    };
                    return Some((span, q + 1));
                }
                Some(_) => return None,
            }
        }
    }
}
