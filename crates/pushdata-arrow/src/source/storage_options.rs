//! The options of an input URL's object store, kept out of `Debug` (they hold secrets).

use std::collections::BTreeMap;
use std::fmt;

/// Options of the object store an input URL opens (`aws_region`, `aws_endpoint`,
/// `azure_storage_account_key`, ...: the configuration keys of `object_store`'s builders),
/// added to what the environment gives. Their values can be secrets: `Debug` shows the
/// keys only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StorageOptions(BTreeMap<String, String>);

impl StorageOptions {
    /// No options: the store is configured from the environment alone.
    pub fn new() -> Self {
        StorageOptions::default()
    }

    /// Set option `key` (case-insensitive, as `object_store` reads it) to `value`.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(key.into().to_ascii_lowercase(), value.into());
        self
    }

    /// The options, keys lowercase, in key order.
    #[cfg(feature = "object-store")]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for StorageOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for StorageOptions {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        iter.into_iter()
            .fold(StorageOptions::new(), |o, (k, v)| o.with(k, v))
    }
}
