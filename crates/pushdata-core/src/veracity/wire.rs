//! The Veracity Data Workbench wire format: one definition of every request and response
//! body of the token endpoint, the gateway (ingest, jobs, schemas, query) and the error
//! bodies of the gateway and of Azure Data Lake Storage Gen2, shared by the client and the
//! emulation server.
//!
//! JSON names follow `/work/shared/VERACITY-API.md` (camelCase; `dataSetName` with a capital
//! S in the job status; `Key`/`Values` in tags). Parsing is lenient where real values vary:
//! numbers of the token response and of pagination as JSON strings or numbers, enumeration
//! names (job status, operation, column type, filter type, sort order) in any case, unknown
//! enumeration names kept as `Other(..)`, `null` where a list or text is expected. Writing is
//! canonical.
//!
//! Secrets on the wire (`client_secret`, `access_token`, the `sasToken` URI with its SAS
//! signature) are [`Secret`]s: they serialize to their value but never show in `Debug`.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::secret::Secret;

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/// The gateway's path under a service root (`https://api.veracity.com` in production).
pub const GATEWAY_PATH: &str = "/veracity/dw/gateway/api/v2";
/// The production gateway base URL (v2).
pub const DEFAULT_BASE_URL: &str = "https://api.veracity.com/veracity/dw/gateway/api/v2";
/// The Azure AD v1 token URL used by Veracity's samples.
pub const DEFAULT_TOKEN_URL: &str =
    "https://login.microsoftonline.com/dnvglb2cprod.onmicrosoft.com/oauth2/token";
/// The `resource` of the token request (the Veracity gateway's application id URI).
pub const DEFAULT_RESOURCE: &str =
    "https://dnvglb2cprod.onmicrosoft.com/83054ebf-1d7b-43f5-82ad-b2bde84d7b75";
/// The `grant_type` of the client credentials flow.
pub const GRANT_TYPE_CLIENT_CREDENTIALS: &str = "client_credentials";
/// The provider value of a dataset created by file upload.
pub const PROVIDER_BYOD: &str = "BYOD";

/// Azure API Management's subscription key header, required on every gateway call.
pub const SUBSCRIPTION_KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";
/// Storage service version header, sent on every Data Lake call and echoed back.
pub const MS_VERSION_HEADER: &str = "x-ms-version";
/// Request date header (RFC 1123), sent on every Data Lake call.
pub const MS_DATE_HEADER: &str = "x-ms-date";
/// Client request id header (a uuid), sent on every Data Lake call and echoed back.
pub const MS_CLIENT_REQUEST_ID_HEADER: &str = "x-ms-client-request-id";
/// The service's request id header on Data Lake responses.
pub const MS_REQUEST_ID_HEADER: &str = "x-ms-request-id";
/// The error code header on Data Lake error responses.
pub const MS_ERROR_CODE_HEADER: &str = "x-ms-error-code";
/// The storage service version this crate sends in [`MS_VERSION_HEADER`].
pub const STORAGE_API_VERSION: &str = "2023-05-03";

// ---------------------------------------------------------------------------------------------
// Lenient enumerations
// ---------------------------------------------------------------------------------------------

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $canonical:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A name this version does not know, kept as given.
            Other(String),
        }

        impl $name {
            /// Every known variant (not `Other`), in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The canonical spelling written on the wire (`Other` as given).
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $canonical,)+
                    $name::Other(s) => s,
                }
            }

            /// Parse a name in any case, accepting the aliases; unknown names give `Other`.
            pub fn parse_lenient(s: &str) -> Self {
                let t = s.trim();
                $(
                    if t.eq_ignore_ascii_case($canonical) $(|| t.eq_ignore_ascii_case($alias))* {
                        return $name::$variant;
                    }
                )+
                $name::Other(t.to_string())
            }

            /// Whether this is a known variant (not `Other`).
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl FromStr for $name {
            type Err = Infallible;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok($name::parse_lenient(s))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::parse_lenient(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok($name::parse_lenient(&s))
            }
        }
    };
}

open_enum! {
    /// What an ingest file does to the dataset (`files[].operation`).
    ///
    /// ```
    /// use pushdata_core::veracity::wire::FileOperation;
    /// assert_eq!("upsert".parse::<FileOperation>().unwrap(), FileOperation::Upsert);
    /// assert_eq!(FileOperation::Overwrite.to_string(), "Overwrite");
    /// ```
    FileOperation {
        /// Create a new dataset (only with `POST .../ingest/dataset`).
        Create => "Create",
        /// Update rows with matching keys, insert the others (schema needs key columns).
        Upsert => "Upsert" | "Update",
        /// Delete rows whose keys match rows of the file (schema needs key columns).
        Delete => "Delete",
        /// Replace the whole dataset.
        Overwrite => "Overwrite" | "Replace",
        /// Add rows (only for schemas without key columns).
        Append => "Append" | "Add",
    }
}

