//! The COLUMN grammar: a chunk's column arrays, one per layout column, all of one length.

use super::columns::{ColumnBuilder, Run};
use super::error::{DecodeError, SyntaxAt};
use super::grammar::{Ctx, Decoder};
use super::lexer::Lexer;

impl Decoder<'_, '_> {
    /// The column arrays of a COLUMN chunk after its `[`; returns the number of rows.
    pub(super) fn column_arrays(&mut self) -> Result<usize, DecodeError> {
        let layout = self.ctx.layout;
        let order = &layout.order;
        let mut n = 0usize;
        if !self.lex.eat(b']') {
            loop {
                let Some(&col) = order.get(n) else {
                    return Err(DecodeError::TooManyColumnArrays {
                        place: self.ctx.place.clone(),
                        expected: order.len(),
                    });
                };
                self.lex
                    .expect(b'[', "'[' starting a column array (COLUMN orientation)")
                    .map_err(|e| self.ctx.syntax(e))?;
                column_array(
                    &mut self.lex,
                    &mut self.builders[col],
                    &mut self.scratch,
                    &self.ctx,
                    col,
                )?;
                n += 1;
                if !self.next_element()? {
                    break;
                }
            }
        }
        if n == 0 {
            return Ok(0);
        }
        if n != order.len() {
            return Err(DecodeError::TooFewColumnArrays {
                place: self.ctx.place.clone(),
                found: n,
                expected: order.len(),
            });
        }
        let rows = self.common_length()?;
        for &m in &self.missing {
            for _ in 0..rows {
                self.builders[m].push_null();
            }
        }
        Ok(rows)
    }

    /// The length of the column arrays, which must all have the first one's.
    fn common_length(&self) -> Result<usize, DecodeError> {
        let layout = self.ctx.layout;
        let Some(&first) = layout.order.first() else {
            return Ok(0);
        };
        let rows = self.builders[first].len();
        for &c in &layout.order {
            if self.builders[c].len() != rows {
                return Err(DecodeError::ColumnLengths {
                    place: self.ctx.place.clone(),
                    column: layout.columns[c].name.clone(),
                    values: self.builders[c].len(),
                    first: layout.columns[first].name.clone(),
                    rows,
                });
            }
        }
        Ok(rows)
    }
}

/// The values of one column array after its `[`, into `builder`, the builder of table
/// column `col`. Rows are counted from the builder's length, so errors name the row of the
/// chunk when the builder starts empty.
pub(super) fn column_array(
    lex: &mut Lexer<'_>,
    builder: &mut ColumnBuilder,
    scratch: &mut String,
    ctx: &Ctx<'_>,
    col: usize,
) -> Result<(), DecodeError> {
    if lex.eat(b']') {
        return Ok(());
    }
    loop {
        match builder.push_fast_run(lex) {
            Run::End => return Ok(()),
            Run::Separator => {}
            Run::Value => {
                let row = builder.len();
                let tok = lex.scalar().map_err(|e| {
                    let column = ctx.layout.columns[col].name.clone();
                    let at = SyntaxAt::Column {
                        column,
                        row: row + 1,
                    };
                    ctx.syntax_at(at, e)
                })?;
                builder
                    .push(tok, scratch)
                    .map_err(|m| ctx.value(row, col, m))?;
            }
        }
        if !lex.array_next().map_err(|e| ctx.syntax(e))? {
            return Ok(());
        }
    }
}
