//! Name rules for datasets, tables, columns, attributes and metrics: the one definition in
//! [`pushdata_core::wire::validate_name`], with its error turned into this crate's
//! [`Error::InvalidName`].

use crate::error::Error;

/// Check a name; `what` says what is named, for the error.
pub fn validate_name(what: &str, name: &str) -> Result<(), Error> {
    pushdata_core::wire::validate_name(what, name).map_err(|e| Error::InvalidName {
        what: e.what,
        name: e.name,
        reason: e.reason,
    })
}