open_enum! {
    /// The `status` of an ingest job.
    ///
    /// Only `Running` and `Completed` are documented; the other names are inferred and
    /// unknown ones are kept as `Other` (and treated as not terminal).
    ///
    /// ```
    /// use pushdata_core::veracity::wire::JobState;
    /// assert_eq!("COMPLETED".parse::<JobState>().unwrap(), JobState::Completed);
    /// assert!(JobState::Failed.is_terminal() && !JobState::Failed.is_success());
    /// assert!(!"Whatever".parse::<JobState>().unwrap().is_terminal());
    /// ```
    JobState {
        /// Registered, waiting for the upload or for `start`.
        Pending => "Pending" | "Registered" | "Created" | "Queued" | "NotStarted" | "New" | "Waiting",
        /// Processing the uploaded file (the legacy flow said `Started`).
        Running => "Running" | "Started" | "InProgress" | "Processing",
        /// Done; the dataset holds the new data.
        Completed => "Completed" | "Succeeded" | "Success" | "Done",
        /// Processing failed (see `notebookErrorMessage` and `validationError`).
        Failed => "Failed" | "Failure" | "Error" | "Errored",
        /// The job was cancelled.
        Cancelled => "Cancelled" | "Canceled" | "Aborted",
    }
}

impl JobState {
    /// Whether the job is done, successfully or not (`Completed`, `Failed`, `Cancelled`).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Failed | JobState::Cancelled
        )
    }

    /// Whether the job completed successfully.
    pub fn is_success(&self) -> bool {
        matches!(self, JobState::Completed)
    }
}

open_enum! {
    /// The data type of a schema column (`columns[].type`).
    ///
    /// ```
    /// use pushdata_core::veracity::wire::ColumnType;
    /// assert_eq!("dateonly".parse::<ColumnType>().unwrap(), ColumnType::DateOnly);
    /// assert_eq!(ColumnType::Int64.as_str(), "Int64");
    /// ```
    ColumnType {
        /// 32-bit signed integer.
        Int32 => "Int32",
        /// 64-bit signed integer.
        Int64 => "Int64",
        /// Exact decimal number.
        Decimal => "Decimal",
        /// IEEE 754 double.
        Double => "Double",
        /// true / false.
        Boolean => "Boolean" | "Bool",
        /// UTF-8 text.
        String => "String",
        /// Calendar date (`YYYY-MM-DD`).
        DateOnly => "DateOnly",
        /// Date and time, millisecond precision.
        DateTime => "DateTime",
    }
}

open_enum! {
    /// A query filter operator (`queryFilters[].filterType`).
    FilterType {
        /// The value is one of `filterValues`.
        List => "List",
        /// Equal to the (single) value.
        Equals => "Equals",
        /// Greater than the value.
        Greater => "Greater",
        /// Greater than or equal to the value.
        GreaterOrEqual => "GreaterOrEqual",
        /// Less than the value.
        Less => "Less",
        /// Less than or equal to the value.
        LessOrEqual => "LessOrEqual",
        /// The value is none of `filterValues`.
        NonFromList => "NonFromList",
        /// Text contains the value.
        StringContains => "StringContains",
    }
}

open_enum! {
    /// Sort direction (`sorting.order`).
    SortOrder {
        /// Smallest first.
        Ascending => "Ascending" | "Asc",
        /// Largest first.
        Descending => "Descending" | "Desc",
    }
}

// ---------------------------------------------------------------------------------------------
// Lenient scalars
// ---------------------------------------------------------------------------------------------

/// Numbers that arrive as a JSON number or as a string holding one (`3599` or `"3599"`):
/// the field adapters of every such field, so the lenient reading is said once. A field
/// takes one of them with `with`, plus `default` (an absent field has no value):
///
/// - `with = "lenient_u64"`: `Option<u64>`, written as a number;
/// - `with = "lenient_u64::as_string"`: `Option<u64>`, written as a string (the Azure AD v1
///   token shape);
/// - `with = "lenient_u64::or_zero"`: `u64`, 0 when absent, written as a number.
///
/// `null` and `""` (or only spaces) are no value; a non-negative float is truncated; anything
/// else (a negative number, other text, a list) is an error naming what was found.
mod lenient_u64 {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u64>, D::Error> {
        match Option::<Value>::deserialize(deserializer)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                if let Some(u) = n.as_u64() {
                    Ok(Some(u))
                } else if let Some(f) = n.as_f64().filter(|f| *f >= 0.0 && f.is_finite()) {
                    Ok(Some(f as u64))
                } else {
                    Err(serde::de::Error::custom(format!(
                        "expected a non-negative number, got {n}"
                    )))
                }
            }
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("expected a number, got {s:?}"))),
            Some(other) => Err(serde::de::Error::custom(format!(
                "expected a number, got {other}"
            ))),
        }
    }

    pub(super) fn serialize<S: Serializer>(
        v: &Option<u64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        v.serialize(serializer)
    }

    /// `Option<u64>` written as the string `"n"`.
    pub(super) mod as_string {
        use serde::{Deserializer, Serializer};

        pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<u64>, D::Error> {
            super::deserialize(deserializer)
        }

        pub(in super::super) fn serialize<S: Serializer>(
            v: &Option<u64>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match v {
                Some(n) => serializer.serialize_str(&n.to_string()),
                None => serializer.serialize_none(),
            }
        }
    }

    /// `u64`, 0 when absent.
    pub(super) mod or_zero {
        use serde::{Deserializer, Serializer};

        pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<u64, D::Error> {
            super::deserialize(deserializer).map(Option::unwrap_or_default)
        }

        pub(in super::super) fn serialize<S: Serializer>(
            v: &u64,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.serialize_u64(*v)
        }
    }
}

