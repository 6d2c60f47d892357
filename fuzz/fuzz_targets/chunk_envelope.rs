//! A chunk body through the streaming envelope reader, whole and cut into frames at
//! places the input chooses. The outcome (table, index, chunk JSON, or the error's text)
//! must not depend on the cuts or on the declared length; what it decodes must agree with
//! an ordinary parse of the body (serde + the `base64` crate).
#![no_main]
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use pushdata_server::fuzzing;

/// The body cut at the frame lengths `cuts` gives (cycled; 0 is read as 1).
fn frames<'a>(body: &'a [u8], cuts: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut i = 0;
    while !rest.is_empty() {
        let n = usize::from(cuts.get(i % cuts.len().max(1)).copied().unwrap_or(1)).max(1);
        let (f, r) = rest.split_at(n.min(rest.len()));
        out.push(f);
        rest = r;
        i += 1;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    // First byte: how many cut lengths follow; then the cut lengths; then the body.
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 8).min(rest.len());
    let (cuts, body) = rest.split_at(n);
    let whole = fuzzing::chunk_body(&[body], Some(body.len()));
    let cut = fuzzing::chunk_body(&frames(body, cuts), None);
    assert_eq!(whole, cut, "cut into {cuts:?}");
    let bytes = fuzzing::chunk_body(&frames(body, &[1]), Some(body.len() * 7 + 3));
    assert_eq!(whole, bytes, "one byte at a time");

    let reference = serde_json::from_slice::<pushdata_core::wire::ChunkRequest<'_>>(body)
        .ok()
        .and_then(|r| {
            let json = base64::engine::general_purpose::STANDARD
                .decode(r.data.as_bytes())
                .ok()?;
            Some((r.table_name.into_owned(), r.index.0, json))
        });
    match (&whole, &reference) {
        (Ok(got), Some(want)) => assert_eq!(got, want),
        (Ok(got), None) => panic!("the reader accepts a body the ordinary parse refuses: {got:?}"),
        // The reader refuses escapes in the data other than `\/`.
        (Err(e), Some(_)) if !body.contains(&b'\\') => {
            panic!("the reader refuses a body the ordinary parse accepts: {e}")
        }
        _ => {}
    }
});
