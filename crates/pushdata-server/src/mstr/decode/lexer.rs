//! A small zero-copy lexer for chunk JSON.
//!
//! It never builds a `serde_json::Value`: scalars come out as [`Token`]s that borrow the
//! input, and numbers keep their raw text, so BIGDECIMAL values are read exactly.

/// A scalar JSON value, borrowing the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its raw text (`-12.340`, `1e5`).
    Number(&'a str),
    /// A string, as its raw text between the quotes (escapes not yet resolved).
    Str(RawStr<'a>),
}

/// The raw text of a JSON string between its quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawStr<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> RawStr<'a> {
    /// The raw text when it has no escapes (it is then the string's value).
    pub(crate) fn plain(&self) -> Option<&'a str> {
        (!self.escaped).then_some(self.raw)
    }

    /// The string's value: borrowed when it has no escapes, else unescaped into `scratch`.
    pub(crate) fn value<'s>(&self, scratch: &'s mut String) -> Result<&'s str, String>
    where
        'a: 's,
    {
        if !self.escaped {
            return Ok(self.raw);
        }
        scratch.clear();
        unescape(self.raw, scratch)?;
        Ok(scratch.as_str())
    }
}

fn hex4(b: &[u8]) -> Result<u32, String> {
    if b.len() < 4 {
        return Err("truncated \\u escape".into());
    }
    let mut v = 0u32;
    for &c in &b[..4] {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(format!("bad hex digit {:?} in \\u escape", char::from(c))),
        };
        v = v * 16 + u32::from(d);
    }
    Ok(v)
}

fn unescape(raw: &str, out: &mut String) -> Result<(), String> {
    let b = raw.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&raw[start..i]);
        let e = *b.get(i + 1).ok_or("truncated escape")?;
        i += 2;
        match e {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let hi = hex4(&b[i..])?;
                i += 4;
                let cp = if (0xD800..0xDC00).contains(&hi) {
                    if b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u') {
                        let lo = hex4(&b[i + 2..])?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err("unpaired surrogate in \\u escape".into());
                        }
                        i += 6;
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        return Err("unpaired surrogate in \\u escape".into());
                    }
                } else {
                    hi
                };
                out.push(char::from_u32(cp).ok_or("invalid code point in \\u escape")?);
            }
            other => return Err(format!("invalid escape \\{}", char::from(other))),
        }
        start = i;
    }
    out.push_str(&raw[start..]);
    Ok(())
}

use pushdata_core::wire::word_escape_mask;

/// How many of the 8 bytes of `b` from `i` come before the first `"`, `\` or control
/// character (8 when none is); `None` when fewer than 8 bytes are left.
#[inline]
fn clean_prefix(b: &[u8], i: usize) -> Option<usize> {
    let w = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok())?;
    let m = word_escape_mask(u64::from_le_bytes(w));
    Some(if m == 0 {
        8
    } else {
        (m.trailing_zeros() / 8) as usize
    })
}

/// The ASCII digits of `b` from `i` appended to `v` (wrapping past 19 digits): the index
/// after them and the value. Eight at a time (SWAR) while eight bytes are left.
#[inline(always)]
fn digits_at(b: &[u8], mut i: usize, mut v: u64) -> (usize, u64) {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    while let Some(w) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        // Digits become 0..=9; any other byte has a high nibble, or gets one by adding 6.
        // The lowest flagged byte is exact (a carry only leaves a byte already flagged).
        let t = u64::from_le_bytes(w) ^ ZEROS;
        let other = (t & HIGH_NIBBLES) | (t.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES);
        let n = (other.trailing_zeros() / 8) as usize;
        if n == 0 {
            return (i, v);
        }
        // The n digits in the high bytes, zeros (leading zeros) below them.
        let digits = t << (8 * (8 - n));
        v = v.wrapping_mul(POW10[n]).wrapping_add(eight_digits(digits));
        i += n;
        if n < 8 {
            return (i, v);
        }
    }
    while let Some(&c) = b.get(i) {
        let d = c.wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    (i, v)
}

