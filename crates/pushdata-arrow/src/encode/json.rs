//! RFC 8259 string escaping straight into a byte buffer.
//!
//! Runs of bytes that need no escape (everything except `"`, `\` and control characters
//! U+0000..U+001F) are copied in one go; non-ASCII UTF-8 passes through unchanged.

/// 0: copy as is; `u`: `\u00XX`; any other: `\` + that byte.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0A] = b'n';
    t[0x0C] = b'f';
    t[0x0D] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether any of the 8 bytes of `w` is `"`, `\\` or a control character (SWAR; exact).
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    let q = w ^ (LO * u64::from(b'"'));
    let quote = q.wrapping_sub(LO) & !q & HI;
    let b = w ^ (LO * u64::from(b'\\'));
    let backslash = b.wrapping_sub(LO) & !b & HI;
    (control | quote | backslash) != 0
}

/// Append `s` as a quoted, escaped JSON string.
#[inline]
pub fn write_json_string(s: &[u8], out: &mut Vec<u8>) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        // Skip 8 bytes at a time while none of them needs an escape.
        if let Some(word) = s.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok())
            && !word_needs_escape(u64::from_le_bytes(word))
        {
            i += 8;
            continue;
        }
        let b = s[i];
        let e = ESCAPE[b as usize];
        if e != 0 {
            out.extend_from_slice(&s[start..i]);
            if e == b'u' {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xF) as usize]);
            } else {
                out.push(b'\\');
                out.push(e);
            }
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn esc(s: &str) -> String {
        let mut v = Vec::new();
        write_json_string(s.as_bytes(), &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes() {
        assert_eq!(esc("plain"), "\"plain\"");
        assert_eq!(esc("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(esc("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(esc("\u{0}\u{1f}"), r#""\u0000\u001f""#);
        assert_eq!(esc("héllo ✓ 😀"), "\"héllo ✓ 😀\"");
        assert_eq!(esc(""), "\"\"");
        for s in ["x\u{1}y\"z", "\u{7f}", "tab\there"] {
            let back: String = serde_json::from_str(&esc(s)).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn word_skipping_matches_serde_json() {
        // Escapes at every position relative to the 8-byte words, in long and short strings.
        let specials = [
            "\"", "\\", "\n", "\u{1}", "\u{1f}", "é", "😀", "\u{7f}", " ",
        ];
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 40] {
            for pos in 0..=len {
                for sp in specials {
                    let mut text = "a".repeat(len);
                    text.insert_str(pos, sp);
                    assert_eq!(
                        esc(&text),
                        serde_json::to_string(&text).unwrap(),
                        "{text:?}"
                    );
                }
            }
        }
    }
}