/// A list where `null` means empty.
fn de_null_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Text where `null` means empty.
fn de_null_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// A boolean, also as `"true"`/`"false"`; `null` is false.
fn de_lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a boolean, got {other}"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Token
// ---------------------------------------------------------------------------------------------

/// The form body of the token request (`application/x-www-form-urlencoded`).
///
/// Azure AD v1 takes `resource`, v2 takes `scope`; send the one your token URL expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// Always `client_credentials`.
    pub grant_type: String,
    /// The service account id.
    pub client_id: String,
    /// The service account secret.
    pub client_secret: Secret,
    /// The v1 resource (the gateway's application id URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The v2 scope (e.g. `<resource>/.default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// The token response.
///
/// `expires_in`, `expires_on` and the other numbers are read as numbers or strings (v1
/// sends strings, v2 numbers) and written as strings (v1 shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TokenResponse {
    /// `Bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The bearer token.
    pub access_token: Secret,
    /// Seconds until the token expires.
    #[serde(
        default,
        with = "lenient_u64::as_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in: Option<u64>,
    /// Extended lifetime in seconds (v1 and v2).
    #[serde(
        default,
        with = "lenient_u64::as_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub ext_expires_in: Option<u64>,
    /// When the token expires, in seconds since the Unix epoch (v1 only).
    #[serde(
        default,
        with = "lenient_u64::as_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_on: Option<u64>,
    /// Not valid before, seconds since the Unix epoch (v1 only).
    #[serde(
        default,
        with = "lenient_u64::as_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<u64>,
    /// The resource the token is for (v1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// The token endpoint's error body (OAuth2 plus Azure AD's extras).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TokenErrorBody {
    /// OAuth2 error code, e.g. `invalid_client`.
    #[serde(default, deserialize_with = "de_null_string")]
    pub error: String,
    /// Human readable text, e.g. `AADSTS7000215: Invalid client secret provided. ...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// Azure AD numeric codes, e.g. `[7000215]`.
    #[serde(
        default,
        deserialize_with = "de_null_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub error_codes: Vec<i64>,
    /// When the error happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Azure AD trace id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Azure AD correlation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Ingest
// ---------------------------------------------------------------------------------------------

/// One file of an ingest request (`files[]`). Only one file per job is supported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestFile {
    /// The file name; the upload must use exactly this name.
    pub file_name: String,
    /// What the file does to the dataset.
    pub operation: FileOperation,
}

/// A dataset tag: `{"Key": "Customer", "Values": ["ABC"]}` (capitals as in the docs; lower
/// case is accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Tag name.
    #[serde(rename = "Key", alias = "key")]
    pub key: String,
    /// Tag values.
    #[serde(
        rename = "Values",
        alias = "values",
        default,
        deserialize_with = "de_null_vec"
    )]
    pub values: Vec<String>,
}

/// Body of `POST /workspaces/{ws}/ingest/dataset`: create a dataset from an uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatasetRequest {
    /// The new dataset's name.
    pub dataset_name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_description: Option<String>,
    /// The schema **version** id (not the schema id).
    pub schema_version_id: String,
    /// The file to upload, with operation `Create`.
    #[serde(default, deserialize_with = "de_null_vec")]
    pub files: Vec<IngestFile>,
    /// Tags of the dataset.
    #[serde(
        default,
        deserialize_with = "de_null_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<Tag>,
    /// Always `BYOD` for now ("will be made optional").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Whether the job starts by itself once the file is uploaded.
    #[serde(default, deserialize_with = "de_lenient_bool")]
    pub start_automatically: bool,
}

