//! Name rules for datasets, tables, columns, attributes and metrics.
//!
//! A name is valid when it is non-empty, not only whitespace, at most [`MAX_NAME_CHARS`]
//! characters long, and contains none of [`FORBIDDEN_CHARS`] and no control character
//! (U+0000..U+001F, U+007F..U+009F).

use crate::error::Error;

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 250;

/// Characters refused in names (besides control characters).
pub const FORBIDDEN_CHARS: &[char] = &['[', ']', '"', '\\'];

/// Check a name; `what` says what is named, for the error.
pub fn validate_name(what: &str, name: &str) -> Result<(), Error> {
    let fail = |reason: String| {
        Err(Error::InvalidName {
            what: what.to_string(),
            name: shorten(name),
            reason,
        })
    };
    if name.trim().is_empty() {
        return fail("a name must not be empty or only whitespace".into());
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return fail(format!(
            "{chars} characters, at most {MAX_NAME_CHARS} are allowed"
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return fail(format!(
            "contains the control character U+{:04X}",
            u32::from(c)
        ));
    }
    if let Some(c) = name.chars().find(|c| FORBIDDEN_CHARS.contains(c)) {
        return fail(format!(
            "contains {c:?}; the characters [ ] \" \\ are not allowed"
        ));
    }
    Ok(())
}

fn shorten(name: &str) -> String {
    if name.chars().count() > 60 {
        let head: String = name.chars().take(57).collect();
        format!("{head}...")
    } else {
        name.to_string()
    }
}
