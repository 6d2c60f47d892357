//! Where the rows of CSV text end, quoted values considered, without reading it as CSV:
//! the quotes are found with `memchr` and paired, and a line end between a pair is not a
//! row's end.
//!
//! The pairing follows the CSV reader (`csv-core`: quoting on, doubled quotes as escapes):
//! a quote opens a value only at a field's start, `""` inside a value is one quote, and a
//! quote closes it only before a delimiter, a line end or the end of the file. Anywhere
//! else the reader takes a quote literally, or leaves the value in a way the pairing
//! cannot follow: then the text is [`RowEnds::scan`]'s `None`, and it must be read from
//! its start.
//!
//! Pairing the quotes reads the whole text on one thread, so text is first cut without it
//! ([`guessed_cut`]: each piece ends at the first line end after its nominal length) and
//! the pieces, read in parallel, confirm the cuts: a piece that starts at a row's start
//! ends at one when it holds no quote (every line end outside quotes ends a row; a carriage
//! return or a blank line does not change that), or when the fast reader of `fields`,
//! which follows the CSV reader quote by quote from the piece's start, read it whole (its
//! last field, which the cut's line end or the text's end ends, closed). The first piece
//! starts at a row's start, so if each piece confirms its cut, every cut is a row's end.
//! Any other piece sends the text back to the pairing.

/// The quoted values of some CSV text that starts at a row's start.
pub(super) struct RowEnds<'a> {
    text: &'a [u8],
    /// `(open, close)`: the positions of the quotes of each quoted value, in order.
    quoted: Vec<(usize, usize)>,
    /// A quote opened and not closed within the text (more text would say where).
    open: Option<usize>,
}

impl<'a> RowEnds<'a> {
    /// Pair the quotes of `text`, which starts at a row's start; `at_end`: nothing
    /// follows it. `None` when a quote is where the pairing cannot follow the CSV reader.
    pub(super) fn scan(text: &'a [u8], at_end: bool) -> Option<Self> {
        let mut quoted = Vec::new();
        let mut open = None;
        let mut pos = 0;
        while let Some(i) = memchr::memchr(b'"', &text[pos..]) {
            let q = pos + i;
            match open {
                None => {
                    if q > 0 && !matches!(text[q - 1], b',' | b'\n' | b'\r') {
                        return None;
                    }
                    open = Some(q);
                    pos = q + 1;
                }
                Some(o) => match text.get(q + 1) {
                    Some(b'"') => pos = q + 2,
                    Some(b',' | b'\n' | b'\r') => {
                        quoted.push((o, q));
                        open = None;
                        pos = q + 1;
                    }
                    None if at_end => {
                        quoted.push((o, q));
                        open = None;
                        pos = q + 1;
                    }
                    // The next byte says whether this is an escape or the close.
                    None => break,
                    Some(_) => return None,
                },
            }
        }
        if open.is_some() && at_end {
            return None;
        }
        Some(RowEnds { text, quoted, open })
    }

    /// Whether the line end at `p` is inside a quoted value (or after an unclosed quote).
    fn quoted_at(&self, p: usize) -> Option<usize> {
        if self.open.is_some_and(|o| p > o) {
            return Some(self.text.len());
        }
        let k = self.quoted.partition_point(|&(open, _)| open < p);
        k.checked_sub(1)
            .map(|k| self.quoted[k])
            .filter(|&(_, close)| p < close)
            .map(|(_, close)| close)
    }

    /// The position just after the first row end at or after `from`.
    pub(super) fn next_end(&self, mut from: usize) -> Option<usize> {
        while let Some(i) = memchr::memchr(b'\n', self.text.get(from..)?) {
            let p = from + i;
            match self.quoted_at(p) {
                None => return Some(p + 1),
                Some(close) => from = close,
            }
        }
        None
    }

    /// The position just after the last row end before `before`.
    pub(super) fn last_end(&self, mut before: usize) -> Option<usize> {
        while let Some(p) = memchr::memrchr(b'\n', &self.text[..before]) {
            if self.quoted_at(p).is_none() {
                return Some(p + 1);
            }
            // Inside a quoted value: look before its opening quote.
            let k = self.quoted.partition_point(|&(open, _)| open < p);
            before = match k.checked_sub(1).map(|k| self.quoted[k]) {
                Some((open, close)) if p < close => open,
                _ => self.open.unwrap_or(p),
            };
        }
        None
    }

    /// `text[start..end]` (whole rows) cut into about `n` pieces of whole rows.
    pub(super) fn cut(&self, start: usize, end: usize, n: usize) -> Vec<&'a [u8]> {
        cut_at(self.text, start, end, n, |from| self.next_end(from))
    }
}

/// `text[start..end]` cut into about `n` pieces, each ended at `next_end(from)` (the end
/// after the first row end at or after `from`), at its nominal length from its start.
fn cut_at(
    text: &[u8],
    start: usize,
    end: usize,
    n: usize,
    next_end: impl Fn(usize) -> Option<usize>,
) -> Vec<&[u8]> {
    let target = (end - start).div_ceil(n.max(1)).max(1);
    let mut pieces = Vec::with_capacity(n);
    let mut at = start;
    while at < end {
        let next = match next_end(at + target) {
            Some(e) if e < end => e,
            _ => end,
        };
        pieces.push(&text[at..next]);
        at = next;
    }
    pieces
}

