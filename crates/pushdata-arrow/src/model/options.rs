//! [`ModelOptions`]: the explicit choices (attributes, metrics, forms) and the value options
//! a model is built with.

/// Options for building a model from Arrow schemas. Plain struct with `with_*` builders.
///
/// The explicit choices ([`with_attribute`](Self::with_attribute),
/// [`with_metric`](Self::with_metric), [`with_form`](Self::with_form)) name a column either
/// as `column` (that column in every table) or as `table.column`, and always win over the
/// [inference](super#roles); a choice on either column of an ID/DESC pair cancels the pair.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    pub(super) attributes: Vec<String>,
    pub(super) metrics: Vec<String>,
    pub(super) forms: Vec<FormChoice>,
    pub(super) utc: bool,
    text_fallback: bool,
    pub(super) description: Option<String>,
}

/// One [`ModelOptions::with_form`].
#[derive(Debug, Clone)]
pub(super) struct FormChoice {
    pub(super) attribute: String,
    pub(super) column: String,
    pub(super) category: String,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            attributes: Vec::new(),
            metrics: Vec::new(),
            forms: Vec::new(),
            utc: true,
            text_fallback: false,
            description: None,
        }
    }
}

impl ModelOptions {
    /// Make a column an attribute named after it, with one `ID` form, whatever the
    /// inference would make it.
    pub fn with_attribute(mut self, column: impl Into<String>) -> Self {
        self.attributes.push(column.into());
        self
    }

    /// Make a numeric column a metric named after it, whatever the inference would make it
    /// (a column that is not numeric cannot be a metric).
    pub fn with_metric(mut self, column: impl Into<String>) -> Self {
        self.metrics.push(column.into());
        self
    }

    /// Make `column` the `category` form of attribute `attribute`. The categories are those
    /// the Push Data API accepts, `ID` and `DESC` in any case
    /// ([`FormCategory`](pushdata_core::wire::FormCategory)); another is refused when the
    /// model is built. Several columns may be forms of one attribute (one column per form
    /// and table), and an attribute the inference makes can be given more forms this way.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// use pushdata_arrow::{ModelOptions, TableSchema, infer_model};
    /// let schema = Arc::new(Schema::new(vec![
    ///     Field::new("shop", DataType::Int32, false),
    ///     Field::new("city", DataType::Utf8, true),
    /// ]));
    /// let opts = ModelOptions::default()
    ///     .with_form("Shop", "shop", "ID")
    ///     .with_form("Shop", "city", "desc");
    /// let model = infer_model("d", &[TableSchema::new("t", schema)], &opts).unwrap();
    /// assert_eq!(model.attributes.len(), 1);
    /// assert_eq!(model.attributes[0].forms[1].category, "DESC");
    /// ```
    pub fn with_form(
        mut self,
        attribute: impl Into<String>,
        column: impl Into<String>,
        category: impl Into<String>,
    ) -> Self {
        self.forms.push(FormChoice {
            attribute: attribute.into(),
            column: column.into(),
            category: category.into(),
        });
        self
    }

    /// Zoned timestamps: `true` (default) writes them in UTC, `false` the local wall time of
    /// their zone (fixed offsets and UTC only, see the module docs).
    pub fn with_utc(mut self, utc: bool) -> Self {
        self.utc = utc;
        self
    }

    /// Write nested columns as JSON text, binary as base64, durations and intervals as text
    /// (all STRING) instead of refusing them.
    pub fn with_text_fallback(mut self, on: bool) -> Self {
        self.text_fallback = on;
        self
    }

    /// A description for the dataset (multi-request model only).
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Whether zoned timestamps are written in UTC.
    pub fn utc(&self) -> bool {
        self.utc
    }

    /// Whether the text fallback is on.
    pub fn text_fallback(&self) -> bool {
        self.text_fallback
    }
}
