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
        let target = (end - start).div_ceil(n.max(1)).max(1);
        let mut pieces = Vec::with_capacity(n);
        let mut at = start;
        while at < end {
            let next = match self.next_end(at + target) {
                Some(e) if e < end => e,
                _ => end,
            };
            pieces.push(&self.text[at..next]);
            at = next;
        }
        pieces
    }
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
    fn quotes_the_pairing_cannot_follow_are_refused() {
        assert!(RowEnds::scan(b"a,b\"c\n", true).is_none(), "inside a value");
        assert!(
            RowEnds::scan(b"a,\"b\"c,d\n", true).is_none(),
            "text after the close"
        );
        assert!(RowEnds::scan(b"a,\"b\",\"c\"\r\n", true).is_some());
    }
}