/// Body of `PUT /workspaces/{ws}/ingest/dataset/{datasetId}`: update a dataset from an
/// uploaded file (`Upsert`, `Delete`, `Overwrite`, `Append`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDatasetRequest {
    /// The file to upload and its operation.
    #[serde(default, deserialize_with = "de_null_vec")]
    pub files: Vec<IngestFile>,
    /// Whether the job starts by itself once the file is uploaded.
    #[serde(default, deserialize_with = "de_lenient_bool")]
    pub start_automatically: bool,
}

/// Response of both register calls: the job id and where to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestResponse {
    /// The ingest job's id.
    pub job_id: String,
    /// Despite its name, a full folder URI with the SAS query:
    /// `https://<acct>.<host>/<filesystem>/<folder...>?<sas>`. A secret (it grants write).
    pub sas_token: Secret,
}

/// One entry of a job's `validationError` list.
///
/// Its shape is not documented: a plain string is read as `message`; an object's
/// `row`, `column`, `message`, `severity` are read and any other field kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationIssue {
    /// 1-based data row, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// Column name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
    /// `Error`, `Warning` or `Correction`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Other fields, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for ValidationIssue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Obj {
            #[serde(default, with = "lenient_u64")]
            row: Option<u64>,
            #[serde(default)]
            column: Option<String>,
            #[serde(
                default,
                alias = "Message",
                alias = "error",
                deserialize_with = "de_null_string"
            )]
            message: String,
            #[serde(default)]
            severity: Option<String>,
            #[serde(flatten)]
            extra: Map<String, Value>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Obj(Obj),
        }
        Ok(match Repr::deserialize(deserializer)? {
            Repr::Text(message) => ValidationIssue {
                message,
                ..Default::default()
            },
            Repr::Obj(o) => ValidationIssue {
                row: o.row,
                column: o.column,
                message: o.message,
                severity: o.severity,
                extra: o.extra,
            },
        })
    }
}

impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(row) = self.row {
            write!(f, "row {row}: ")?;
        }
        if let Some(column) = &self.column {
            write!(f, "column {column:?}: ")?;
        }
        f.write_str(&self.message)?;
        if self.message.is_empty() && !self.extra.is_empty() {
            write!(f, "{}", Value::Object(self.extra.clone()))?;
        }
        Ok(())
    }
}

/// Response of `GET /workspaces/{ws}/ingest/job/{jobId}/status` (and, in the emulation, of
/// `POST .../start`, whose real shape is unknown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    /// The job id.
    #[serde(default, deserialize_with = "de_null_string")]
    pub job_id: String,
    /// The job's state.
    pub status: JobState,
    /// The operations of the job's files.
    #[serde(default, deserialize_with = "de_null_vec")]
    pub operations: Vec<FileOperation>,
    /// The processing notebook's error; empty when none.
    #[serde(default, deserialize_with = "de_null_string")]
    pub notebook_error_message: String,
    /// The dataset name, once completed (spelled `dataSetName`).
    #[serde(
        rename = "dataSetName",
        alias = "datasetName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub data_set_name: Option<String>,
    /// The dataset id, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_id: Option<String>,
    /// Validation problems; empty when none.
    #[serde(default, alias = "validationErrors", deserialize_with = "de_null_vec")]
    pub validation_error: Vec<ValidationIssue>,
}

