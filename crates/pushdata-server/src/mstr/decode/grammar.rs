//! The grammar of chunk JSON, and the [`Decoder`] that follows it into a batch.
//!
//! ```text
//! chunk JSON   = "[" [ element *( "," element ) ] "]"
//! ROW:    element = row array | row object          (rows.rs)
//!         row array   = "[" [ value *( "," value ) ] "]"      one value per layout column
//!         row object  = "{" [ member *( "," member ) ] "}"    member = key ":" value
//! COLUMN: element = column array                    (column_arrays.rs)
//!         column array = "[" [ value *( "," value ) ] "]"     one per layout column
//! value        = a JSON scalar (string, number, true, false, null)
//! ```
//!
//! A ROW [`Frame::RowsPart`] (a part of the parallel decode) is `row *( "," row )`, without
//! the outer brackets. Whitespace may surround every token.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};
use pushdata_core::wire::Orientation;

use super::columns::ColumnBuilder;
use super::error::{BatchError, DecodeError, Place, SyntaxAt};
use super::layout::ChunkLayout;
use super::lexer::Lexer;

/// What a text holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A whole chunk JSON: `[` rows or column arrays `]`.
    Whole,
    /// Some ROW rows without the outer brackets: `[…],[…]`.
    RowsPart,
}

/// Decode `text` (framed as `frame`) into a batch with the table's columns.
pub(crate) fn decode_text(
    text: &str,
    layout: &ChunkLayout,
    place: &Place,
    frame: Frame,
) -> Result<RecordBatch, DecodeError> {
    let mut d = Decoder::new(text, Ctx { layout, place });
    if frame == Frame::Whole {
        d.lex
            .expect(b'[', "'[' (the chunk must be a JSON array)")
            .map_err(|e| d.ctx.syntax(e))?;
    }
    let rows = match layout.orientation {
        Orientation::Row => d.rows(frame)?,
        Orientation::Column => d.column_arrays()?,
    };
    d.lex.end().map_err(|e| d.ctx.syntax(e))?;
    d.finish(rows)
}

/// What errors point at: the layout's columns and the place.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ctx<'l> {
    pub(super) layout: &'l ChunkLayout,
    pub(super) place: &'l Place,
}

impl Ctx<'_> {
    /// A syntax error with nothing but the lexer's `message` (which names the byte).
    pub(super) fn syntax(&self, message: String) -> DecodeError {
        self.syntax_at(SyntaxAt::Chunk, message)
    }

    /// A syntax error at `at`.
    pub(super) fn syntax_at(&self, at: SyntaxAt, message: String) -> DecodeError {
        DecodeError::Syntax {
            place: self.place.clone(),
            at,
            message,
        }
    }

    /// A value (0-based `row`, table column `col`) that does not fit its column.
    pub(super) fn value(&self, row: usize, col: usize, message: String) -> DecodeError {
        let c = &self.layout.columns[col];
        DecodeError::Value {
            place: self.place.clone(),
            row: row + 1,
            column: c.name.clone(),
            data_type: c.data_type,
            message,
        }
    }
}

/// One decode of a chunk JSON: the lexer over it and a builder per table column.
#[derive(Debug)]
pub(super) struct Decoder<'a, 'l> {
    pub(super) lex: Lexer<'a>,
    pub(super) ctx: Ctx<'l>,
    /// One per table column, in table order.
    pub(super) builders: Vec<ColumnBuilder>,
    /// The table columns the chunk gives no values for (filled with nulls).
    pub(super) missing: Vec<usize>,
    /// Unescaped strings.
    pub(super) scratch: String,
}

impl<'a, 'l> Decoder<'a, 'l> {
    fn new(text: &'a str, ctx: Ctx<'l>) -> Self {
        let layout = ctx.layout;
        let width = layout.order.len().max(1);
        let cap = (text.len() / (width * 6)).min(1 << 20);
        Decoder {
            lex: Lexer::new(text),
            ctx,
            builders: layout
                .columns
                .iter()
                .map(|c| ColumnBuilder::new(c.data_type, cap))
                .collect(),
            missing: layout.missing(),
            scratch: String::new(),
        }
    }

    /// After an element of an array: `,` (true: more follow) or `]` (false).
    #[inline]
    pub(super) fn next_element(&mut self) -> Result<bool, DecodeError> {
        self.lex.array_next().map_err(|e| self.ctx.syntax(e))
    }

    /// The batch of the `rows` decoded rows.
    fn finish(self, rows: usize) -> Result<RecordBatch, DecodeError> {
        let Decoder { ctx, builders, .. } = self;
        let arrays = builders
            .into_iter()
            .enumerate()
            .map(|(i, b)| b.finish().map_err(|(row, msg)| ctx.value(row, i, msg)))
            .collect::<Result<Vec<_>, _>>()?;
        batch_of(&ctx, arrays, rows)
    }
}

/// The batch of `rows` rows made of `arrays`, one per table column in table order.
pub(super) fn batch_of(
    ctx: &Ctx<'_>,
    arrays: Vec<ArrayRef>,
    rows: usize,
) -> Result<RecordBatch, DecodeError> {
    let fields: Vec<Field> = arrays
        .iter()
        .zip(&ctx.layout.columns)
        .map(|(a, c)| Field::new(&c.name, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let opts = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema, arrays, &opts).map_err(|e| DecodeError::Batch {
        place: ctx.place.clone(),
        source: BatchError::Build(e),
    })
}
