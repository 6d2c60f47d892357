//! The envelope's `data`: standard, padded base64 decoded into chunk JSON in one pass
//! (large data in parallel blocks), and the description of what is wrong with data that
//! does not decode.

use super::error::{Base64Fault, DecodeError, Place};

/// Data longer than twice this is decoded in parallel blocks of this many characters.
const BLOCK: usize = 4 << 20;

/// Decode standard, padded base64 (whitespace is not allowed).
pub(crate) fn decode_base64(data: &[u8], place: &Place) -> Result<Vec<u8>, DecodeError> {
    if data.len() > 2 * BLOCK
        && rayon::current_num_threads() > 1
        && let Some(json) = decode_parallel(data)
    {
        return Ok(json);
    }
    base64_simd::STANDARD
        .decode_to_vec(data)
        .map_err(|e| DecodeError::Base64 {
            place: place.clone(),
            fault: base64_fault(data, 0, data.len()),
            source: Some(e),
        })
}

/// Decode in parallel blocks (whole groups of 4 characters each); `None` on any error, which
/// the one-pass decode then finds and describes.
fn decode_parallel(data: &[u8]) -> Option<Vec<u8>> {
    use rayon::prelude::*;
    let n = base64_simd::STANDARD.decoded_length(data).ok()?;
    let mut out = vec![0u8; n];
    let ok = data
        .par_chunks(BLOCK)
        .zip(out.par_chunks_mut(BLOCK / 4 * 3))
        .all(|(src, dst)| {
            let want = dst.len();
            base64_simd::STANDARD
                .decode(src, base64_simd::Out::from_slice(dst))
                .is_ok_and(|d| d.len() == want)
        });
    ok.then_some(out)
}

/// What is wrong with base64 `data` that did not decode, which starts at character
/// `offset` of the whole data of `total` characters: the first character outside the
/// alphabet, else the length or padding.
pub(crate) fn base64_fault(data: &[u8], offset: usize, total: usize) -> Base64Fault {
    let bad = data
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='));
    match bad {
        Some(p) => Base64Fault::Character {
            found: char::from(data[p]),
            offset: offset + p,
        },
        None => Base64Fault::LengthOrPadding { chars: total },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parallel_base64_decode_matches_and_reports_errors() {
        let data: Vec<u8> = (0..(9 << 20) + 2).map(|i| (i * 31 % 251) as u8).collect();
        let enc = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(&data)
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let place = Place::table("t");
        assert_eq!(
            pool.install(|| decode_base64(enc.as_bytes(), &place))
                .unwrap(),
            data
        );
        let mut bad = enc.clone().into_bytes();
        bad[5 << 20] = b'*';
        let e = pool
            .install(|| decode_base64(&bad, &place))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("invalid character '*' at offset {}", 5 << 20)),
            "{e}"
        );
    }
}