impl JobStatus {
    /// Whether the job reports a problem: a terminal state other than `Completed`, a
    /// non-empty `notebookErrorMessage` or a non-empty `validationError`.
    pub fn has_failed(&self) -> bool {
        (self.status.is_terminal() && !self.status.is_success())
            || !self.notebook_error_message.trim().is_empty()
            || !self.validation_error.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

/// A validator attached to a column (`columns[].validations[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ColumnValidation {
    /// `Correction`, `Warning` or `Error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The validator's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_id: Option<String>,
    /// Other fields, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One column of a schema version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaColumn {
    /// Column name (the CSV header).
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Data type.
    #[serde(rename = "type")]
    pub data_type: ColumnType,
    /// Format, e.g. `YYYY-MM-DDThh:mm:ss` or `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Whether every row needs a value.
    #[serde(default, deserialize_with = "de_lenient_bool")]
    pub is_required: bool,
    /// Whether queries can sort by it.
    #[serde(default, deserialize_with = "de_lenient_bool")]
    pub is_sortable: bool,
    /// Whether queries can filter on it.
    #[serde(default, deserialize_with = "de_lenient_bool")]
    pub is_filterable: bool,
    /// Whether it is part of the row key (needed by Upsert and Delete).
    #[serde(default, deserialize_with = "de_lenient_bool")]
    pub is_key: bool,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Position (0-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    /// Validators.
    #[serde(
        default,
        deserialize_with = "de_null_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub validations: Vec<ColumnValidation>,
    /// `Validation`, `FallbackIndicator` or `Timestamp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_type: Option<String>,
    /// Allowed query filter operators (on schema reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_types: Option<Vec<FilterType>>,
}

impl SchemaColumn {
    /// A column with the given name and type, everything else default (not a key).
    pub fn new(name: impl Into<String>, data_type: ColumnType) -> Self {
        SchemaColumn {
            name: name.into(),
            display_name: None,
            data_type,
            format: None,
            is_required: false,
            is_sortable: false,
            is_filterable: false,
            is_key: false,
            description: None,
            order: None,
            validations: Vec::new(),
            meta_type: None,
            filter_types: None,
        }
    }

    /// Mark the column as (part of) the row key; key columns are also required.
    pub fn with_key(mut self, is_key: bool) -> Self {
        self.is_key = is_key;
        if is_key {
            self.is_required = true;
        }
        self
    }

    /// Set whether the column is required.
    pub fn with_required(mut self, is_required: bool) -> Self {
        self.is_required = is_required;
        self
    }

    /// Set the format string.
    pub fn with_format(mut self, format: impl Into<String>) -> Self {
        self.format = Some(format.into());
        self
    }
}

/// Body of `POST /workspaces/{ws}/schemas/add`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddSchemaRequest {
    /// Schema name.
    pub name: String,
    /// Short name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The columns of version 1.
    #[serde(default, deserialize_with = "de_null_vec")]
    pub columns: Vec<SchemaColumn>,
    /// Row validators, passed through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_validators: Option<Value>,
}

/// Body of `POST /workspaces/{ws}/schemas/schemaversions/add`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddSchemaVersionRequest {
    /// The schema to add a version to.
    pub schema_id: String,
    /// The new version's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version_name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The version's columns.
    #[serde(default, deserialize_with = "de_null_vec")]
    pub columns: Vec<SchemaColumn>,
}

/// Body of `PATCH /workspaces/{ws}/schemas/{schemaId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSchemaRequest {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New short name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
}

/// `{ "id": ... }`: the response of `schemaversions/add`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdResponse {
    /// The new object's id.
    pub id: String,
}

/// A schema version, as returned inside [`Schema`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaVersion {
    /// The schema version id (what `CreateDatasetRequest::schema_version_id` takes).
    pub id: String,
    /// Version name, e.g. `WindData V1`.
    #[serde(default, alias = "name", skip_serializing_if = "Option::is_none")]
    pub schema_version_name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The schema it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// Columns.
    #[serde(default, deserialize_with = "de_null_vec")]
    pub columns: Vec<SchemaColumn>,
    /// Whether it is the schema's active version (name inferred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// Whether it is locked (name inferred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_locked: Option<bool>,
    /// Other fields, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A schema: the response of `POST .../schemas/add` and `GET .../schemas/{schemaId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    /// The schema id.
    pub id: String,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Short name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its versions; after `add`, exactly one (version 1, active).
    #[serde(default, deserialize_with = "de_null_vec")]
    pub schema_versions: Vec<SchemaVersion>,
    /// Other fields (`industry`, `isPredefined`, `createdBy`, ...), kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Schema {
    /// The active version if one is marked active, otherwise the first one.
    pub fn current_version(&self) -> Option<&SchemaVersion> {
        self.schema_versions
            .iter()
            .find(|v| v.is_active == Some(true))
            .or_else(|| self.schema_versions.first())
    }
}

// ---------------------------------------------------------------------------------------------
// Query
// ---------------------------------------------------------------------------------------------

/// One query filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryFilter {
    /// Column name.
    pub column: String,
    /// Operator.
    pub filter_type: FilterType,
    /// Operand(s), as text.
    #[serde(default, deserialize_with = "de_null_vec")]
    pub filter_values: Vec<String>,
}

/// Sorting of a query (one column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sorting {
    /// Column name.
    pub column: String,
    /// Direction.
    pub order: SortOrder,
}

/// Body of `POST /workspaces/{ws}/datasets/{datasetId}/query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryRequest {
    /// Page number, 1-based.
    #[serde(with = "lenient_u64::or_zero")]
    pub page_index: u64,
    /// Rows per page.
    #[serde(with = "lenient_u64::or_zero")]
    pub page_size: u64,
    /// Filters (combined).
    #[serde(
        default,
        deserialize_with = "de_null_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub query_filters: Vec<QueryFilter>,
    /// Projection; empty means all columns.
    #[serde(
        default,
        deserialize_with = "de_null_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub column_filter: Vec<String>,
    /// Sorting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorting: Option<Sorting>,
}

impl QueryRequest {
    /// Page `page_index` (1-based) of `page_size` rows, all columns, no filter or sorting.
    pub fn page(page_index: u64, page_size: u64) -> Self {
        QueryRequest {
            page_index,
            page_size,
            query_filters: Vec::new(),
            column_filter: Vec::new(),
            sorting: None,
        }
    }
}

