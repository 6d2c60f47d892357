//! Random identifiers: object ids (32 upper-case hex) and auth tokens.

use rand::RngCore;

fn hex(bytes: &[u8], upper: bool) -> String {
    const UP: &[u8; 16] = b"0123456789ABCDEF";
    const LO: &[u8; 16] = b"0123456789abcdef";
    let digits = if upper { UP } else { LO };
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(digits[usize::from(b >> 4)]));
        s.push(char::from(digits[usize::from(b & 0x0f)]));
    }
    s
}

/// A new object id: 128 random bits as 32 upper-case hex digits.
pub(crate) fn new_object_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    hex(&b, true)
}

/// A new auth token or cookie value: 160 random bits as 40 lower-case hex digits.
pub(crate) fn new_token() -> String {
    let mut b = [0u8; 20];
    rand::rng().fill_bytes(&mut b);
    hex(&b, false)
}

/// A stable 32-hex id derived from a name (for objects the server does not store, such
/// as users). Not random: the same name always gives the same id.
pub(crate) fn stable_id(name: &str) -> String {
    // FNV-1a, twice with different offsets, for 128 bits.
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4;
    for byte in name.bytes() {
        a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    hex(&bytes, true)
}
