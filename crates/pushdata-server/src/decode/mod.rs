//! Chunk decoding: base64 (SIMD) -> UTF-8 JSON array (ROW or COLUMN, or ROW objects) ->
//! typed Arrow arrays, in one pass with no intermediate JSON values.

pub mod columns;
pub mod envelope;
pub mod json;
pub mod values;

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema};
use pushdata_core::wire::{ColumnHeader, Orientation};

use crate::mstr::error::{ApiError as ServerError, Result};
use columns::ColumnBuilder;
use json::Lexer;

/// How the values of a chunk map onto a table.
#[derive(Debug, Clone)]
pub struct ChunkLayout {
    /// The table's columns, in definition order (the order of the decoded batch).
    pub columns: Vec<ColumnHeader>,
    /// For each position in the uploaded arrays, the index of the table column it fills.
    /// Table columns not listed are filled with nulls.
    pub order: Vec<usize>,
    /// ROW or COLUMN arrays.
    pub orientation: Orientation,
}

impl ChunkLayout {
    /// A layout taking the values in `names` order (all table columns when `None`).
    /// Unknown names are an error naming the column and listing the table's columns.
    pub fn new(
        columns: Vec<ColumnHeader>,
        names: Option<&[String]>,
        orientation: Orientation,
        table: &str,
    ) -> Result<Self> {
        let order = match names {
            None => (0..columns.len()).collect(),
            Some(names) => {
                let mut order = Vec::with_capacity(names.len());
                for n in names {
                    let i = find_column(&columns, n).ok_or_else(|| {
                        ServerError::bad_request(format!(
                            "table {table:?} has no column {n:?}; its columns are {}",
                            list_columns(&columns)
                        ))
                    })?;
                    if order.contains(&i) {
                        return Err(ServerError::bad_request(format!(
                            "column {n:?} of table {table:?} is listed twice in columnHeaders"
                        )));
                    }
                    order.push(i);
                }
                order
            }
        };
        Ok(ChunkLayout {
            columns,
            order,
            orientation,
        })
    }

    /// The Arrow schema of a decoded batch before decimal scales are known.
    pub fn schema_hint(&self) -> Schema {
        Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(&c.name, columns::arrow_type(c.data_type), true))
                .collect::<Vec<_>>(),
        )
    }
}

/// The index of column `name` (exact match first, then case-insensitive).
pub fn find_column(columns: &[ColumnHeader], name: &str) -> Option<usize> {
    columns.iter().position(|c| c.name == name).or_else(|| {
        columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    })
}

