//! ID/DESC pairs: two columns of one table that are the ID and the description of one
//! thing, `X` + a key word and `X` + a description word (`Category_ID` / `Category_DESC`,
//! `CountryCode` / `CountryName`, `Product Line ID` / `Product Line Desc`, any case and
//! separators), become one attribute `X` with an `ID` form and a `DESC` form.
//!
//! - The ID column is an integer or a string; the DESC column is a string.
//! - Both words must end the names, and `X` must not be empty (`ID` + `Name` is no pair).
//! - When several columns of a table could be the ID (or the DESC) of one `X`, the one whose
//!   word comes first in [`KEY_WORDS`](super::keys::KEY_WORDS) (or [`DESC_WORDS`]) is;
//!   the others are left to the other rules.
//! - One attribute `X` per push: the first table (in the order given) with a pair for `X`
//!   names its two columns, and in every table the columns of those names are its forms,
//!   so a table with only `X_ID` is related to the table that describes it.
//! - No pair is made for `X` when a column of the push is named `X`, or an explicit form
//!   choice names an attribute `X` (the names would clash), or for a column with an
//!   explicit choice.

use pushdata_core::wire::FormCategory;

use super::keys::{key_word, rank};
use super::{ColumnFacts, Decision, TableFacts};
use crate::model::RoleReason;

/// The description words, best first.
pub(super) const DESC_WORDS: &[&str] = &[
    "desc",
    "description",
    "descr",
    "name",
    "label",
    "title",
    "text",
];

/// One pair: attribute `X` and the names of its ID and DESC columns.
#[derive(Debug, Clone)]
struct Pair {
    /// The words of `X`, lower case.
    key: String,
    attribute: String,
    id_column: String,
    desc_column: String,
}

/// The pairs of a push.
#[derive(Debug, Default)]
pub(super) struct Pairs {
    pairs: Vec<Pair>,
}

/// A column that could be one side of a pair.
struct Candidate<'a> {
    key: String,
    stem: &'a str,
    rank: usize,
    column: &'a str,
}

impl Pairs {
    /// The pairs of `tables`; `taken` are attribute names explicit form choices give.
    pub(super) fn find<'t>(
        tables: &[TableFacts<'_>],
        taken: impl IntoIterator<Item = &'t str>,
    ) -> Self {
        let mut pairs: Vec<Pair> = Vec::new();
        for t in tables {
            for pair in table_pairs(t) {
                if !pairs.iter().any(|p| p.key == pair.key) {
                    pairs.push(pair);
                }
            }
        }
        let taken: Vec<&str> = taken.into_iter().collect();
        pairs.retain(|p| {
            let clashes = |name: &str| name.eq_ignore_ascii_case(&p.attribute);
            !taken.iter().any(|n| clashes(n))
                && !tables
                    .iter()
                    .any(|t| t.columns.iter().any(|c| clashes(c.name)))
        });
        Pairs { pairs }
    }

    /// The form `c` is of a pair's attribute, if it is one (`c` has no explicit choice).
    pub(super) fn decide(&self, c: &ColumnFacts<'_>) -> Option<Decision> {
        self.pairs.iter().find_map(|p| {
            let category = if c.name.eq_ignore_ascii_case(&p.id_column) && can_be_id(c) {
                FormCategory::Id
            } else if c.name.eq_ignore_ascii_case(&p.desc_column) && c.is_text() {
                FormCategory::Desc
            } else {
                return None;
            };
            let reason = RoleReason::IdDescPair {
                attribute: p.attribute.clone(),
                id_column: p.id_column.clone(),
                desc_column: p.desc_column.clone(),
            };
            Some(Decision::attribute(&p.attribute, category, reason))
        })
    }
}

/// The pairs within one table, in order of their ID columns.
fn table_pairs(t: &TableFacts<'_>) -> Vec<Pair> {
    let mut ids: Vec<Candidate<'_>> = Vec::new();
    let mut descs: Vec<Candidate<'_>> = Vec::new();
    for c in t.columns.iter().filter(|c| c.chosen.is_none()) {
        let Some(stem) = c.words.stem() else {
            continue;
        };
        let candidate = |rank| Candidate {
            key: c.words.stem_key(),
            stem,
            rank,
            column: c.name,
        };
        if let Some(word) = key_word(&c.words).filter(|_| can_be_id(c)) {
            ids.push(candidate(rank(word)));
        } else if let Some(r) = desc_rank(c) {
            descs.push(candidate(r));
        }
    }
    let mut pairs: Vec<Pair> = Vec::new();
    for id in &ids {
        if pairs.iter().any(|p| p.key == id.key) {
            continue;
        }
        let best = |all: &'_ [Candidate<'_>]| -> Option<usize> {
            (0..all.len())
                .filter(|&i| all[i].key == id.key)
                .min_by_key(|&i| all[i].rank)
        };
        if let (Some(i), Some(d)) = (best(&ids), best(&descs)) {
            pairs.push(Pair {
                key: id.key.clone(),
                attribute: ids[i].stem.to_string(),
                id_column: ids[i].column.to_string(),
                desc_column: descs[d].column.to_string(),
            });
        }
    }
    pairs
}

/// The rank of `c`'s description word, when it is a text column that ends in one.
fn desc_rank(c: &ColumnFacts<'_>) -> Option<usize> {
    let last = c.words.last()?;
    DESC_WORDS
        .iter()
        .position(|w| *w == last)
        .filter(|_| c.is_text())
}

/// Whether `c` can hold the ID of a pair: an integer or a string.
fn can_be_id(c: &ColumnFacts<'_>) -> bool {
    c.is_integer() || c.is_text()
}
