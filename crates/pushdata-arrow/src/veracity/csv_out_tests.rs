#![allow(clippy::unwrap_used)]

use super::*;
use crate::encode::digits::NUMBER_ROOM;

/// What `write` writes into a row's room of a fresh [`SliceOut`] (the room just big
/// enough: a text's `2 * len + 2`, plus [`ROW_SLACK`]).
fn written(len: usize, write: impl FnOnce(&mut [u8]) -> Option<usize>) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut out = SliceOut::new(&mut buf, 0);
    let room = out.room(2 * len + 2 + ROW_SLACK);
    let k = write(room).unwrap();
    out.commit(k);
    out.finish();
    buf
}

/// The field of `text` by the rules, written plainly.
fn expected(text: &[u8]) -> Vec<u8> {
    let edge = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    let special = text.iter().any(|b| b",\"\n\r".contains(b));
    if !text.is_empty() && !special && !edge(text.first()) && !edge(text.last()) {
        return text.to_vec();
    }
    let mut out = vec![b'"'];
    for &b in text {
        out.push(b);
        if b == b'"' {
            out.push(b'"');
        }
    }
    out.push(b'"');
    out
}

/// An Arrow string view holding `text` (at most 12 bytes) inline.
fn inline_view(text: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&(text.len() as u32).to_le_bytes());
    bytes[4..4 + text.len()].copy_from_slice(text);
    u128::from_le_bytes(bytes)
}

#[test]
fn a_special_byte_at_every_position_of_a_chunk_is_quoted() {
    for len in 1..=40usize {
        for at in 0..len {
            for &c in b",\"\n\r" {
                let mut text: Vec<u8> = (0..len)
                    .map(|i| b"abcdefgh+-\t#\x01y\x7f\xff"[i % 16])
                    .collect();
                text[at] = c;
                // The text alone in its buffer, and followed by more bytes (read past it).
                let mut data = text.clone();
                let alone = written(len, |r| put_text_in(r, 0, &data, 0, len));
                assert_eq!(alone, expected(&text), "{len} {at} {c}");
                data.splice(0..0, *b"zz,");
                data.extend_from_slice(b",\"more\n bytes after the text,,,,,,,");
                let inside = written(len, |r| put_text_in(r, 0, &data, 3, len));
                assert_eq!(inside, expected(&text), "{len} {at} {c}");
                if len <= 12 {
                    let view = written(len, |r| put_inline_text(r, 0, inline_view(&text)));
                    assert_eq!(view, expected(&text), "{len} {at} {c}");
                }
            }
        }
    }
}

#[test]
fn plain_texts_of_every_length_are_copied_whole() {
    let data: Vec<u8> = (0..100u8).map(|i| b'a' + i % 26).collect();
    for start in [0, 1, 7, 15, 16, 17] {
        for len in 1..data.len() - start {
            let text = &data[start..start + len];
            let got = written(len + 2, |r| {
                let k = put_bytes(r, 0, b"<")?;
                let k = put_text_in(r, k, &data, start, len)?;
                put_bytes(r, k, b">")
            });
            assert_eq!(got, [b"<", text, b">"].concat(), "{start} {len}");
            if len <= 12 {
                let view = written(len, |r| put_inline_text(r, 0, inline_view(text)));
                assert_eq!(view, text, "{len}");
            }
        }
    }
}

#[test]
fn edges_empty_texts_and_quotes() {
    for text in [
        &b""[..],
        b" lead",
        b"trail ",
        b"\ttab",
        b"tab\t",
        b" ",
        b"in side",
        b"\"",
        b"\"\"",
        b"a\"b\"c",
        b"x",
        b"\xc3\xa9t\xc3\xa9",
    ] {
        assert_eq!(
            written(text.len(), |r| put_text_in(r, 0, text, 0, text.len())),
            expected(text),
            "{text:?}"
        );
        if text.len() <= 12 {
            let view = written(text.len(), |r| put_inline_text(r, 0, inline_view(text)));
            assert_eq!(view, expected(text));
        }
    }
}

#[test]
fn texts_not_in_their_data_are_refused() {
    let mut room = [0u8; 256];
    assert_eq!(put_text_in(&mut room, 0, b"abc", 2, 2), None);
    assert_eq!(put_text_in(&mut room, 0, b"abc", usize::MAX, 2), None);
}

#[test]
fn numbers_dates_and_booleans_follow_each_other() {
    let got = written(64, |r| {
        let k = put_int(r, 0, i64::MIN)?;
        let k = put_bytes(r, k, b",")?;
        let k = put_int(r, k, 0)?;
        let k = put_bytes(r, k, b",")?;
        let k = put_decimal2(r, k, true, 5)?;
        let k = put_bytes(r, k, b",")?;
        let k = put_decimal(r, k, false, u64::MAX, 16)?;
        let k = put_bytes(r, k, b",")?;
        let k = put_date(r, k, b"1969-12-31")?;
        let k = put_bytes(r, k, b",")?;
        let k = put_bool(r, k, true)?;
        let k = put_bytes(r, k, b",")?;
        let k = put_bool(r, k, false)?;
        put_bytes(r, k, b"\n")
    });
    assert_eq!(
        String::from_utf8(got).unwrap(),
        "-9223372036854775808,0,-0.05,1844.6744073709551615,1969-12-31,true,false\n"
    );
}

#[test]
fn a_room_too_small_is_refused_not_overrun() {
    let mut room = [0u8; NUMBER_ROOM - 1];
    assert_eq!(put_int(&mut room, 0, 1), None);
    assert_eq!(put_decimal2(&mut room, 0, false, 1), None);
    assert_eq!(put_text_in(&mut [0u8; 20], 0, b"abcdefgh", 0, 8), None);
}

#[test]
fn the_buffer_grows_past_its_first_capacity_and_keeps_every_byte() {
    let mut buf = vec![b'#'; 10];
    let mut out = SliceOut::new(&mut buf, 4);
    let mut want = Vec::new();
    for i in 0..50_000i64 {
        let room = out.room(21 + ROW_SLACK);
        let k = put_int(room, 0, i * 7919).unwrap();
        let k = put_bytes(room, k, b",").unwrap();
        out.commit(k);
        want.extend_from_slice(format!("{},", i * 7919).as_bytes());
    }
    out.finish();
    assert_eq!(buf, want);
}
