//! The ROW grammar: a chunk's rows, each a row array (`[v, v]`, values in layout order) or
//! a row object (`{"col": v}`, columns by name, absent ones null).

use std::collections::HashMap;

use pushdata_core::wire::ColumnHeader;

use super::error::{DecodeError, SyntaxAt};
use super::grammar::{Decoder, Frame};
use super::layout::find_column;

impl<'a, 'l> Decoder<'a, 'l> {
    /// The rows of a ROW chunk after its `[` (all of the text for a
    /// [`Frame::RowsPart`]); returns how many.
    pub(super) fn rows(&mut self, frame: Frame) -> Result<usize, DecodeError> {
        let part = frame == Frame::RowsPart;
        let mut objects: Option<RowObjects<'a, 'l>> = None;
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
            if !self.next_after_element()? {
                break;
            }
        }
        Ok(row)
    }

    /// After an element of an array: `,` (true: more follow) or `]` (false); the common
    /// case (right after the element) first.
    #[inline]
    fn next_after_element(&mut self) -> Result<bool, DecodeError> {
        match self.lex.fast_array_next() {
            Some(more) => Ok(more),
            None => self.next_element(),
        }
    }

    /// The values of row array `row` (0-based) after its `[`.
    #[inline]
    fn row_array(&mut self, row: usize) -> Result<(), DecodeError> {
        let layout = self.ctx.layout;
        let order = &layout.order;
        let mut i = 0usize;
        if !self.lex.eat(b']') {
            loop {
                let fast = match order.get(i) {
                    Some(&col) => self.builders[col].push_fast(&mut self.lex),
                    None => false,
                };
                if !fast {
                    self.row_value(row, i)?;
                }
                i += 1;
                if !self.next_after_element()? {
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

    /// Value `i` of row array `row` (0-based), read in full (not one of the forms
    /// [`ColumnBuilder::push_fast`](super::columns::ColumnBuilder::push_fast) takes).
    #[inline(never)]
    fn row_value(&mut self, row: usize, i: usize) -> Result<(), DecodeError> {
        let tok = self
            .lex
            .scalar()
            .map_err(|e| self.ctx.syntax_at(SyntaxAt::Row(row + 1), e))?;
        let Some(&col) = self.ctx.layout.order.get(i) else {
            return Err(DecodeError::RowTooLong {
                place: self.ctx.place.clone(),
                row: row + 1,
                expected: self.ctx.layout.ordered_names(),
            });
        };
        self.builders[col]
            .push(tok, &mut self.scratch)
            .map_err(|m| self.ctx.value(row, col, m))
    }

    /// The members of row object `row` (0-based) after its `{`.
    #[inline]
    fn row_object(
        &mut self,
        objects: &mut RowObjects<'a, 'l>,
        row: usize,
    ) -> Result<(), DecodeError> {
        objects.seen.fill(false);
        if !self.lex.eat(b'}') {
            let mut member = 0;
            loop {
                self.member(objects, member, row)?;
                member += 1;
                let more = match self.lex.fast_object_next() {
                    Some(more) => more,
                    None => self.lex.object_next().map_err(|e| self.ctx.syntax(e))?,
                };
                if !more {
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

    /// Member `member` (0-based), `key: value`, of row object `row` (0-based). A key
    /// written as the previous row's key at the same position (the usual case) takes that
    /// key's column without a lookup.
    #[inline]
    fn member(
        &mut self,
        objects: &mut RowObjects<'a, 'l>,
        member: usize,
        row: usize,
    ) -> Result<(), DecodeError> {
        let ctx = self.ctx;
        self.lex.skip_value_ws();
        let col = match objects.last.get(member).copied().flatten() {
            Some((key, col)) if self.lex.fast_key(key) => col,
            _ => self.member_key(objects, member, row)?,
        };
        if objects.seen[col] {
            return Err(DecodeError::RepeatedKey {
                place: ctx.place.clone(),
                row: row + 1,
                column: ctx.layout.columns[col].name.clone(),
            });
        }
        if !self.builders[col].push_fast(&mut self.lex) {
            let tok = self
                .lex
                .scalar()
                .map_err(|e| ctx.syntax_at(SyntaxAt::Row(row + 1), e))?;
            self.builders[col]
                .push(tok, &mut self.scratch)
                .map_err(|m| ctx.value(row, col, m))?;
        }
        objects.seen[col] = true;
        Ok(())
    }

    /// The key of member `member` of row object `row` (0-based) and its `:`, read in full:
    /// the column it names. A key without escapes is remembered for the next row.
    fn member_key(
        &mut self,
        objects: &mut RowObjects<'a, 'l>,
        member: usize,
        row: usize,
    ) -> Result<usize, DecodeError> {
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
        if !objects.seen[col] {
            self.lex.expect(b':', "':'").map_err(|e| ctx.syntax(e))?;
        }
        if let Some(slot) = objects.last.get_mut(member) {
            *slot = key.plain().map(|k| (k, col));
        }
        Ok(col)
    }
}

/// What the row objects of a chunk need: the column of each key, which columns the
/// current row gave, and the previous row's keys by position.
struct RowObjects<'a, 'l> {
    /// Exact column names (the common case, hashed).
    keys: HashMap<&'l str, usize>,
    columns: &'l [ColumnHeader],
    /// Per table column: given by the current row.
    seen: Vec<bool>,
    /// Per member position: the key (raw text, without escapes) the last row that had a
    /// member there wrote, and its column.
    last: Vec<Option<(&'a str, usize)>>,
}

impl<'a, 'l> RowObjects<'a, 'l> {
    fn new(columns: &'l [ColumnHeader]) -> Self {
        RowObjects {
            keys: columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.as_str(), i))
                .collect(),
            columns,
            seen: vec![false; columns.len()],
            last: vec![None; columns.len()],
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use pushdata_core::wire::Orientation;

    use crate::mstr::decode::decode_json;
    use crate::mstr::decode::error::DecodeError;
    use crate::mstr::decode::tests::{layout, t};

    /// Row objects whose keys change order, case, escapes and spacing from row to row
    /// decode as the same rows written as arrays.
    #[test]
    fn row_objects_with_changing_keys_match_row_arrays() {
        let l = layout(Orientation::Row);
        let objects = decode_json(
            r#"[{"Year":1,"Name":"a","Cost":1.5,"Amount":2},
                {"Year":2,"Name":"b","Cost":2.5,"Amount":3},
                {"Name":"c","Year":3,"Amount":4,"Cost":3.5},
                {"year":4,"Na\u006de":"d","Cost" :4.5},
                {"Year":5,"Name":"e","Cost":5.5,"Amount":6},
                {"Amount":7},
                {"Year":7,"Name":null,"Cost":"7.5","Amount":"8"}]"#,
            &l,
            &t(),
        )
        .unwrap();
        let arrays = decode_json(
            r#"[[1,"a",1.5,2],[2,"b",2.5,3],[3,"c",3.5,4],[4,"d",4.5,null],[5,"e",5.5,6],
                [null,null,null,7],[7,null,7.5,8]]"#,
            &l,
            &t(),
        )
        .unwrap();
        assert_eq!(objects, arrays);
    }

    /// A key the previous row wrote at the same position is still checked: repeated and
    /// unknown keys are refused naming the row.
    #[test]
    fn remembered_keys_still_refuse_repeats_and_unknown_keys() {
        let l = layout(Orientation::Row);
        let e =
            decode_json(r#"[{"Year":1,"Name":"a"},{"Year":2,"Year":3}]"#, &l, &t()).unwrap_err();
        match e {
            DecodeError::RepeatedKey { row, column, .. } => {
                assert_eq!((row, column.as_str()), (2, "Year"))
            }
            other => panic!("{other:?}"),
        }
        let e =
            decode_json(r#"[{"Year":1,"Name":"a"},{"Year":2,"Nam":"b"}]"#, &l, &t()).unwrap_err();
        match e {
            DecodeError::UnknownKey { row, key, .. } => assert_eq!((row, key.as_str()), (2, "Nam")),
            other => panic!("{other:?}"),
        }
        let e = decode_json(r#"[{"Year":1},{"Year":"x"}]"#, &l, &t()).unwrap_err();
        match e {
            DecodeError::Value { row, column, .. } => {
                assert_eq!((row, column.as_str()), (2, "Year"))
            }
            other => panic!("{other:?}"),
        }
    }
}
