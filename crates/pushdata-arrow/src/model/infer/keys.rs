//! Key names: an integer column whose last word is a key word (`ID`, `customer_id`,
//! `OrderKey`, `product_code`, `invoice_no`) is an attribute.

use super::tokens::Words;

/// The key words, best first: when several columns could be the `ID` of one ID/DESC pair,
/// the one whose word comes first here is.
pub(super) const KEY_WORDS: &[&str] = &[
    "id", "key", "code", "number", "num", "no", "nr", "pk", "fk", "sk",
];

/// The key word that ends `words`, if any.
pub(super) fn key_word(words: &Words<'_>) -> Option<&'static str> {
    let last = words.last()?;
    KEY_WORDS.iter().copied().find(|k| *k == last)
}

/// The rank of a key word in [`KEY_WORDS`] (lower is better).
pub(super) fn rank(word: &str) -> usize {
    KEY_WORDS
        .iter()
        .position(|k| *k == word)
        .unwrap_or(KEY_WORDS.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_word_must_be_a_key_word() {
        let key = |name: &str| key_word(&Words::new(name));
        assert_eq!(key("ID"), Some("id"));
        assert_eq!(key("customer_id"), Some("id"));
        assert_eq!(key("OrderKey"), Some("key"));
        assert_eq!(key("PRODUCT_CODE"), Some("code"));
        assert_eq!(key("invoice no"), Some("no"));
        assert_eq!(key("id_score"), None);
        assert_eq!(key("Valid"), None);
        assert_eq!(key("Paid"), None);
        assert_eq!(key("keys"), None);
        assert!(rank("id") < rank("code") && rank("code") < rank("sk"));
    }
}
