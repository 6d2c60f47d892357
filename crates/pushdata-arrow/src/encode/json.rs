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

pub(crate) use pushdata_core::wire::word_needs_escape;

/// Whether any byte of `s` needs an escape (8 bytes at a time, then the tail).
#[inline]
fn needs_escape(s: &[u8]) -> bool {
    let words = s.chunks_exact(8);
    let tail = words.remainder();
    words
        .map(|w| <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes))
        .any(word_needs_escape)
        || tail.iter().any(|&b| ESCAPE[b as usize] != 0)
}

/// Append the text of a Utf8View value stored inline in its view (`len` <= 12 bytes, at
/// bytes 4..16 of the little-endian view) as a JSON string, with fixed-size copies, if it
/// needs no escape. Returns false (and writes nothing) if it does.
#[inline]
pub(crate) fn write_inline_view(view: u128, len: usize, out: &mut Vec<u8>) -> bool {
    const FILLER: u128 = 0x6161_6161_6161_6161_6161_6161; // "aaaaaaaaaaaa": needs no escape
    let keep: u128 = if len >= 12 {
        (1u128 << 96) - 1
    } else {
        (1u128 << (8 * len)) - 1
    };
    let data = ((view >> 32) & keep) | (FILLER & !keep);
    if word_needs_escape(data as u64)
        || word_needs_escape((data >> 64) as u64 | (0x6161_6161 << 32))
    {
        return false;
    }
    // `"` + the text + `"` (and garbage after it, cut off), as one 16-byte value written
    // straight into the output.
    let quote_at = 8 * (1 + len.min(12));
    let text = ((view >> 32) << 8) | u128::from(b'"');
    let text = (text & !(0xFF << quote_at)) | (u128::from(b'"') << quote_at);
    let at = out.len();
    out.extend_from_slice(&text.to_le_bytes());
    out.truncate(at + len.min(12) + 2);
    true
}

/// Append `s` as a quoted, escaped JSON string.
#[inline]
pub(crate) fn write_json_string(s: &[u8], out: &mut Vec<u8>) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    if !needs_escape(s) {
        // The common case: one copy.
        out.extend_from_slice(s);
        out.push(b'"');
        return;
    }
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
    fn inline_views_match_the_general_writer() {
        for text in [
            "",
            "a",
            "N",
            "TRUCK",
            "12 chars ok!",
            "tab\there",
            "q\"",
            "\\",
            "été",
            "\u{1}",
            "exactly12chr",
            "ctrl\u{1f}end",
        ] {
            let b = text.as_bytes();
            if b.len() > 12 {
                continue;
            }
            let mut bytes = [0u8; 16];
            bytes[..4].copy_from_slice(&(b.len() as u32).to_le_bytes());
            bytes[4..4 + b.len()].copy_from_slice(b);
            // Garbage after the text must not matter.
            for x in &mut bytes[4 + b.len()..] {
                *x = b'"';
            }
            let view = u128::from_le_bytes(bytes);
            let mut fast = b"x".to_vec();
            let mut general = b"x".to_vec();
            write_json_string(b, &mut general);
            if write_inline_view(view, b.len(), &mut fast) {
                assert_eq!(fast, general, "{text:?}");
            } else {
                assert!(needs_escape(b), "{text:?} refused");
                assert_eq!(fast, b"x");
            }
        }
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