/// `pagination` of a query response. Numbers are read as numbers or strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// This page's number, 1-based.
    #[serde(default, with = "lenient_u64::or_zero")]
    pub page_index: u64,
    /// Rows per page.
    #[serde(default, with = "lenient_u64::or_zero")]
    pub page_size: u64,
    /// Number of pages.
    #[serde(default, with = "lenient_u64::or_zero")]
    pub total_pages: u64,
    /// Number of rows matching the query.
    #[serde(default, with = "lenient_u64::or_zero")]
    pub total_count: u64,
}

/// Response of a dataset query: rows as JSON objects keyed by column name.
///
/// Each row is kept as the JSON text the service sent ([`RawValue`]), so that numbers
/// keep every digit: a `Decimal` such as `123456789012345.678901` is not rounded through a
/// 64-bit float. Read the rows exactly with a JSON reader of your own (as
/// `pushdata_arrow`'s pull does, into Arrow decimals), or as `serde_json` values with
/// [`QueryPage::rows`].
///
/// ```
/// use pushdata_core::veracity::wire::QueryPage;
/// let page: QueryPage = serde_json::from_str(
///     r#"{"data": [{"Id": 1, "Amount": 123456789012345.678901}],
///         "pagination": {"pageIndex": 1, "pageSize": 10, "totalPages": 1, "totalCount": 1}}"#,
/// )?;
/// assert_eq!(page.data[0].get(), r#"{"Id": 1, "Amount": 123456789012345.678901}"#);
/// assert_eq!(page.rows()?[0]["Id"], 1);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct QueryPage {
    /// The rows of this page, each the JSON text of one object.
    #[serde(default, deserialize_with = "de_null_vec")]
    pub data: Vec<Box<RawValue>>,
    /// Where this page is.
    #[serde(default)]
    pub pagination: Pagination,
}

impl PartialEq for QueryPage {
    /// Pages are equal when their rows have the same JSON text and their pagination is
    /// the same.
    fn eq(&self, other: &Self) -> bool {
        self.pagination == other.pagination
            && self.data.len() == other.data.len()
            && self
                .data
                .iter()
                .zip(&other.data)
                .all(|(a, b)| a.get() == b.get())
    }
}

impl QueryPage {
    /// Whether a page follows this one.
    pub fn has_next(&self) -> bool {
        self.pagination.page_index < self.pagination.total_pages
    }

    /// The rows as JSON objects. `serde_json` reads a number with a fraction, or an
    /// integer beyond 64 bits, as a 64-bit float: use [`QueryPage::data`] for exact
    /// decimals.
    pub fn rows(&self) -> serde_json::Result<Vec<Map<String, Value>>> {
        self.data
            .iter()
            .map(|r| serde_json::from_str(r.get()))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------------

/// A gateway error body: Veracity's `{"type","traceId"}` (ProblemDetails-like) or Azure API
/// Management's `{"statusCode","message"}`. Every field is optional; unknown ones are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GatewayErrorBody {
    /// Error type, e.g. `BusinessError`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Short title (ProblemDetails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Status (ProblemDetails `status`, or APIM `statusCode`).
    #[serde(
        default,
        alias = "statusCode",
        with = "lenient_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<u64>,
    /// The message (APIM `message`, ProblemDetails `detail`).
    #[serde(
        default,
        alias = "detail",
        alias = "Message",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<String>,
    /// The trace id to quote to Veracity support.
    #[serde(
        default,
        alias = "traceID",
        alias = "TraceId",
        skip_serializing_if = "Option::is_none"
    )]
    pub trace_id: Option<String>,
    /// Validation errors (ProblemDetails `errors`), as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Value>,
    /// Other fields, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `error` of a Data Lake error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StorageErrorDetail {
    /// Error code, e.g. `InvalidFlushPosition` (also in `x-ms-error-code`).
    #[serde(default, alias = "Code", deserialize_with = "de_null_string")]
    pub code: String,
    /// Message, `"<text>\nRequestId:<id>\nTime:<time>"`.
    #[serde(default, alias = "Message", deserialize_with = "de_null_string")]
    pub message: String,
}

