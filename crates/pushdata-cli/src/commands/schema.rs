//! `pushdata schema FILE...`: the model `push` would create, from the inputs' schemas only.

use pushdata_arrow::{TableSchema, infer_model};

use crate::args::SchemaArgs;
use crate::error::Result;
use crate::inputs::{input_name, input_options, model_options, read_inputs, table_names};
use crate::output;

/// Read the footers, infer the model with the same options `push` uses, print it.
pub(crate) fn run(args: SchemaArgs) -> Result<()> {
    let tables = table_names(&args.files, None)?;
    let dataset = match args.files.first() {
        Some(first) => input_name(first)?,
        None => String::new(),
    };
    let inputs = read_inputs(&args.files, tables, &input_options(&args.input)?)?;
    let schemas: Vec<TableSchema> = inputs.iter().map(|i| i.table_schema()).collect();
    let model = infer_model(&dataset, &schemas, &model_options(&args.model))?;
    if args.json {
        output::print_json(&output::SchemaJson::new(&model))
    } else {
        output::print_model(&model, &inputs)
    }
}