/// The position just after the first line end at or after `from`.
fn next_line_end(text: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b'\n', text.get(from..)?).map(|i| from + i + 1)
}

/// `text[start..end]` cut as [`RowEnds::cut`] cuts it, but each cut at the first line end
/// after the nominal length, quotes not considered: the pieces must confirm the cuts (see
/// the module's docs and [`confirms_cut`]).
pub(super) fn guessed_cut(text: &[u8], start: usize, end: usize, n: usize) -> Vec<&[u8]> {
    cut_at(text, start, end, n, |from| next_line_end(text, from))
}

/// The position just after the last line end of `text` after `start`, quotes not
/// considered (the pieces that end there must confirm it).
pub(super) fn last_line_end(text: &[u8], start: usize) -> Option<usize> {
    memchr::memrchr(b'\n', text.get(start..)?).map(|i| start + i + 1)
}

/// The position just after the first line, when no quote comes before its line end (then
/// it is the first row's end, whatever follows); `None` when the pairing must tell.
pub(super) fn first_line_end(text: &[u8]) -> Option<usize> {
    let end = next_line_end(text, 0)?;
    memchr::memchr(b'"', &text[..end]).is_none().then_some(end)
}

/// Whether `piece` of [`guessed_cut`], which starts at a row's start and was not read
/// whole by the fast reader of `fields`, ends at a row's end for sure: it holds no quote.
pub(super) fn confirms_cut(piece: &[u8]) -> bool {
    memchr::memchr(b'"', piece).is_none()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::RowEnds;

    /// Every row end of `text`, one row after another.
    fn ends(text: &[u8]) -> Vec<usize> {
        let rows = RowEnds::scan(text, true).unwrap();
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(e) = rows.next_end(at) {
            out.push(e);
            at = e;
        }
        out
    }

    #[test]
    fn line_ends_inside_quoted_values_are_not_row_ends() {
        // Rows: `a,"x⏎y",1⏎` (10 bytes), `"""q""⏎",2⏎` (11), `b,c⏎` (4).
        let text = b"a,\"x\ny\",1\n\"\"\"q\"\"\n\",2\nb,c\n";
        assert_eq!(ends(text), vec![10, 21, 25]);
        let rows = RowEnds::scan(text, true).unwrap();
        assert_eq!(rows.last_end(text.len()), Some(25));
        assert_eq!(rows.last_end(20), Some(10), "the line end at 16 is quoted");
        assert_eq!(rows.last_end(9), None, "the line end at 4 is quoted");
        for n in 1..6 {
            let pieces = rows.cut(0, text.len(), n);
            assert_eq!(pieces.concat(), text.to_vec(), "{n}");
            let mut at = 0;
            for p in &pieces {
                at += p.len();
                assert!([10, 21, 25].contains(&at), "{n}: {pieces:?}");
            }
        }
    }

    #[test]
    fn a_quote_left_open_is_a_row_of_the_next_text() {
        let text = b"a,1\nb,\"open\nstill";
        let rows = RowEnds::scan(text, false).unwrap();
        assert_eq!(rows.last_end(text.len()), Some(4));
        assert_eq!(rows.next_end(4), None);
        // At the end of the file an unclosed quote is the CSV reader's to report.
        assert!(RowEnds::scan(text, true).is_none());
        // A quote as the text's last byte: an escape or the close, the next text says.
        let text = b"a,1\nb,\"x\"";
        assert_eq!(
            RowEnds::scan(text, false).unwrap().last_end(text.len()),
            Some(4)
        );
        assert_eq!(ends(text), vec![4]);
    }

    #[test]
    fn guessed_cuts_are_the_exact_ones_without_quotes() {
        let text: Vec<u8> = (0..200)
            .flat_map(|i| format!("{i},{}\r\n", "v".repeat(i % 17)).into_bytes())
            .collect();
        let rows = RowEnds::scan(&text, true).unwrap();
        for n in 1..9 {
            assert_eq!(
                super::guessed_cut(&text, 5, text.len(), n),
                rows.cut(5, text.len(), n),
                "{n}"
            );
        }
        assert_eq!(super::last_line_end(b"a\nb\nc", 0), Some(4));
        assert_eq!(super::last_line_end(b"a\nb\nc", 4), None);
        assert_eq!(super::first_line_end(b"a,b\n\"c\n"), Some(4));
        // A quote in the first line: the pairing says where it ends.
        assert_eq!(super::first_line_end(b"a,\"b\nc\"\n"), None);
        assert_eq!(super::first_line_end(b"a,b"), None);
        assert!(super::confirms_cut(b"a,b\r\n"));
        assert!(!super::confirms_cut(b"a,\"b\"\n"));
    }

    #[test]
    fn quotes_the_pairing_cannot_follow_are_refused() {
        assert!(RowEnds::scan(b"a,b\"c\n", true).is_none(), "inside a value");
        assert!(
            RowEnds::scan(b"a,\"b\"c,d\n", true).is_none(),
            "text after the close"
        );
        assert!(RowEnds::scan(b"a,\"b\",\"c\"\r\n", true).is_some());
    }
}