/// A Data Lake error body: `{"error":{"code","message"}}` (real bodies use lower case; the
/// spec's `Code`/`Message` are accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StorageErrorBody {
    /// The error.
    #[serde(alias = "Error")]
    pub error: StorageErrorDetail,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_response_numbers_as_strings_or_numbers() {
        let v1: TokenResponse = serde_json::from_value(json!({
            "token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "3599",
            "expires_on": "1604722734", "not_before": "1604718834",
            "resource": "https://x", "access_token": "eyJ0"
        }))
        .expect("v1");
        assert_eq!(v1.expires_in, Some(3599));
        assert_eq!(v1.expires_on, Some(1_604_722_734));
        assert_eq!(v1.access_token.expose(), "eyJ0");
        let v2: TokenResponse = serde_json::from_value(json!({
            "token_type": "Bearer", "expires_in": 86399, "ext_expires_in": 86399,
            "access_token": "abc"
        }))
        .expect("v2");
        assert_eq!(v2.expires_in, Some(86399));
        assert_eq!(v2.expires_on, None);
        // written in the v1 shape, and the token never shows in Debug
        let out = serde_json::to_value(&v2).expect("ser");
        assert_eq!(out["expires_in"], json!("86399"));
        assert!(!format!("{v2:?}").contains("abc"));
    }

    #[test]
    fn lenient_numbers_take_empty_null_and_floats_and_refuse_the_rest() {
        let t: TokenResponse = serde_json::from_value(json!({
            "access_token": "a", "expires_in": " ", "ext_expires_in": null, "expires_on": 12.7
        }))
        .expect("lenient");
        assert_eq!(
            (t.expires_in, t.ext_expires_in, t.expires_on),
            (None, None, Some(12))
        );
        let p: Pagination = serde_json::from_value(json!({"pageIndex": "", "totalCount": "7"}))
            .expect("pagination");
        assert_eq!((p.page_index, p.page_size, p.total_count), (0, 0, 7));
        for bad in [json!(-1), json!("seven"), json!([1])] {
            let r = serde_json::from_value::<Pagination>(json!({ "totalPages": bad }));
            assert!(r.is_err(), "{bad} must be refused");
        }
        let g = serde_json::to_value(GatewayErrorBody {
            status: Some(401),
            ..GatewayErrorBody::default()
        })
        .expect("ser");
        assert_eq!(g["status"], json!(401), "written as a number");
    }

    #[test]
    fn token_request_is_a_form() {
        let req = TokenRequest {
            grant_type: GRANT_TYPE_CLIENT_CREDENTIALS.into(),
            client_id: "id".into(),
            client_secret: Secret::new("s3cr3t"),
            resource: Some("https://r".into()),
            scope: None,
        };
        let form = serde_urlencoded::to_string(&req).expect("form");
        assert_eq!(
            form,
            "grant_type=client_credentials&client_id=id&client_secret=s3cr3t&resource=https%3A%2F%2Fr"
        );
        assert!(!format!("{req:?}").contains("s3cr3t"));
        let back: TokenRequest = serde_urlencoded::from_str(&form).expect("parse");
        assert_eq!(back, req);
    }

    #[test]
    fn ingest_bodies_use_the_documented_names() {
        let create = CreateDatasetRequest {
            dataset_name: "WindData".into(),
            dataset_description: None,
            schema_version_id: "sv".into(),
            files: vec![IngestFile {
                file_name: "a.csv".into(),
                operation: FileOperation::Create,
            }],
            tags: vec![Tag {
                key: "Site".into(),
                values: vec!["1".into()],
            }],
            provider: Some(PROVIDER_BYOD.into()),
            start_automatically: false,
        };
        assert_eq!(
            serde_json::to_value(&create).expect("ser"),
            json!({"datasetName": "WindData", "schemaVersionId": "sv",
                   "files": [{"fileName": "a.csv", "operation": "Create"}],
                   "tags": [{"Key": "Site", "Values": ["1"]}],
                   "provider": "BYOD", "startAutomatically": false})
        );
        let update: UpdateDatasetRequest = serde_json::from_value(json!({
            "files": [{"fileName": "a.csv", "operation": "upsert"}], "startAutomatically": false
        }))
        .expect("update");
        assert_eq!(update.files[0].operation, FileOperation::Upsert);
        let resp: IngestResponse = serde_json::from_value(json!({
            "jobId": "j1", "sasToken": "https://a.dfs/fs/dir?sv=1&sig=SECRET"
        }))
        .expect("resp");
        assert_eq!(resp.job_id, "j1");
        assert!(!format!("{resp:?}").contains("SECRET"));
    }

    #[test]
    fn job_status_parses_the_documented_examples_and_variants() {
        let running: JobStatus = serde_json::from_value(json!({
            "jobId": "j", "status": "Running", "operations": ["Create"],
            "notebookErrorMessage": "", "validationError": []
        }))
        .expect("running");
        assert_eq!(running.status, JobState::Running);
        assert!(!running.has_failed() && !running.status.is_terminal());
        let done: JobStatus = serde_json::from_value(json!({
            "jobId": "j", "status": "completed", "operations": ["Create"],
            "notebookErrorMessage": null, "dataSetName": "n", "datasetId": "d",
            "validationError": null
        }))
        .expect("done");
        assert!(done.status.is_success() && !done.has_failed());
        assert_eq!(done.data_set_name.as_deref(), Some("n"));
        let bad: JobStatus = serde_json::from_value(json!({
            "jobId": "j", "status": "Completed",
            "validationError": ["bad row", {"row": "3", "column": "A", "message": "not Int32", "code": 7}]
        }))
        .expect("bad");
        assert!(bad.has_failed());
        assert_eq!(bad.validation_error[0].message, "bad row");
        assert_eq!(bad.validation_error[1].row, Some(3));
        assert_eq!(bad.validation_error[1].extra["code"], json!(7));
        assert_eq!(
            bad.validation_error[1].to_string(),
            "row 3: column \"A\": not Int32"
        );
        let odd: JobStatus = serde_json::from_value(json!({"status": "Warming"})).expect("odd");
        assert_eq!(odd.status, JobState::Other("Warming".into()));
        assert_eq!(
            serde_json::to_value(&odd.status).expect("ser"),
            json!("Warming")
        );
    }

    #[test]
    fn schema_round_trip_and_lenient_types() {
        let req = AddSchemaRequest {
            name: "Wind".into(),
            short_name: Some("w".into()),
            description: None,
            columns: vec![
                SchemaColumn::new("TS", ColumnType::DateTime).with_key(true),
                SchemaColumn::new("V", ColumnType::Double),
            ],
            row_validators: None,
        };
        let v = serde_json::to_value(&req).expect("ser");
        assert_eq!(v["columns"][0]["type"], json!("DateTime"));
        assert_eq!(v["columns"][0]["isKey"], json!(true));
        let schema: Schema = serde_json::from_value(json!({
            "id": "s", "name": "Wind", "industry": "Energy",
            "schemaVersions": [{"id": "v1", "schemaVersionName": "Wind V1",
                "columns": [{"name": "n", "type": "int32", "isKey": "true"}]}]
        }))
        .expect("schema");
        assert_eq!(schema.current_version().map(|v| v.id.as_str()), Some("v1"));
        assert_eq!(
            schema.schema_versions[0].columns[0].data_type,
            ColumnType::Int32
        );
        assert!(schema.schema_versions[0].columns[0].is_key);
        assert_eq!(schema.extra["industry"], json!("Energy"));
    }

    #[test]
    fn query_round_trip() {
        let mut q = QueryRequest::page(1, 500);
        q.query_filters.push(QueryFilter {
            column: "Timestamp".into(),
            filter_type: FilterType::Greater,
            filter_values: vec!["2024-05-01".into()],
        });
        q.sorting = Some(Sorting {
            column: "Timestamp".into(),
            order: SortOrder::Descending,
        });
        assert_eq!(
            serde_json::to_value(&q).expect("ser"),
            json!({"pageIndex": 1, "pageSize": 500,
                   "queryFilters": [{"column": "Timestamp", "filterType": "Greater",
                                     "filterValues": ["2024-05-01"]}],
                   "sorting": {"column": "Timestamp", "order": "Descending"}})
        );
        let page: QueryPage = serde_json::from_str(
            r#"{"data": [{"a": 1, "d": 0.000000000000000000001}], "pagination": {"pageIndex": 1,
                "pageSize": "10", "totalPages": 2, "totalCount": 11}}"#,
        )
        .expect("page");
        assert!(page.has_next());
        assert_eq!(page.pagination.page_size, 10);
        assert_eq!(
            page.data[0].get(),
            r#"{"a": 1, "d": 0.000000000000000000001}"#
        );
        assert_eq!(page.rows().expect("rows")[0]["a"], 1);
        let null: QueryPage = serde_json::from_str(r#"{"data": null}"#).expect("null data");
        assert!(null.data.is_empty());
    }

    #[test]
    fn error_bodies() {
        let g: GatewayErrorBody = serde_json::from_value(
            json!({"type": "BusinessError", "traceId": "8b01e7eb14484611add6138618daf112"}),
        )
        .expect("gw");
        assert_eq!(
            g.trace_id.as_deref(),
            Some("8b01e7eb14484611add6138618daf112")
        );
        let apim: GatewayErrorBody = serde_json::from_value(
            json!({"statusCode": 401, "message": "Access denied due to missing subscription key."}),
        )
        .expect("apim");
        assert_eq!(apim.status, Some(401));
        let s: StorageErrorBody = serde_json::from_value(json!({
            "error": {"code": "InvalidFlushPosition", "message": "m\nRequestId:x\nTime:t"}
        }))
        .expect("storage");
        assert_eq!(s.error.code, "InvalidFlushPosition");
        let spec: StorageErrorBody =
            serde_json::from_value(json!({"error": {"Code": "PathNotFound", "Message": "m"}}))
                .expect("spec");
        assert_eq!(spec.error.code, "PathNotFound");
    }
}
