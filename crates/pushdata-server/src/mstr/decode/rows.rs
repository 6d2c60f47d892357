//! The ROW grammar: a chunk's rows, each a row array (`[v, v]`, values in layout order) or
//! a row object (`{"col": v}`, columns by name, absent ones null).

use std::collections::HashMap;

use pushdata_core::wire::ColumnHeader;

use super::error::{DecodeError, SyntaxAt};
use super::grammar::{Decoder, Frame};
use super::layout::find_column;

impl<'l> Decoder<'_, 'l> {
    /// The rows of a ROW chunk after its `[` (all of the text for a
    /// [`Frame::RowsPart`]); returns how many.
    pub(super) fn rows(&mut self, frame: Frame) -> Result<usize, DecodeError> {
        let part = frame == Frame::RowsPart;
        let mut objects: Option<RowObjects<'l>> = None;
        let mut row = 0usize;
        if !part && self.lex.eat(b']') {
            return Ok(0);
        }
        loop {
            match self.lex.peek() {
                Some(b'[') => {
                    self.lex.eat(b'[');
                    self.row_array(row)?;
                }
                Some(b'{') => {
                    self.lex.eat(b'{');
                    let layout = self.ctx.layout;
                    let o = objects.get_or_insert_with(|| RowObjects::new(&layout.columns));
                    self.row_object(o, row)?;
                }
                _ => {
                    return Err(DecodeError::NotARow {
                        place: self.ctx.place.clone(),
                        row: row + 1,
                        offset: self.lex.offset(),
                    });
                }
            }
            row += 1;
            if part && self.lex.peek().is_none() {
                break;
            }
            if !self.next_element()? {
                break;
            }
        }
        Ok(row)
    }

    /// The values of row array `row` (0-based) after its `[`.
    #[inline]
    fn row_array(&mut self, row: usize) -> Result<(), DecodeError> {
        let layout = self.ctx.layout;
        let order = &layout.order;
        let mut i = 0usize;
        if !self.lex.eat(b']') {
            loop {
                if let Some(&col) = order.get(i)
                    && self.builders[col].push_fast(&mut self.lex)
                {
                    i += 1;
                    if !self.next_element()? {
                        break;
                    }
                    continue;
                }
                let tok = self
                    .lex
                    .scalar()
                    .map_err(|e| self.ctx.syntax_at(SyntaxAt::Row(row + 1), e))?;
                let Some(&col) = order.get(i) else {
                    return Err(DecodeError::RowTooLong {
                        place: self.ctx.place.clone(),
                        row: row + 1,
                        expected: self.ctx.layout.ordered_names(),
                    });
                };
                self.builders[col]
                    .push(tok, &mut self.scratch)
                    .map_err(|m| self.ctx.value(row, col, m))?;
                i += 1;
                if !self.next_element()? {
                    break;
                }
            }
        }
        if i != order.len() {
            return Err(DecodeError::RowTooShort {
                place: self.ctx.place.clone(),
                row: row + 1,
                values: i,
                expected: self.ctx.layout.ordered_names(),
            });
        }
        for &m in &self.missing {
            self.builders[m].push_null();
        }
        Ok(())
    }

    /// The members of row object `row` (0-based) after its `{`.
    #[inline]
    fn row_object(&mut self, objects: &mut RowObjects<'l>, row: usize) -> Result<(), DecodeError> {
        objects.seen.fill(false);
        if !self.lex.eat(b'}') {
            loop {
                self.member(objects, row)?;
                if !self.lex.object_next().map_err(|e| self.ctx.syntax(e))? {
                    break;
                }
            }
        }
        for (c, s) in objects.seen.iter().enumerate() {
            if !s {
                self.builders[c].push_null();
            }
        }
        Ok(())
    }

    /// One `key: value` member of row object `row` (0-based).
    #[inline]
    fn member(&mut self, objects: &mut RowObjects<'l>, row: usize) -> Result<(), DecodeError> {
        let ctx = self.ctx;
        let key = self
            .lex
            .string()
            .map_err(|e| ctx.syntax_at(SyntaxAt::RowKey(row + 1), e))?;
        let name = key.value(&mut self.scratch).map_err(|e| ctx.syntax(e))?;
        let Some(col) = objects.column(name) else {
            return Err(DecodeError::UnknownKey {
                place: ctx.place.clone(),
                row: row + 1,
                key: name.to_string(),
                columns: ctx.layout.columns.clone(),
            });
        };
        if objects.seen[col] {
            return Err(DecodeError::RepeatedKey {
                place: ctx.place.clone(),
                row: row + 1,
                column: ctx.layout.columns[col].name.clone(),
            });
        }
        self.lex.expect(b':', "':'").map_err(|e| ctx.syntax(e))?;
        let tok = self
            .lex
            .scalar()
            .map_err(|e| ctx.syntax_at(SyntaxAt::Row(row + 1), e))?;
        self.builders[col]
            .push(tok, &mut self.scratch)
            .map_err(|m| ctx.value(row, col, m))?;
        objects.seen[col] = true;
        Ok(())
    }
}

/// What the row objects of a chunk need: the column of each key, and which columns the
/// current row gave.
struct RowObjects<'l> {
    /// Exact column names (the common case, hashed).
    keys: HashMap<&'l str, usize>,
    columns: &'l [ColumnHeader],
    /// Per table column: given by the current row.
    seen: Vec<bool>,
}

impl<'l> RowObjects<'l> {
    fn new(columns: &'l [ColumnHeader]) -> Self {
        RowObjects {
            keys: columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.as_str(), i))
                .collect(),
            columns,
            seen: vec![false; columns.len()],
        }
    }

    /// The table column `key` names, by the [`find_column`] rule.
    #[inline]
    fn column(&self, key: &str) -> Option<usize> {
        self.keys
            .get(key)
            .copied()
            .or_else(|| find_column(self.columns, key))
    }
}
