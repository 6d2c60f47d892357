//! Column names as words: `Category_ID`, `categoryId`, `Category ID` and `CATEGORY_ID` are
//! all the words `category` + `id`. The rules match whole words, never substrings, so
//! `Valid`, `Paid` and `Holiday` hold no `id` or `day`.
//!
//! A word ends at any character that is not a letter or a digit (`_`, space, `-`, `.`, ...),
//! before an upper-case letter that follows a lower-case letter or a digit (`categoryId`,
//! `col1Id`), and before the last upper-case letter of a run that a lower-case letter
//! follows (`HTTPStatus` -> `HTTP` + `Status`). A name in one case throughout
//! (`CATEGORYID`, `categoryid`) is one word.

/// One word of a name: its byte range in the name and its lower-case text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    start: usize,
    lower: String,
}

/// A column name split into words.
#[derive(Debug, Clone)]
pub(super) struct Words<'a> {
    name: &'a str,
    words: Vec<Word>,
}

impl<'a> Words<'a> {
    /// Split `name` into words.
    pub(super) fn new(name: &'a str) -> Self {
        let mut words = Vec::new();
        let mut current: Option<usize> = None;
        let mut prev: Option<char> = None;
        let mut chars = name.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if !c.is_alphanumeric() {
                close(name, &mut current, i, &mut words);
                prev = None;
                continue;
            }
            let next = chars.peek().map(|&(_, n)| n);
            if current.is_some() && starts_word(prev, c, next) {
                close(name, &mut current, i, &mut words);
            }
            current.get_or_insert(i);
            prev = Some(c);
        }
        close(name, &mut current, name.len(), &mut words);
        Words { name, words }
    }

    /// The words, lower case.
    #[cfg(test)]
    pub(super) fn lower(&self) -> Vec<&str> {
        self.words.iter().map(|w| w.lower.as_str()).collect()
    }

    /// The last word, lower case.
    pub(super) fn last(&self) -> Option<&str> {
        self.words.last().map(|w| w.lower.as_str())
    }

    /// The name before its last word, without the separators that end it (`Category` for
    /// `Category_ID`, `Product Line` for `Product Line Desc`); `None` for a one-word name.
    pub(super) fn stem(&self) -> Option<&'a str> {
        let last = self.words.last()?;
        let stem = self.name[..last.start].trim_end_matches(|c: char| !c.is_alphanumeric());
        (!stem.is_empty() && self.words.len() > 1).then_some(stem)
    }

    /// The words before the last one, lower case and joined by spaces: the same for
    /// `Product_Line_ID` and `productLineDesc`.
    pub(super) fn stem_key(&self) -> String {
        let n = self.words.len().saturating_sub(1);
        let stem: Vec<&str> = self.words[..n].iter().map(|w| w.lower.as_str()).collect();
        stem.join(" ")
    }
}

/// Whether `c` (after `prev`, before `next`) starts a new word within a run of letters and
/// digits.
fn starts_word(prev: Option<char>, c: char, next: Option<char>) -> bool {
    let Some(p) = prev else { return false };
    if !c.is_uppercase() {
        return false;
    }
    p.is_lowercase() || p.is_numeric() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
}

/// End the current word (if any) at byte `end`.
fn close(name: &str, current: &mut Option<usize>, end: usize, words: &mut Vec<Word>) {
    if let Some(start) = current.take() {
        words.push(Word {
            start,
            lower: name[start..end].to_lowercase(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(name: &str) -> Vec<String> {
        Words::new(name)
            .lower()
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn snake_case() {
        assert_eq!(words("customer_id"), ["customer", "id"]);
        assert_eq!(words("order__line_no_"), ["order", "line", "no"]);
        assert_eq!(words("_leading"), ["leading"]);
    }

    #[test]
    fn camel_and_pascal_case() {
        assert_eq!(words("categoryId"), ["category", "id"]);
        assert_eq!(words("CategoryDesc"), ["category", "desc"]);
        assert_eq!(words("CategoryID"), ["category", "id"]);
        assert_eq!(words("HTTPStatusCode"), ["http", "status", "code"]);
        assert_eq!(words("col1Id"), ["col1", "id"]);
        assert_eq!(words("Q1"), ["q1"]);
    }

    #[test]
    fn spaces_and_other_separators() {
        assert_eq!(words("Category ID"), ["category", "id"]);
        assert_eq!(words("Product Line  Desc"), ["product", "line", "desc"]);
        assert_eq!(words("order-date.year"), ["order", "date", "year"]);
        assert_eq!(words("  "), Vec::<String>::new());
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn all_caps() {
        assert_eq!(words("CATEGORY_ID"), ["category", "id"]);
        assert_eq!(words("CATEGORYID"), ["categoryid"]);
        assert_eq!(words("ID"), ["id"]);
    }

    #[test]
    fn words_are_whole_never_substrings() {
        for name in ["Valid", "Paid", "Width", "Holiday", "PAID", "valid"] {
            assert_eq!(Words::new(name).lower().len(), 1, "{name}");
        }
        assert_eq!(words("id_score"), ["id", "score"]);
    }

    #[test]
    fn non_ascii_letters() {
        assert_eq!(words("Größe_ID"), ["größe", "id"]);
        assert_eq!(words("ÉtatCode"), ["état", "code"]);
    }

    #[test]
    fn stem_and_last_word() {
        let w = Words::new("Category_ID");
        assert_eq!((w.stem(), w.last()), (Some("Category"), Some("id")));
        let w = Words::new("Product Line Desc");
        assert_eq!(w.stem(), Some("Product Line"));
        assert_eq!(w.stem_key(), "product line");
        assert_eq!(Words::new("productLineID").stem_key(), "product line");
        assert_eq!(Words::new("ID").stem(), None);
        assert_eq!(Words::new("ID").last(), Some("id"));
        assert_eq!(Words::new("__").last(), None);
    }
}