/// 10^n for n in 0..=8.
const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The number of 8 digit values (0..=9, one per byte, the first in the lowest byte).
#[inline(always)]
fn eight_digits(t: u64) -> u64 {
    let t = (t & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    let t = (t & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    (t & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32
}

/// A byte that may follow a number: `,` `]` `}` or whitespace.
#[inline]
fn is_delimiter(b: Option<&u8>) -> bool {
    matches!(b, Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
}

/// A cursor over a JSON text.
#[derive(Debug, Clone)]
pub(crate) struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `s`.
    pub(crate) fn new(s: &'a str) -> Self {
        Lexer { s, pos: 0 }
    }

    /// The byte offset of the cursor.
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    #[inline]
    fn skip_ws(&mut self) {
        let b = self.s.as_bytes();
        while self.pos < b.len() && matches!(b[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    /// The next non-whitespace byte, without consuming it.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.as_bytes().get(self.pos).copied()
    }

    /// Consume `c` if it is next.
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn found(&self) -> String {
        match self.s.as_bytes().get(self.pos).copied() {
            None => "end of data".to_string(),
            Some(c) if c.is_ascii_graphic() => format!("{:?}", char::from(c)),
            Some(c) => format!("byte 0x{c:02x}"),
        }
    }

    /// Consume `c` or fail saying what was expected.
    pub(crate) fn expect(&mut self, c: u8, what: &str) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "expected {what} at byte {}, found {}",
                self.pos,
                self.found()
            ))
        }
    }

    /// After an element of an array: `,` (returns true, more follow) or `]` (returns false).
    pub(crate) fn array_next(&mut self) -> Result<bool, String> {
        if self.eat(b',') {
            Ok(true)
        } else if self.eat(b']') {
            Ok(false)
        } else {
            Err(format!(
                "expected ',' or ']' at byte {}, found {}",
                self.pos,
                self.found()
            ))
        }
    }

    /// After an element of an object: `,` (returns true) or `}` (returns false).
    pub(crate) fn object_next(&mut self) -> Result<bool, String> {
        if self.eat(b',') {
            Ok(true)
        } else if self.eat(b'}') {
            Ok(false)
        } else {
            Err(format!(
                "expected ',' or '}}' at byte {}, found {}",
                self.pos,
                self.found()
            ))
        }
    }

    /// Only whitespace may remain.
    pub(crate) fn end(&mut self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(format!(
                "unexpected {} after the end of the array at byte {}",
                self.found(),
                self.pos
            )),
        }
    }

    /// A string (for object keys).
    pub(crate) fn string(&mut self) -> Result<RawStr<'a>, String> {
        self.expect(b'"', "'\"'")?;
        self.string_body()
    }

    fn string_body(&mut self) -> Result<RawStr<'a>, String> {
        let b = self.s.as_bytes();
        let start = self.pos;
        let mut escaped = false;
        let mut i = self.pos;
        while i < b.len() {
            // Skip 8 bytes at a time while none of them ends the string, starts an escape
            // or is a control character; else go to the first one that does.
            if let Some(skip) = clean_prefix(b, i) {
                i += skip;
                if skip == 8 {
                    continue;
                }
            }
            match b[i] {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(RawStr {
                        raw: &self.s[start..i],
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                c if c < 0x20 => {
                    return Err(format!(
                        "unescaped control character 0x{c:02x} in a string at byte {i}"
                    ));
                }
                _ => i += 1,
            }
        }
        Err(format!(
            "unterminated string starting at byte {}",
            start - 1
        ))
    }

    fn literal(&mut self, word: &str) -> Result<(), String> {
        if self.s.as_bytes()[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(format!("invalid literal at byte {}", self.pos))
        }
    }

    fn number(&mut self) -> Result<&'a str, String> {
        let b = self.s.as_bytes();
        let start = self.pos;
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == int_start {
            return Err(format!("invalid number at byte {start}"));
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            let f = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == f {
                return Err(format!(
                    "invalid number at byte {start}: no digits after '.'"
                ));
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let e = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == e {
                return Err(format!("invalid number at byte {start}: empty exponent"));
            }
        }
        self.pos = i;
        Ok(&self.s[start..i])
    }

    /// Fast path of [`Lexer::array_next`]: `,` or `]` right at the cursor, consumed
    /// (`Some(true)`: more follow). `None` (nothing consumed) for anything else, which
    /// [`Lexer::array_next`] then reads (whitespace, or the error).
    #[inline]
    pub(crate) fn fast_array_next(&mut self) -> Option<bool> {
        let more = match self.s.as_bytes().get(self.pos) {
            Some(b',') => true,
            Some(b']') => false,
            _ => return None,
        };
        self.pos += 1;
        Some(more)
    }

    /// Fast path of [`Lexer::object_next`], as [`Lexer::fast_array_next`] for `,` / `}`.
    #[inline]
    pub(crate) fn fast_object_next(&mut self) -> Option<bool> {
        let more = match self.s.as_bytes().get(self.pos) {
            Some(b',') => true,
            Some(b'}') => false,
            _ => return None,
        };
        self.pos += 1;
        Some(more)
    }

    /// Skip whitespace before a value; the `fast_*` readers below start at the cursor.
    #[inline]
    pub(crate) fn skip_value_ws(&mut self) {
        if let Some(c) = self.s.as_bytes().get(self.pos)
            && matches!(c, b' ' | b'\t' | b'\n' | b'\r')
        {
            self.skip_ws();
        }
    }

    /// Fast path: `null` at the cursor (consumed; returns true).
    #[inline]
    pub(crate) fn fast_null(&mut self) -> bool {
        let b = self.s.as_bytes();
        if b.get(self.pos) == Some(&b'n') && b.get(self.pos..self.pos + 4) == Some(b"null") {
            self.pos += 4;
            true
        } else {
            false
        }
    }

    /// Fast path: a number at the cursor made only of digits, `-` and `.`, followed by a
    /// delimiter (`,` `]` `}` or whitespace); consumed. `None` (nothing consumed) for
    /// anything else, which [`Lexer::scalar`] then reads.
    #[inline]
    pub(crate) fn fast_number(&mut self) -> Option<&'a [u8]> {
        let b = self.s.as_bytes();
        let start = self.pos;
        let mut i = start;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'-' || b[i] == b'.') {
            i += 1;
        }
        if i == start || !is_delimiter(b.get(i)) {
            return None;
        }
        self.pos = i;
        Some(&b[start..i])
    }

    /// Fast path: a plain number `-?\d+(\.\d+)?` of at most 18 digits at the cursor,
    /// followed by a delimiter, as (mantissa, digits after the point), passed to `take`;
    /// consumed when `take` gives a value. `None` (nothing consumed) for anything else.
    /// The same number as [`plain_number`](super::values::plain_number) of the token
    /// [`Lexer::scalar`] reads.
    #[inline]
    pub(crate) fn fast_plain_number<T>(
        &mut self,
        take: impl FnOnce(i64, u8) -> Option<T>,
    ) -> Option<T> {
        let b = self.s.as_bytes();
        let mut i = self.pos;
        let neg = b.get(i) == Some(&b'-');
        i += usize::from(neg);
        let int_start = i;
        let (end, mut v) = digits_at(b, i, 0);
        i = end;
        let int_digits = i - int_start;
        if int_digits == 0 {
            return None;
        }
        let mut scale = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let frac_start = i;
            (i, v) = digits_at(b, i, v);
            scale = i - frac_start;
            if scale == 0 {
                return None;
            }
        }
        if int_digits + scale > 18 || !is_delimiter(b.get(i)) {
            return None;
        }
        // At most 18 digits: no overflow happened, and it fits an i64.
        let v = v as i64;
        let out = take(if neg { -v } else { v }, scale as u8)?;
        self.pos = i;
        Some(out)
    }

    /// Fast path: a `"YYYY-MM-DD"` string of a valid date at the cursor, as days since
    /// 1970-01-01; consumed. `None` (nothing consumed) for anything else.
    #[inline]
    pub(crate) fn fast_date(&mut self) -> Option<i32> {
        let b = self.s.as_bytes();
        let p = self.pos;
        if b.get(p) != Some(&b'"') || b.get(p + 11) != Some(&b'"') {
            return None;
        }
        let days = super::values::plain_date(b.get(p + 1..p + 11)?)?;
        self.pos = p + 12;
        Some(days)
    }

    /// Fast path: a string without escapes at the cursor; consumed. `None` (nothing
    /// consumed) for anything else.
    #[inline]
    pub(crate) fn fast_string(&mut self) -> Option<&'a str> {
        let b = self.s.as_bytes();
        if b.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut i = start;
        loop {
            if let Some(skip) = clean_prefix(b, i) {
                i += skip;
                if skip == 8 {
                    continue;
                }
            }
            match b.get(i) {
                Some(b'"') => break,
                Some(b'\\') | None => return None,
                Some(c) if *c < 0x20 => return None,
                Some(_) => i += 1,
            }
        }
        // `start` and `i` are next to ASCII quotes, so on character boundaries.
        let v = self.s.get(start..i)?;
        self.pos = i + 1;
        Some(v)
    }

    /// Fast path of an object key: a string without escapes at the cursor, its raw text
    /// equal to `key`, then `:`; consumed. False (nothing consumed) for anything else.
    #[inline]
    pub(crate) fn fast_key(&mut self, key: &str) -> bool {
        let b = self.s.as_bytes();
        let k = key.as_bytes();
        let start = self.pos + 1;
        let end = start + k.len();
        if b.get(self.pos) == Some(&b'"')
            && b.get(start..end) == Some(k)
            && b.get(end) == Some(&b'"')
            && b.get(end + 1) == Some(&b':')
        {
            self.pos = end + 2;
            true
        } else {
            false
        }
    }

    /// A scalar value. Arrays and objects here are an error (cells hold scalars).
    pub(crate) fn scalar(&mut self) -> Result<Token<'a>, String> {
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                self.string_body().map(Token::Str)
            }
            Some(b'n') => self.literal("null").map(|_| Token::Null),
            Some(b't') => self.literal("true").map(|_| Token::Bool(true)),
            Some(b'f') => self.literal("false").map(|_| Token::Bool(false)),
            Some(b'-' | b'0'..=b'9') => self.number().map(Token::Number),
            Some(b'[' | b'{') => Err(format!(
                "a value must be a scalar, found a nested {} at byte {}",
                if self.peek() == Some(b'[') {
                    "array"
                } else {
                    "object"
                },
                self.pos
            )),
            _ => Err(format!(
                "expected a value at byte {}, found {}",
                self.pos,
                self.found()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scalars_and_escapes() {
        let mut l = Lexer::new(r#" [ -12.340 , "a\"b\u00e9\ud83d\ude00", null, true,false ] "#);
        l.expect(b'[', "[").unwrap();
        assert_eq!(l.scalar().unwrap(), Token::Number("-12.340"));
        assert!(l.array_next().unwrap());
        let Token::Str(s) = l.scalar().unwrap() else {
            panic!("not a string")
        };
        let mut scratch = String::new();
        assert_eq!(s.value(&mut scratch).unwrap(), "a\"b\u{e9}\u{1F600}");
        assert!(l.array_next().unwrap());
        assert_eq!(l.scalar().unwrap(), Token::Null);
        assert!(l.array_next().unwrap());
        assert_eq!(l.scalar().unwrap(), Token::Bool(true));
        assert!(l.array_next().unwrap());
        assert_eq!(l.scalar().unwrap(), Token::Bool(false));
        assert!(!l.array_next().unwrap());
        l.end().unwrap();
    }

    /// The eight-at-a-time digit reader gives what `plain_number` gives for the same
    /// token, whatever follows it and wherever an eight-byte window ends.
    #[test]
    fn fast_plain_numbers_match_plain_number() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let follow = [",", "]", "}", " ", "\n", "x", ".", ":"];
        for _ in 0..20_000 {
            let mut t = String::new();
            if rng.random_bool(0.3) {
                t.push('-');
            }
            for _ in 0..rng.random_range(0..22) {
                t.push(char::from(b'0' + rng.random_range(0..10u8)));
            }
            if rng.random_bool(0.5) {
                t.push('.');
                for _ in 0..rng.random_range(0..12) {
                    t.push(char::from(b'0' + rng.random_range(0..10u8)));
                }
            }
            let after = follow[rng.random_range(0..follow.len())];
            let pad = " ".repeat(rng.random_range(0..10));
            let text = format!("{t}{after}{pad}");
            let mut lex = Lexer::new(&text);
            let got = lex.fast_plain_number(|v, s| Some((v, s)));
            let delimited = matches!(after, "," | "]" | "}" | " " | "\n");
            let want = super::super::values::plain_number(t.as_bytes())
                .filter(|_| delimited && !t.ends_with('.'));
            assert_eq!(got, want, "{text:?}");
            if got.is_some() {
                assert_eq!(lex.offset(), t.len(), "{text:?}");
            }
        }
    }

    #[test]
    fn errors_name_the_offset() {
        let mut l = Lexer::new("[1,,2]");
        l.expect(b'[', "[").unwrap();
        l.scalar().unwrap();
        l.array_next().unwrap();
        let e = l.scalar().unwrap_err();
        assert!(e.contains("byte 3"), "{e}");
        assert!(
            Lexer::new("\"abc")
                .scalar()
                .unwrap_err()
                .contains("unterminated")
        );
        assert!(Lexer::new("1.").scalar().is_err());
        assert!(
            Lexer::new("[1]")
                .scalar()
                .unwrap_err()
                .contains("nested array")
        );
    }
}
