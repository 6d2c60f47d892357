//! Chunk decoding: base64 (SIMD) -> UTF-8 JSON array (ROW or COLUMN, or ROW objects) ->
//! typed Arrow arrays, in one pass with no intermediate JSON values.

pub mod columns;
pub mod json;
pub mod values;

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema};
use pushdata_core::wire::{ColumnHeader, Orientation};

use crate::error::{Result, ServerError};
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
    base64_simd::STANDARD.decode_to_vec(data).map_err(|_| {
        let bad = data
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='));
        let detail = match bad {
            Some(p) => format!("invalid character {:?} at offset {p}", char::from(data[p])),
            None => format!("bad length or padding ({} characters)", data.len()),
        };
        ServerError::bad_request(format!(
            "{place}: data is not valid base64 (standard alphabet, padded): {detail}"
        ))
    })
}

/// Decode a chunk's base64 `data` into a batch with the table's columns.
pub fn decode_chunk(data: &[u8], layout: &ChunkLayout, place: &str) -> Result<RecordBatch> {
    let bytes = decode_base64(data, place)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        ServerError::bad_request(format!(
            "{place}: decoded data is not UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    decode_json(text, layout, place)
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
    lex.expect(b'[', "'[' (the chunk must be a JSON array)")
        .map_err(|e| ctx.syntax(e))?;
    let rows = match layout.orientation {
        Orientation::Row => decode_rows(&mut lex, &ctx, &mut builders, &missing, &mut scratch)?,
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
        .map_err(|e| ServerError::storage(format!("{place}: building the batch"), e))
}

fn decode_rows(
    lex: &mut Lexer<'_>,
    ctx: &Ctx<'_>,
    builders: &mut [ColumnBuilder],
    missing: &[usize],
    scratch: &mut String,
) -> Result<usize> {
    let order = &ctx.layout.order;
    let columns = &ctx.layout.columns;
    let mut key_index: Option<HashMap<&str, usize>> = None;
    let mut seen = vec![false; columns.len()];
    let mut row = 0usize;
    if lex.eat(b']') {
        return Ok(0);
    }
    loop {
        match lex.peek() {
            Some(b'[') => {
                lex.eat(b'[');
                let mut i = 0usize;
                if !lex.eat(b']') {
                    loop {
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
}