/// `"a" (INTEGER), "b" (STRING)` for error messages.
pub fn list_columns(columns: &[ColumnHeader]) -> String {
    columns
        .iter()
        .map(|c| format!("{:?} ({})", c.name, c.data_type))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decode standard, padded base64 (whitespace is not allowed).
pub fn decode_base64(data: &[u8], place: &str) -> Result<Vec<u8>> {
    // Large data is decoded in parallel blocks (whole groups of 4 characters each); on any
    // error the one-pass decode below finds and describes it.
    const BLOCK: usize = 4 << 20;
    if data.len() > 2 * BLOCK
        && rayon::current_num_threads() > 1
        && let Ok(n) = base64_simd::STANDARD.decoded_length(data)
    {
        use rayon::prelude::*;
        let mut out = vec![0u8; n];
        let ok = data
            .par_chunks(BLOCK)
            .zip(out.par_chunks_mut(BLOCK / 4 * 3))
            .all(|(src, dst)| {
                let want = dst.len();
                base64_simd::STANDARD
                    .decode(src, base64_simd::Out::from_slice(dst))
                    .is_ok_and(|d| d.len() == want)
            });
        if ok {
            return Ok(out);
        }
    }
    base64_simd::STANDARD.decode_to_vec(data).map_err(|_| {
        ServerError::bad_request(format!(
            "{place}: data is not valid base64 (standard alphabet, padded): {}",
            base64_fault(data, 0, data.len())
        ))
    })
}

/// What is wrong with base64 `data` that did not decode, which starts at character
/// `offset` of the whole data of `total` characters: the first character outside the
/// alphabet, else the length or padding.
pub fn base64_fault(data: &[u8], offset: usize, total: usize) -> String {
    let bad = data
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='));
    match bad {
        Some(p) => format!(
            "invalid character {:?} at offset {}",
            char::from(data[p]),
            offset + p
        ),
        None => format!("bad length or padding ({total} characters)"),
    }
}

/// Decode a chunk's base64 `data` into a batch with the table's columns.
pub fn decode_chunk(data: &[u8], layout: &ChunkLayout, place: &str) -> Result<RecordBatch> {
    let mut parts = decode_chunk_parts(data, layout, place)?;
    if parts.len() == 1 {
        return Ok(parts.swap_remove(0));
    }
    let schema = parts
        .first()
        .map(|b| b.schema())
        .ok_or_else(|| ServerError::internal(place, "no decoded parts"))?;
    arrow_select::concat::concat_batches(&schema, &parts)
        .map_err(|e| ServerError::internal(format!("{place}: joining decoded parts"), e))
}

/// Decode a chunk's base64 `data` into batches (in row order, one schema) with the table's
/// columns.
///
/// A large ROW chunk is decoded on all rayon threads: its text is cut at row boundaries
/// (`]`, `,`, `[` between two rows) and each part is decoded on its own. A cut can only be
/// wrong where such a sequence sits inside a string, and then the part that holds the
/// string's start fails (the string does not end), so on any failure the chunk is decoded
/// again on one thread, which also gives the exact error (row numbers are counted over the
/// whole chunk).
pub fn decode_chunk_parts(
    data: &[u8],
    layout: &ChunkLayout,
    place: &str,
) -> Result<Vec<RecordBatch>> {
    let bytes = decode_base64(data, place)?;
    decode_json_parts(&bytes, layout, place)
}

/// Decode a chunk's JSON text (`data` after base64) into batches, as
/// [`decode_chunk_parts`] does.
pub fn decode_json_parts(
    bytes: &[u8],
    layout: &ChunkLayout,
    place: &str,
) -> Result<Vec<RecordBatch>> {
    let threads = rayon::current_num_threads();
    if layout.orientation == Orientation::Row
        && bytes.len() >= PARALLEL_MIN_BYTES
        && threads > 1
        && let Some(ranges) = split_rows(bytes, threads * 2)
        && let Some(parts) = decode_row_parts(bytes, &ranges, layout, place)
    {
        return Ok(parts);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ServerError::bad_request(format!(
            "{place}: decoded data is not UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    Ok(vec![decode_json(text, layout, place)?])
}

/// Chunks whose JSON is smaller than this are decoded on one thread.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// Cut the rows of a ROW chunk (`[` rows `]`) into about `parts` byte ranges of whole rows,
/// at `]` ws* `,` ws* `[` sequences. `None` when the text does not look like an array of
/// array rows or no cut is found.
fn split_rows(text: &[u8], parts: usize) -> Option<Vec<std::ops::Range<usize>>> {
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let open = text.iter().position(|b| !is_ws(b))?;
    let close = text.iter().rposition(|b| !is_ws(b))?;
    if text[open] != b'[' || text[close] != b']' || close <= open + 1 {
        return None;
    }
    let (start, end) = (open + 1, close);
    let len = end - start;
    let mut ranges = Vec::with_capacity(parts);
    let mut from = start;
    for k in 1..parts {
        let target = (start + len / parts * k).max(from);
        let Some(cut) = find_row_cut(&text[target..end]) else {
            break;
        };
        let (row_end, next_start) = (target + cut.0, target + cut.1);
        ranges.push(from..row_end);
        from = next_start;
    }
    if ranges.is_empty() {
        return None;
    }
    ranges.push(from..end);
    Some(ranges)
}

/// In `s`, the first `]` ws* `,` ws* `[`: (the index after the `]`, the index of the `[`).
fn find_row_cut(s: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < s.len() {
        let p = i + s[i..].iter().position(|&b| b == b']')?;
        let mut j = p + 1;
        while j < s.len() && matches!(s[j], b' ' | b'\t' | b'\n' | b'\r') {
            j += 1;
        }
        if s.get(j) == Some(&b',') {
            j += 1;
            while j < s.len() && matches!(s[j], b' ' | b'\t' | b'\n' | b'\r') {
                j += 1;
            }
            if s.get(j) == Some(&b'[') {
                return Some((p + 1, j));
            }
        }
        i = p + 1;
    }
    None
}

/// Decode the row ranges in parallel and give them one schema; `None` on any failure (the
/// caller then decodes the whole chunk on one thread).
fn decode_row_parts(
    bytes: &[u8],
    ranges: &[std::ops::Range<usize>],
    layout: &ChunkLayout,
    place: &str,
) -> Option<Vec<RecordBatch>> {
    use rayon::prelude::*;
    let parts: Vec<RecordBatch> = ranges
        .par_iter()
        .map(|r| {
            let text = std::str::from_utf8(bytes.get(r.clone())?).ok()?;
            decode_text(text, layout, place, Mode::RowsPart).ok()
        })
        .collect::<Option<Vec<_>>>()?;
    unify(parts)
}

/// Cast the parts' decimal columns to one type (the largest scale; 256 bits if any part
/// needs it). `None` when a value does not fit (the one-thread decode then decides).
fn unify(parts: Vec<RecordBatch>) -> Option<Vec<RecordBatch>> {
    let first = parts.first()?.schema();
    if parts.iter().all(|p| p.schema() == first) {
        return Some(parts);
    }
    let mut fields: Vec<Field> = first.fields().iter().map(|f| f.as_ref().clone()).collect();
    for (i, f) in fields.iter_mut().enumerate() {
        let types: Vec<&arrow_schema::DataType> = parts
            .iter()
            .map(|p| p.schema_ref().field(i).data_type())
            .collect();
        if let Some(t) = crate::store::common_decimal(types.iter().copied()) {
            *f = Field::new(f.name(), t, true);
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let opts = arrow_cast::CastOptions {
        safe: false,
        ..Default::default()
    };
    parts
        .into_iter()
        .map(|p| {
            let cols = p
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(c, f)| {
                    if c.data_type() == f.data_type() {
                        Some(c.clone())
                    } else {
                        arrow_cast::cast_with_options(c, f.data_type(), &opts).ok()
                    }
                })
                .collect::<Option<Vec<_>>>()?;
            let o = arrow_array::RecordBatchOptions::new().with_row_count(Some(p.num_rows()));
            RecordBatch::try_new_with_options(schema.clone(), cols, &o).ok()
        })
        .collect()
}

struct Ctx<'l> {
    layout: &'l ChunkLayout,
    place: &'l str,
}

impl Ctx<'_> {
    fn syntax(&self, msg: String) -> ServerError {
        ServerError::bad_request(format!("{}: malformed JSON: {msg}", self.place))
    }
    fn value(&self, row: usize, col: usize, msg: String) -> ServerError {
        let c = &self.layout.columns[col];
        ServerError::bad_request(format!(
            "{}: row {} (1-based), column {:?} ({}): {msg}",
            self.place,
            row + 1,
            c.name,
            c.data_type
        ))
    }
    fn shape(&self, msg: String) -> ServerError {
        ServerError::bad_request(format!("{}: {msg}", self.place))
    }
}

/// Decode the JSON text of a chunk into a batch with the table's columns.
pub fn decode_json(text: &str, layout: &ChunkLayout, place: &str) -> Result<RecordBatch> {
    decode_text(text, layout, place, Mode::Whole)
}

/// What a text holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A whole chunk: `[` rows or columns `]`.
    Whole,
    /// Some ROW rows without the outer brackets: `[…],[…]`.
    RowsPart,
}

fn decode_text(text: &str, layout: &ChunkLayout, place: &str, mode: Mode) -> Result<RecordBatch> {
    let ctx = Ctx { layout, place };
    let ncols = layout.columns.len();
    let width = layout.order.len().max(1);
    let cap = (text.len() / (width * 6)).min(1 << 20);
    let mut builders: Vec<ColumnBuilder> = layout
        .columns
        .iter()
        .map(|c| ColumnBuilder::new(c.data_type, cap))
        .collect();
    let mut missing: Vec<usize> = (0..ncols).filter(|i| !layout.order.contains(i)).collect();
    missing.sort_unstable();
    let mut lex = Lexer::new(text);
    let mut scratch = String::new();
    if mode == Mode::Whole {
        lex.expect(b'[', "'[' (the chunk must be a JSON array)")
            .map_err(|e| ctx.syntax(e))?;
    }
    let rows = match layout.orientation {
        Orientation::Row => decode_rows(
            &mut lex,
            &ctx,
            &mut builders,
            &missing,
            &mut scratch,
            mode == Mode::RowsPart,
        )?,
        Orientation::Column => {
            decode_columns(&mut lex, &ctx, &mut builders, &missing, &mut scratch)?
        }
    };
    lex.end().map_err(|e| ctx.syntax(e))?;
    let mut arrays = Vec::with_capacity(ncols);
    let mut fields = Vec::with_capacity(ncols);
    for (i, b) in builders.into_iter().enumerate() {
        let arr = b.finish().map_err(|(row, msg)| ctx.value(row, i, msg))?;
        fields.push(Field::new(
            &layout.columns[i].name,
            arr.data_type().clone(),
            true,
        ));
        arrays.push(arr);
    }
    let schema = Arc::new(Schema::new(fields));
    let opts = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema, arrays, &opts)
        .map_err(|e| ServerError::internal(format!("{place}: building the batch"), e))
}

fn decode_rows(
    lex: &mut Lexer<'_>,
    ctx: &Ctx<'_>,
    builders: &mut [ColumnBuilder],
    missing: &[usize],
    scratch: &mut String,
    part: bool,
) -> Result<usize> {
    let order = &ctx.layout.order;
    let columns = &ctx.layout.columns;
    let mut key_index: Option<HashMap<&str, usize>> = None;
    let mut seen = vec![false; columns.len()];
    let mut row = 0usize;
    if !part && lex.eat(b']') {
        return Ok(0);
    }
    loop {
        match lex.peek() {
            Some(b'[') => {
                lex.eat(b'[');
                let mut i = 0usize;
                if !lex.eat(b']') {
                    loop {
                        if let Some(&col) = order.get(i)
                            && builders[col].push_fast(lex)
                        {
                            i += 1;
                            if !lex.array_next().map_err(|e| ctx.syntax(e))? {
                                break;
                            }
                            continue;
                        }
                        let tok = lex
                            .scalar()
                            .map_err(|e| ctx.syntax(format!("row {} (1-based): {e}", row + 1)))?;
                        let Some(&col) = order.get(i) else {
                            return Err(ctx.shape(format!(
                                "row {} (1-based) has more than {} values; expected one per column: {}",
                                row + 1,
                                order.len(),
                                order
                                    .iter()
                                    .map(|&c| format!("{:?}", columns[c].name))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )));
                        };
                        builders[col]
                            .push(tok, scratch)
                            .map_err(|m| ctx.value(row, col, m))?;
                        i += 1;
                        if !lex.array_next().map_err(|e| ctx.syntax(e))? {
                            break;
                        }
                    }
                }
                if i != order.len() {
                    return Err(ctx.shape(format!(
                        "row {} (1-based) has {i} values, expected {} (one per column: {})",
                        row + 1,
                        order.len(),
                        order
                            .iter()
                            .map(|&c| format!("{:?}", columns[c].name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                for &m in missing {
                    builders[m].push_null();
                }
            }
            Some(b'{') => {
                lex.eat(b'{');
                let keys = key_index.get_or_insert_with(|| {
                    columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.name.as_str(), i))
                        .collect()
                });
                seen.fill(false);
                if !lex.eat(b'}') {
                    loop {
                        let k = lex.string().map_err(|e| {
                            ctx.syntax(format!("row {} (1-based) key: {e}", row + 1))
                        })?;
                        let name = k.value(scratch).map_err(|e| ctx.syntax(e))?;
                        let col = keys.get(name).copied().or_else(|| {
                            columns
                                .iter()
                                .position(|c| c.name.eq_ignore_ascii_case(name))
                        });
                        let Some(col) = col else {
                            return Err(ctx.shape(format!(
                                "row {} (1-based) names an unknown column {name:?}; the table's columns are {}",
                                row + 1,
                                list_columns(columns)
                            )));
                        };
                        if seen[col] {
                            return Err(ctx.shape(format!(
                                "row {} (1-based) gives column {:?} twice",
                                row + 1,
                                columns[col].name
                            )));
                        }
                        lex.expect(b':', "':'").map_err(|e| ctx.syntax(e))?;
                        let tok = lex
                            .scalar()
                            .map_err(|e| ctx.syntax(format!("row {} (1-based): {e}", row + 1)))?;
                        builders[col]
                            .push(tok, scratch)
                            .map_err(|m| ctx.value(row, col, m))?;
                        seen[col] = true;
                        if !lex.object_next().map_err(|e| ctx.syntax(e))? {
                            break;
                        }
                    }
                }
                for (c, s) in seen.iter().enumerate() {
                    if !s {
                        builders[c].push_null();
                    }
                }
            }
            _ => {
                return Err(ctx.syntax(format!(
                    "row {} (1-based) must be an array or an object at byte {}",
                    row + 1,
                    lex.offset()
                )));
            }
        }
        row += 1;
        if part && lex.peek().is_none() {
            break;
        }
        if !lex.array_next().map_err(|e| ctx.syntax(e))? {
            break;
        }
    }
    Ok(row)
}

fn decode_columns(
    lex: &mut Lexer<'_>,
    ctx: &Ctx<'_>,
    builders: &mut [ColumnBuilder],
    missing: &[usize],
    scratch: &mut String,
) -> Result<usize> {
    let order = &ctx.layout.order;
    let columns = &ctx.layout.columns;
    let mut n = 0usize;
    if !lex.eat(b']') {
        loop {
            let Some(&col) = order.get(n) else {
                return Err(ctx.shape(format!(
                    "the chunk has more than {} column arrays (COLUMN orientation); expected one per column",
                    order.len()
                )));
            };
            lex.expect(b'[', "'[' starting a column array (COLUMN orientation)")
                .map_err(|e| ctx.syntax(e))?;
            if !lex.eat(b']') {
                loop {
                    if builders[col].push_fast(lex) {
                        if !lex.array_next().map_err(|e| ctx.syntax(e))? {
                            break;
                        }
                        continue;
                    }
                    let row = builders[col].len();
                    let tok = lex.scalar().map_err(|e| {
                        ctx.syntax(format!(
                            "column {:?}, row {}: {e}",
                            columns[col].name,
                            row + 1
                        ))
                    })?;
                    builders[col]
                        .push(tok, scratch)
                        .map_err(|m| ctx.value(row, col, m))?;
                    if !lex.array_next().map_err(|e| ctx.syntax(e))? {
                        break;
                    }
                }
            }
            n += 1;
            if !lex.array_next().map_err(|e| ctx.syntax(e))? {
                break;
            }
        }
    }
    if n == 0 {
        return Ok(0);
    }
    if n != order.len() {
        return Err(ctx.shape(format!(
            "the chunk has {n} column arrays, expected {} (COLUMN orientation: one per column)",
            order.len()
        )));
    }
    let rows = builders[order[0]].len();
    for &c in order {
        if builders[c].len() != rows {
            return Err(ctx.shape(format!(
                "column {:?} has {} values but column {:?} has {rows} (COLUMN orientation: all columns need the same length)",
                columns[c].name,
                builders[c].len(),
                columns[order[0]].name
            )));
        }
    }
    for &m in missing {
        for _ in 0..rows {
            builders[m].push_null();
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Decimal128Type, Float64Type, Int32Type};
    use pushdata_core::wire::DataType;

    fn layout(o: Orientation) -> ChunkLayout {
        ChunkLayout::new(
            vec![
                ColumnHeader::new("Year", DataType::Integer),
                ColumnHeader::new("Name", DataType::String),
                ColumnHeader::new("Cost", DataType::Double),
                ColumnHeader::new("Amount", DataType::BigDecimal),
            ],
            None,
            o,
            "t",
        )
        .unwrap()
    }

    #[test]
    fn row_column_and_objects_agree() {
        let a = decode_json(
            r#"[[2015,"a",1.5,-12.340],[null,"b\n",null,7]]"#,
            &layout(Orientation::Row),
            "t",
        )
        .unwrap();
        let b = decode_json(
            r#"[[2015,null],["a","b\n"],[1.5,null],[-12.340,7]]"#,
            &layout(Orientation::Column),
            "t",
        )
        .unwrap();
        let c = decode_json(
            r#"[{"Year":2015,"Name":"a","Cost":1.5,"Amount":-12.340},{"Name":"b\n","Amount":7}]"#,
            &layout(Orientation::Row),
            "t",
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.num_rows(), 2);
        assert_eq!(a.column(0).as_primitive::<Int32Type>().value(0), 2015);
        assert!(a.column(0).is_null(1));
        assert_eq!(a.column(2).as_primitive::<Float64Type>().value(0), 1.5);
        let d = a.column(3).as_primitive::<Decimal128Type>();
        assert_eq!(d.scale(), 3);
        assert_eq!(d.value(0), -12340);
        assert_eq!(d.value(1), 7000);
    }

    #[test]
    fn errors_name_row_and_column() {
        let e = decode_json(
            r#"[[1,"a",1.0,1],[2,"b","x",1]]"#,
            &layout(Orientation::Row),
            "table \"t\", chunk 4",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("chunk 4") && e.contains("row 2") && e.contains("\"Cost\""),
            "{e}"
        );
        let e = decode_json(r#"[[1,"a",1.0]]"#, &layout(Orientation::Row), "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("has 3 values, expected 4"), "{e}");
        let e = decode_json(
            r#"[[3000000000,"a",1.0,1]]"#,
            &layout(Orientation::Row),
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("out of range") && e.contains("\"Year\""), "{e}");
        let e = decode_json(r#"[[1],[1,2],[1],[1]]"#, &layout(Orientation::Column), "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"Name\" has 2 values"), "{e}");
    }

    #[test]
    fn big_decimal_goes_256() {
        let l = ChunkLayout::new(
            vec![ColumnHeader::new("D", DataType::BigDecimal)],
            None,
            Orientation::Row,
            "t",
        )
        .unwrap();
        let b = decode_json("[[123456789012345678901234567890123456789.5],[1]]", &l, "t").unwrap();
        assert_eq!(
            b.column(0).data_type(),
            &arrow_schema::DataType::Decimal256(76, 1)
        );
    }

    /// Random mutations of valid chunks (byte flips, truncation, inserted multi-byte
    /// characters) never panic: every input is decoded or refused with an error.
    #[test]
    fn mutated_input_never_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let seeds = [
            r#"[[2015,"a\"b",1.5,-12.340],[null,"b",null,7]]"#,
            r#"[{"Year":2015,"Name":"\u00e9","Cost":1e3,"Amount":"12.5"}]"#,
        ];
        let all = ChunkLayout::new(
            vec![
                ColumnHeader::new("Year", DataType::Integer),
                ColumnHeader::new("Name", DataType::String),
                ColumnHeader::new("D", DataType::Date),
                ColumnHeader::new("T", DataType::DateTime),
            ],
            None,
            Orientation::Row,
            "t",
        )
        .unwrap();
        let pieces = [
            "\u{e9}",
            "\\",
            "\"",
            "[",
            "]",
            "{",
            "}",
            ":",
            ",",
            "-",
            ".",
            "e",
            "+05:3\u{e9}",
            "\\u12",
        ];
        for i in 0..20_000 {
            let mut s = seeds[i % 2].to_string();
            for _ in 0..rng.random_range(1..4) {
                let len = s.len();
                let mut at = rng.random_range(0..=len);
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                match rng.random_range(0..3) {
                    0 => s.truncate(at),
                    1 => s.insert_str(at, pieces[rng.random_range(0..pieces.len())]),
                    _ => {
                        let mut end = (at + rng.random_range(1..4)).min(s.len());
                        while !s.is_char_boundary(end) {
                            end += 1;
                        }
                        s.replace_range(at..end, "");
                    }
                }
            }
            for o in [Orientation::Row, Orientation::Column] {
                let _ = decode_json(&s, &layout(o), "t");
                let mut l = all.clone();
                l.orientation = o;
                let _ = decode_json(&s, &l, "t");
            }
            let _ = decode_chunk(s.as_bytes(), &layout(Orientation::Row), "t");
        }
    }

    /// A ROW chunk over the parallel threshold, with strings holding `],[` (false cuts),
    /// escapes, nulls, and decimals whose scale differs between the parts.
    fn big_row_chunk(rows: usize) -> String {
        let mut s = String::from(" [ ");
        for r in 0..rows {
            if r > 0 {
                s.push_str(if r % 7 == 0 { " , " } else { "," });
            }
            let name = match (r % 5, r % 997) {
                (_, 0) => format!("\"a],[b {r}\""),
                (_, 1) => format!("\"q\\\"],[\\\"x{r}\""),
                (1, _) => "null".to_string(),
                _ => format!("\"plain text value {r}\""),
            };
            // Late rows get a larger decimal scale than early ones.
            let amount = if r > rows * 3 / 4 {
                format!("{r}.12345")
            } else {
                format!("-{r}.5")
            };
            s.push_str(&format!("[{r},{name},{r}.25,{amount}]"));
        }
        s.push_str(" ] ");
        s
    }

    fn b64(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn parallel_row_decode_matches_one_thread() {
        let text = big_row_chunk(120_000);
        assert!(text.len() > PARALLEL_MIN_BYTES);
        let l = layout(Orientation::Row);
        let serial = decode_json(&text, &l, "t").unwrap();
        for threads in [2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let parts =
                pool.install(|| decode_chunk_parts(b64(&text).as_bytes(), &l, "t").unwrap());
            assert!(parts.len() > 1, "{threads} threads: not split");
            let schema = parts[0].schema();
            assert!(parts.iter().all(|p| p.schema() == schema));
            let joined = arrow_select::concat::concat_batches(&schema, &parts).unwrap();
            assert_eq!(joined, serial, "{threads} threads");
        }
    }

    #[test]
    fn a_cut_inside_a_string_falls_back_to_one_thread() {
        // Around the middle, one row holds a long string made of `],[`: every cut placed
        // there is inside the string, so a part fails and the chunk is decoded whole.
        let mut text = big_row_chunk(120_000);
        let mid = text.len() / 2;
        let at = mid + text[mid..].find("],[").unwrap() + 2;
        let trap = format!("[0,\"{}\",0,0],", "],[".repeat(PARALLEL_MIN_BYTES / 3));
        text.insert_str(at, &trap);
        let l = layout(Orientation::Row);
        let serial = decode_json(&text, &l, "t").unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let parts = pool.install(|| decode_chunk_parts(b64(&text).as_bytes(), &l, "t").unwrap());
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0], serial);
    }

    #[test]
    fn parallel_row_decode_errors_like_one_thread() {
        let l = layout(Orientation::Row);
        let good = big_row_chunk(120_000);
        // A bad value late in the chunk, a broken string, a missing bracket.
        let cases = [
            good.replacen("[100000,", "[100000.5,", 1),
            good.replacen("\"plain text value 99998\"", "\"unterminated", 1),
            good.trim_end().trim_end_matches(']').to_string(),
        ];
        for bad in cases {
            let want = decode_json(&bad, &l, "t").unwrap_err().to_string();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(4)
                .build()
                .unwrap();
            let got = pool
                .install(|| decode_chunk_parts(b64(&bad).as_bytes(), &l, "t"))
                .unwrap_err()
                .to_string();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn parallel_base64_decode_matches_and_reports_errors() {
        let data: Vec<u8> = (0..(9 << 20) + 2).map(|i| (i * 31 % 251) as u8).collect();
        let enc = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(&data)
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        assert_eq!(
            pool.install(|| decode_base64(enc.as_bytes(), "t")).unwrap(),
            data
        );
        let mut bad = enc.clone().into_bytes();
        bad[5 << 20] = b'*';
        let e = pool
            .install(|| decode_base64(&bad, "t"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("invalid character '*' at offset {}", 5 << 20)),
            "{e}"
        );
    }
}
