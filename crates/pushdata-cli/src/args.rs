//! The command line grammar (clap derive). Parsing only: no I/O happens here.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::RangedU64ValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use pushdata_arrow::IfExists;
use pushdata_arrow::veracity::{MAX_APPENDS_IN_FLIGHT, MAX_PART_MB, Operation};
use pushdata_core::Secret;
use pushdata_core::wire::{FormCategory, LoginMode, Orientation, UnknownVariant, UpdatePolicy};

/// Push Parquet files into analytics datasets through the Push Data API.
#[derive(Debug, Parser)]
#[command(name = "pushdata", version)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Push Parquet files into a dataset (one table per file).
    ///
    /// Without --url, an embedded reference server is started with its data in --data-dir.
    Push(PushArgs),
    /// Read a dataset back (grouped by the attributes read, metrics summed) into a Parquet
    /// file, page by page through the Cube API.
    ///
    /// Without --url, an embedded reference server is started on the data in --data-dir.
    Pull(PullArgs),
    /// Run the reference server until Ctrl-C; prints its base URL on stdout.
    Serve(ServeArgs),
    /// Show the column headers, attributes and metrics `push` would create for FILE(s), and
    /// the rule that decided each column's role.
    Schema(SchemaArgs),
    /// Push a Parquet file into a Veracity Data Workbench dataset, or pull one back.
    ///
    /// Without --url, an embedded reference server (its Veracity emulation) is started with
    /// its data in --data-dir.
    Veracity(VeracityArgs),
}

/// Where to connect, how, and as whom. Each setting comes from its flag, else its
/// environment variable, else the `--profile`, else its default.
#[derive(Debug, Args)]
pub(crate) struct ConnectionArgs {
    /// Base URL of the server, e.g. https://host/MicroStrategyLibrary (default: the
    /// profile's, else an embedded reference server).
    #[arg(long, env = "PUSHDATA_URL", value_name = "URL")]
    pub(crate) url: Option<String>,

    /// User name (default: the profile's, else administrator).
    #[arg(long, env = "PUSHDATA_USER", value_name = "U")]
    pub(crate) user: Option<String>,

    /// Password (default: the profile's, else empty); prefer the environment variable to
    /// the command line, where `ps` shows it.
    #[arg(
        long,
        env = "PUSHDATA_PASSWORD",
        hide_env_values = true,
        value_name = "P",
        value_parser = secret
    )]
    pub(crate) password: Option<Secret>,

    /// How to log in (default: the profile's, else api-token when a token is given, else
    /// standard).
    #[arg(long, env = "PUSHDATA_LOGIN_MODE", value_enum, value_name = "MODE")]
    pub(crate) login_mode: Option<LoginModeArg>,

    /// The API token of `--login-mode api-token` (the server's POST /api/auth/apiTokens
    /// issues them); prefer the environment variable to the command line.
    #[arg(
        long,
        env = "PUSHDATA_API_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        value_parser = secret
    )]
    pub(crate) api_token: Option<Secret>,

    /// Project name or id (default: the profile's, else the user's only project).
    #[arg(long, env = "PUSHDATA_PROJECT", value_name = "NAME_OR_ID")]
    pub(crate) project: Option<String>,

    /// Also trust the CA certificate(s) of this PEM file, for a server whose certificate
    /// a private CA signed (default: the profile's `ca_cert`).
    #[arg(long, env = "PUSHDATA_CA_CERT", value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,

    /// Do not check the server's TLS certificate at all (a test server with a self-signed
    /// certificate): anyone on the way can then read and change what is sent, passwords
    /// included. A warning is printed on every run.
    #[arg(
        long,
        env = "PUSHDATA_INSECURE",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub(crate) insecure: bool,

    /// Take the connection settings from this profile of the config file.
    ///
    /// The config file is `pushdata/config.toml` in the user's config directory
    /// (`$XDG_CONFIG_HOME` or `~/.config` on Linux, `~/Library/Application Support` on
    /// macOS, `%APPDATA%` on Windows), or the file `PUSHDATA_CONFIG` names. One table per
    /// profile, every key optional:
    ///
    /// [profiles.prod]
    /// url = "https://bi.example.com/MicroStrategyLibrary"
    /// user = "jdoe"
    /// login_mode = "ldap"            # standard | ldap | guest | api-token
    /// project = "Sales"
    /// ca_cert = "/etc/ssl/corp-ca.pem" # relative paths are to the config file's directory
    ///
    /// A flag or environment variable overrides the profile's value. Keep passwords and
    /// tokens in PUSHDATA_PASSWORD / PUSHDATA_API_TOKEN; a profile may hold `password` or
    /// `api_token`, and pushdata then warns while the file is readable by other users
    /// (chmod 600 it).
    #[arg(
        long,
        env = "PUSHDATA_PROFILE",
        value_name = "NAME",
        verbatim_doc_comment
    )]
    pub(crate) profile: Option<String>,
}

/// `--login-mode`, and `login_mode` in a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum LoginModeArg {
    /// User name and password checked by the server (loginMode 1).
    Standard,
    /// User name and password checked by the server's LDAP directory (loginMode 16).
    Ldap,
    /// Anonymous guest session, no credentials (loginMode 8).
    Guest,
    /// An API token instead of user name and password (loginMode 4096).
    ApiToken,
}

impl From<LoginModeArg> for LoginMode {
    fn from(mode: LoginModeArg) -> Self {
        match mode {
            LoginModeArg::Standard => LoginMode::STANDARD,
            LoginModeArg::Ldap => LoginMode::LDAP,
            LoginModeArg::Guest => LoginMode::GUEST,
            LoginModeArg::ApiToken => LoginMode::API_TOKEN,
        }
    }
}

/// How a column becomes an attribute or a metric: explicit choices that win over the
/// inference.
#[derive(Debug, Args)]
pub(crate) struct ModelArgs {
    /// Make column COL an attribute named after it, whatever the inference makes it (`COL`
    /// or `TABLE.COL`; repeatable).
    #[arg(long = "attribute", value_name = "COL")]
    pub(crate) attributes: Vec<String>,

    /// Make numeric column COL a metric (`COL` or `TABLE.COL`; repeatable).
    #[arg(long = "metric", value_name = "COL")]
    pub(crate) metrics: Vec<String>,

    /// Make COLUMN (`COL` or `TABLE.COL`) the CATEGORY form of attribute ATTRIBUTE;
    /// CATEGORY is ID or DESC, the form categories the Push Data API accepts (repeatable),
    /// e.g. --form Category:ID=Category_ID --form Category:DESC=Category_DESC.
    #[arg(long = "form", value_name = "ATTRIBUTE:CATEGORY=COLUMN", value_parser = form_arg)]
    pub(crate) forms: Vec<FormArg>,
}

/// How input files are read: the CSV dialect, and a schema instead of inference.
#[derive(Debug, Args, Default)]
pub(crate) struct InputArgs {
    /// The CSV field delimiter, one ASCII character (default `,`, tab for .tsv files).
    #[arg(long, value_name = "CHAR", value_parser = delimiter)]
    pub(crate) csv_delimiter: Option<u8>,

    /// CSV files have no header line: their columns are column_1, column_2, ...
    #[arg(long)]
    pub(crate) csv_no_header: bool,

    /// The schema of CSV and NDJSON inputs instead of inferring it from their first 1000
    /// rows: a JSON file `[{"name": "id", "type": "Int64", "nullable": false}, ...]` (types
    /// as Arrow prints them: Utf8, Int64, Float64, Date32, Timestamp(Microsecond, None),
    /// ...; nullable defaults to true), or a Parquet or Arrow IPC file whose schema is taken.
    #[arg(long, value_name = "FILE")]
    pub(crate) schema: Option<PathBuf>,

    /// An option of the object store an input URL (s3://, gs://, az://, abfss://,
    /// http(s)://; file:// takes none) opens, over what the environment gives (AWS_*, GOOGLE_*, AZURE_*
    /// variables, as the cloud CLIs read them): a configuration key of the store, such as
    /// aws_endpoint=http://127.0.0.1:9000, aws_region=eu-west-1, aws_allow_http=true,
    /// azure_storage_account_name=NAME. Repeat for more.
    #[arg(long = "storage-option", value_name = "KEY=VALUE", value_parser = storage_option)]
    pub(crate) storage_options: Vec<StorageOptionArg>,
}

/// One `--storage-option KEY=VALUE`; the value can be a secret, never shown by `Debug`.
#[derive(Clone)]
pub(crate) struct StorageOptionArg {
    /// The configuration key.
    pub(crate) key: String,
    /// Its value.
    pub(crate) value: String,
}

impl std::fmt::Debug for StorageOptionArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}=<redacted>", self.key)
    }
}

/// `--storage-option`: `KEY=VALUE` with a non-empty key.
fn storage_option(value: &str) -> Result<StorageOptionArg, String> {
    match value.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok(StorageOptionArg {
            key: key.trim().to_string(),
            value: value.to_string(),
        }),
        _ => Err("expected KEY=VALUE, such as aws_region=eu-west-1".into()),
    }
}

/// `--csv-delimiter`: one ASCII character (`\t` for a tab).
fn delimiter(value: &str) -> Result<u8, String> {
    match (value, value.as_bytes()) {
        ("\\t" | "tab", _) => Ok(b'\t'),
        (_, [b]) if b.is_ascii() => Ok(*b),
        _ => Err("expected one ASCII character (or \\t for a tab)".into()),
    }
}

/// One `--form ATTRIBUTE:CATEGORY=COLUMN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormArg {
    /// The attribute.
    pub(crate) attribute: String,
    /// The form category.
    pub(crate) category: FormCategory,
    /// The column, `COL` or `TABLE.COL`.
    pub(crate) column: String,
}

/// Why a `--form` value does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FormArgError {
    /// Not `ATTRIBUTE:CATEGORY=COLUMN`.
    #[error("expected ATTRIBUTE:CATEGORY=COLUMN, e.g. Category:DESC=Category_DESC")]
    Syntax,
    /// Nothing before the `:`.
    #[error("the attribute name before ':' is empty")]
    EmptyAttribute,
    /// Nothing after the `=`.
    #[error("the column name after '=' is empty")]
    EmptyColumn,
    /// A category the API does not accept.
    #[error(transparent)]
    Category(#[from] UnknownVariant),
}

/// Parse `ATTRIBUTE:CATEGORY=COLUMN`: the column is everything after the first `=`, the
/// category what follows the last `:` before it (so an attribute name may hold a `:`).
fn form_arg(value: &str) -> Result<FormArg, FormArgError> {
    let (left, column) = value.split_once('=').ok_or(FormArgError::Syntax)?;
    let (attribute, category) = left.rsplit_once(':').ok_or(FormArgError::Syntax)?;
    if attribute.trim().is_empty() {
        return Err(FormArgError::EmptyAttribute);
    }
    if column.trim().is_empty() {
        return Err(FormArgError::EmptyColumn);
    }
    Ok(FormArg {
        attribute: attribute.to_string(),
        category: category.parse()?,
        column: column.to_string(),
    })
}

/// `pushdata push`.
#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// Inputs: data files (Parquet, Arrow IPC/Feather, CSV, NDJSON), directories of part
    /// files, or quoted globs, local or as object-store URLs (s3://, gs://, az://, abfss://,
    /// http(s)://, file://); each becomes one table of the dataset, named after the file
    /// stem, the directory, or the glob's last literal folder.
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) files: Vec<PathBuf>,

    /// How the inputs are read.
    #[command(flatten)]
    pub(crate) input: InputArgs,

    /// Server and credentials.
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,

    /// Name of the new dataset (default: the first file's stem).
    #[arg(long, value_name = "NAME", conflicts_with = "dataset_id")]
    pub(crate) dataset: Option<String>,

    /// Update this existing dataset (with --policy) instead of creating a new one.
    #[arg(long, value_name = "ID")]
    pub(crate) dataset_id: Option<String>,

    /// When the folder already holds a dataset of the --dataset name: fail, naming it and
    /// its id, or update it (push into it with --policy, so its id and what is built on it
    /// stay).
    #[arg(long, value_enum, default_value_t = IfExistsArg::Fail, conflicts_with = "dataset_id")]
    pub(crate) if_exists: IfExistsArg,

    /// Create the dataset in the folder with this id (default: the user's My Reports).
    #[arg(long, value_name = "ID", conflicts_with = "dataset_id")]
    pub(crate) folder: Option<String>,

    /// The new dataset's description.
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["dataset_id", "single_request"])]
    pub(crate) description: Option<String>,

    /// Make every check (files, model, the dataset on the server) and read and encode the
    /// files, then print what the push would do; write nothing on the server.
    #[arg(long)]
    pub(crate) dry_run: bool,

    /// Table name (only with a single FILE; default: the file stem).
    #[arg(long, value_name = "NAME")]
    pub(crate) table: Option<String>,

    /// How the rows are applied to the table's existing data.
    #[arg(long, value_enum, default_value_t = PolicyArg::Replace)]
    pub(crate) policy: PolicyArg,

    /// How rows are arranged in the chunks sent to the server.
    #[arg(long, value_enum, default_value_t = OrientationArg::Row)]
    pub(crate) orientation: OrientationArg,

    /// Target size of one uploaded chunk, in MiB (default: the library's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(crate) chunk_mb: Option<u64>,

    /// Number of chunk uploads in flight (default: the library's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub(crate) concurrency: Option<u64>,

    /// Most encoded chunk data held in memory at once, in MiB (default: the library's,
    /// 1.5 chunks; see "Memory bound" in the docs of pushdata_arrow::Push).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub(crate) max_buffered_mb: Option<u64>,

    /// Explicit attribute, metric and form choices.
    #[command(flatten)]
    pub(crate) model: ModelArgs,

    /// Create the dataset with one request per table (POST /api/datasets) instead of the
    /// model + upload session workflow.
    #[arg(long)]
    pub(crate) single_request: bool,

    /// Data directory of the embedded server (without --url).
    #[arg(long, value_name = "DIR", default_value = ".pushdata")]
    pub(crate) data_dir: PathBuf,

    /// Print one JSON object with the result on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `pushdata pull`.
#[derive(Debug, Args)]
pub(crate) struct PullArgs {
    /// The dataset (cube) id, as `push` printed it.
    #[arg(value_name = "DATASET_ID")]
    pub(crate) dataset_id: String,

    /// The Parquet file to write (replaced if it exists, once the pull is complete).
    #[arg(short, long, value_name = "FILE.parquet")]
    pub(crate) output: PathBuf,

    /// Server and credentials.
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,

    /// Read this attribute (name or id; repeatable). With no --attribute and no --metric,
    /// every attribute and metric is read.
    #[arg(long = "attribute", value_name = "NAME")]
    pub(crate) attributes: Vec<String>,

    /// Read this metric (name or id; repeatable); metrics are summed per group.
    #[arg(long = "metric", value_name = "NAME")]
    pub(crate) metrics: Vec<String>,

    /// Read the stored rows of this table (name or id) exactly: every row, in stored
    /// order, no grouping and no join. Uses an extension of the pushdata reference server
    /// that MicroStrategy servers do not have.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["attributes", "metrics"])]
    pub(crate) table: Option<String>,

    /// Rows per page (default: the library's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) page_size: Option<u64>,

    /// Data directory of the embedded server (without --url).
    #[arg(long, value_name = "DIR", default_value = ".pushdata")]
    pub(crate) data_dir: PathBuf,

    /// Print one JSON object with the result on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `pushdata serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the URL printed has the real one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) addr: SocketAddr,

    /// Where the datasets are stored.
    #[arg(long, value_name = "DIR", default_value = ".pushdata")]
    pub(crate) data_dir: PathBuf,

    /// The user allowed to log in (default: administrator with an empty password). Its
    /// password comes from --password-file, else --password, else PUSHDATA_PASSWORD.
    #[arg(long, value_name = "U", conflicts_with = "users_file")]
    pub(crate) user: Option<String>,

    /// That user's password on the command line, where `ps` shows it: prefer
    /// PUSHDATA_PASSWORD or --password-file.
    #[arg(long, value_name = "P", requires = "user", value_parser = secret)]
    pub(crate) password: Option<Secret>,

    /// A file whose first line is the password of --user.
    #[arg(
        long,
        value_name = "FILE",
        requires = "user",
        conflicts_with = "password"
    )]
    pub(crate) password_file: Option<PathBuf>,

    /// The users allowed to log in, one `name:password` per line (the password is the rest
    /// of the line after the first `:`); blank lines and lines starting with `#` are
    /// skipped. Each user sees only their own datasets.
    #[arg(long, value_name = "FILE")]
    pub(crate) users_file: Option<PathBuf>,

    /// The login modes accepted (comma-separated or repeated; default:
    /// standard,ldap,api-token). Standard and LDAP logins check the same users; guest
    /// logins are user Guest (only on loopback addresses); API tokens are issued to
    /// logged-in users by POST /api/auth/apiTokens.
    #[arg(long, value_enum, value_name = "MODE", value_delimiter = ',')]
    pub(crate) login_modes: Vec<LoginModeArg>,

    /// Serve HTTPS with this PEM certificate chain (the server's certificate first);
    /// needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,

    /// Decoded chunks of open upload sessions kept in memory, in MiB, before they are
    /// staged as files (default: the server's, 256).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=1048576))]
    pub(crate) staging_memory_mb: Option<u64>,

    /// The grouped rows of cube instances (what `pull` and mstrio-py read) kept in memory,
    /// in MiB for all instances, before an instance's rows are written to a file (default:
    /// the server's, 512).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=1048576))]
    pub(crate) cube_memory_mb: Option<u64>,

    /// Cancel an upload session that sees no request for this many seconds, and free its
    /// staged chunks (a client that died mid-push; default: the server's, 1800).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) session_idle_secs: Option<u64>,

    /// The most the data directory's files may take in all, in MiB (published versions,
    /// staged chunks, Veracity uploads), as a full disk would: a chunk, publish or append
    /// past it is refused with 507 naming the quota (default: no limit).
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=(u64::MAX >> 20)))]
    pub(crate) data_quota_mb: Option<u64>,

    /// How long a Veracity bearer token from the emulated token endpoint stays valid, in
    /// seconds (default: the server's, 3599).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) veracity_token_lifetime_secs: Option<u64>,

    /// The Veracity emulation's service account (client id) accepted at its token endpoint
    /// (default: pushdata-veracity-client).
    #[arg(long, env = "PUSHDATA_VERACITY_CLIENT_ID", value_name = "ID")]
    pub(crate) veracity_client_id: Option<String>,

    /// That account's secret (default: pushdata-veracity-secret); prefer the environment
    /// variable to the command line, where `ps` shows it.
    #[arg(
        long,
        env = "PUSHDATA_VERACITY_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "S",
        value_parser = secret
    )]
    pub(crate) veracity_client_secret: Option<Secret>,

    /// The Veracity gateway's subscription key, `Ocp-Apim-Subscription-Key` (default:
    /// pushdata-veracity-key).
    #[arg(
        long,
        env = "PUSHDATA_VERACITY_SUBSCRIPTION_KEY",
        hide_env_values = true,
        value_name = "KEY",
        value_parser = secret
    )]
    pub(crate) veracity_subscription_key: Option<Secret>,
}

/// `pushdata schema`.
#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// Inputs: data files (Parquet, Arrow IPC/Feather, CSV, NDJSON), directories of part
    /// files, or quoted globs; one table per input. Only schemas are read (and the first
    /// rows of CSV/NDJSON files, to infer theirs).
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) files: Vec<PathBuf>,

    /// How the inputs are read.
    #[command(flatten)]
    pub(crate) input: InputArgs,

    /// Explicit attribute, metric and form choices.
    #[command(flatten)]
    pub(crate) model: ModelArgs,

    /// Print the dataset model (the body of POST /api/datasets/models) as JSON, with one
    /// more key, columnRoles: each column's role and the rule that decided it.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `pushdata veracity`.
#[derive(Debug, Args)]
pub(crate) struct VeracityArgs {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: VeracityCommand,
}

/// The Veracity subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum VeracityCommand {
    /// Push one Parquet file as one ingest job: create a dataset (--create) or apply
    /// --operation to an existing one (--dataset-id).
    Push(VeracityPushArgs),
    /// Read a dataset through the query API, page by page, into a Parquet file typed by the
    /// dataset's schema (--schema-id).
    Pull(VeracityPullArgs),
}

/// Which Veracity service, which workspace, and as whom.
#[derive(Debug, Args)]
pub(crate) struct VeracityConnectionArgs {
    /// The workspace id.
    #[arg(long, env = "PUSHDATA_VERACITY_WORKSPACE", value_name = "WS")]
    pub(crate) workspace: String,

    /// Root URL of the service, e.g. https://api.veracity.com; the gateway is
    /// ROOT/veracity/dw/gateway/api/v2 unless ROOT already ends in a gateway path
    /// (default: an embedded reference server).
    #[arg(long, env = "PUSHDATA_VERACITY_URL", value_name = "ROOT")]
    pub(crate) url: Option<String>,

    /// OAuth2 token URL (default with --url: the Veracity Azure AD one).
    #[arg(long, env = "PUSHDATA_VERACITY_TOKEN_URL", value_name = "URL")]
    pub(crate) token_url: Option<String>,

    /// The service account's client id (default without --url: the embedded server's).
    #[arg(long, env = "PUSHDATA_VERACITY_CLIENT_ID", value_name = "ID")]
    pub(crate) client_id: Option<String>,

    /// The service account's secret; prefer the environment variable to the command line,
    /// where `ps` shows it.
    #[arg(
        long,
        env = "PUSHDATA_VERACITY_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "S",
        value_parser = secret
    )]
    pub(crate) client_secret: Option<Secret>,

    /// The gateway's subscription key (`Ocp-Apim-Subscription-Key`).
    #[arg(
        long,
        env = "PUSHDATA_VERACITY_SUBSCRIPTION_KEY",
        hide_env_values = true,
        value_name = "K",
        value_parser = secret
    )]
    pub(crate) subscription_key: Option<Secret>,

    /// Data directory of the embedded server (without --url).
    #[arg(long, value_name = "DIR", default_value = ".pushdata")]
    pub(crate) data_dir: PathBuf,

    /// Print one JSON object with the result on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `pushdata veracity push`.
#[derive(Debug, Args)]
pub(crate) struct VeracityPushArgs {
    /// The input: a data file (Parquet, Arrow IPC/Feather, CSV, NDJSON), a directory of
    /// part files, or a quoted glob.
    #[arg(value_name = "INPUT")]
    pub(crate) file: PathBuf,

    /// How the input is read.
    #[command(flatten)]
    pub(crate) input: InputArgs,

    /// Create a new dataset of this name (operation Create).
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present = "dataset_id",
        conflicts_with_all = ["dataset_id", "operation", "schema_id"]
    )]
    pub(crate) create: Option<String>,

    /// A key column (repeatable): of the new schema with --create; with --dataset-id and no
    /// --schema-id, the keys --operation is checked against.
    #[arg(long = "key", value_name = "COL")]
    pub(crate) keys: Vec<String>,

    /// Create the dataset with this existing schema version instead of a schema made from
    /// the file.
    #[arg(
        long,
        value_name = "ID",
        requires = "create",
        conflicts_with = "dataset_id"
    )]
    pub(crate) schema_version: Option<String>,

    /// Apply --operation to this existing dataset.
    #[arg(long, value_name = "ID", requires = "operation")]
    pub(crate) dataset_id: Option<String>,

    /// How the file's rows are applied to the dataset.
    #[arg(long, value_enum, requires = "dataset_id")]
    pub(crate) operation: Option<OperationArg>,

    /// The dataset's schema id: the operation and the file's columns are checked against
    /// its current version before anything is uploaded.
    #[arg(long, value_name = "ID", requires = "dataset_id")]
    pub(crate) schema_id: Option<String>,

    /// MiB of CSV per append (default 8; the first appends ramp up from a sixteenth of
    /// it): larger parts take fewer requests, smaller ones less memory.
    #[arg(long, value_name = "MiB", value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_PART_MB as u64))]
    pub(crate) part_mb: Option<usize>,

    /// Appends sent before the first of them is answered (default 1): raise it against a
    /// service far away, where each append otherwise waits a round trip.
    #[arg(long, value_name = "N", value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_APPENDS_IN_FLIGHT as u64))]
    pub(crate) appends_in_flight: Option<usize>,

    /// Service, workspace and credentials.
    #[command(flatten)]
    pub(crate) connection: VeracityConnectionArgs,
}

/// `pushdata veracity pull`.
#[derive(Debug, Args)]
pub(crate) struct VeracityPullArgs {
    /// The dataset id, as `veracity push` printed it.
    #[arg(value_name = "DATASET_ID")]
    pub(crate) dataset_id: String,

    /// The dataset's schema id (its current version types the columns).
    #[arg(long, value_name = "ID")]
    pub(crate) schema_id: String,

    /// The Parquet file to write (replaced if it exists).
    #[arg(short, long, value_name = "FILE.parquet")]
    pub(crate) output: PathBuf,

    /// Rows per query page (default: the library's, 1000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) page_size: Option<u64>,

    /// Service, workspace and credentials.
    #[command(flatten)]
    pub(crate) connection: VeracityConnectionArgs,
}

/// `--operation` of `veracity push`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OperationArg {
    /// Update rows whose keys match, insert the others (needs key columns).
    Upsert,
    /// Delete rows whose keys match the file's (needs key columns).
    Delete,
    /// Replace the dataset's rows.
    Overwrite,
    /// Add the file's rows (only on a schema without key columns).
    Append,
}

impl From<OperationArg> for Operation {
    fn from(o: OperationArg) -> Self {
        match o {
            OperationArg::Upsert => Operation::Upsert,
            OperationArg::Delete => Operation::Delete,
            OperationArg::Overwrite => Operation::Overwrite,
            OperationArg::Append => Operation::Append,
        }
    }
}

/// Passwords are held as [`Secret`]s from the start, so `Debug` of the arguments never
/// shows them.
fn secret(value: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::new(value))
}

/// `--policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PolicyArg {
    /// Drop the table's rows, then insert.
    Replace,
    /// Insert rows whose key is new; leave existing keys untouched.
    Add,
    /// Replace the metrics of existing keys; ignore new keys.
    Update,
    /// Update existing keys and insert new ones.
    Upsert,
}

impl From<PolicyArg> for UpdatePolicy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::Replace => UpdatePolicy::Replace,
            PolicyArg::Add => UpdatePolicy::Add,
            PolicyArg::Update => UpdatePolicy::Update,
            PolicyArg::Upsert => UpdatePolicy::Upsert,
        }
    }
}

/// `--if-exists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum IfExistsArg {
    /// Refuse, naming the dataset and its id.
    Fail,
    /// Push into it with --policy.
    Update,
}

impl From<IfExistsArg> for IfExists {
    fn from(a: IfExistsArg) -> Self {
        match a {
            IfExistsArg::Fail => IfExists::Fail,
            IfExistsArg::Update => IfExists::Update,
        }
    }
}

/// `--orientation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OrientationArg {
    /// One JSON array per row.
    Row,
    /// One JSON array per column.
    Column,
}

impl From<OrientationArg> for Orientation {
    fn from(o: OrientationArg) -> Self {
        match o {
            OrientationArg::Row => Orientation::Row,
            OrientationArg::Column => Orientation::Column,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn dataset_and_dataset_id_conflict() {
        let r = Cli::try_parse_from([
            "pushdata",
            "push",
            "a.parquet",
            "--dataset",
            "x",
            "--dataset-id",
            "y",
        ]);
        assert!(r.is_err());
    }

    #[test]
    fn push_defaults() {
        let cli = Cli::try_parse_from(["pushdata", "push", "a.parquet", "b.parquet"]).unwrap();
        let Command::Push(p) = cli.command else {
            panic!("not push")
        };
        assert_eq!(p.files.len(), 2);
        assert_eq!(p.policy, PolicyArg::Replace);
        assert_eq!(p.orientation, OrientationArg::Row);
        assert_eq!(p.data_dir, PathBuf::from(".pushdata"));
        assert!(!p.single_request && !p.json);
    }

    #[test]
    fn serve_user_sources() {
        let parse = |args: &[&str]| {
            let mut all = vec!["pushdata", "serve"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all)
        };
        assert!(parse(&["--user", "u"]).is_ok());
        assert!(parse(&["--password", "p"]).is_err());
        assert!(parse(&["--password-file", "f"]).is_err());
        assert!(parse(&["--user", "u", "--password", "p", "--password-file", "f"]).is_err());
        assert!(parse(&["--user", "u", "--users-file", "f"]).is_err());
        assert!(parse(&["--users-file", "f"]).is_ok());
    }

    #[test]
    fn veracity_push_modes() {
        let parse = |args: &[&str]| {
            let mut all = vec![
                "pushdata",
                "veracity",
                "push",
                "a.parquet",
                "--workspace",
                "w",
            ];
            all.extend_from_slice(args);
            Cli::try_parse_from(all)
        };
        assert!(parse(&["--create", "x", "--key", "Id", "--key", "Name"]).is_ok());
        assert!(parse(&["--dataset-id", "d", "--operation", "upsert"]).is_ok());
        assert!(
            parse(&[
                "--dataset-id",
                "d",
                "--operation",
                "append",
                "--schema-id",
                "s"
            ])
            .is_ok()
        );
        assert!(parse(&[]).is_err());
        assert!(parse(&["--operation", "upsert"]).is_err());
        assert!(parse(&["--dataset-id", "d"]).is_err());
        assert!(
            parse(&[
                "--create",
                "x",
                "--dataset-id",
                "d",
                "--operation",
                "upsert"
            ])
            .is_err()
        );
        assert!(parse(&["--create", "x", "--schema-id", "s"]).is_err());
        assert!(
            parse(&[
                "--dataset-id",
                "d",
                "--operation",
                "upsert",
                "--schema-version",
                "v"
            ])
            .is_err()
        );
    }

    #[test]
    fn veracity_secrets_never_reach_debug() {
        let cli = Cli::try_parse_from([
            "pushdata",
            "veracity",
            "pull",
            "d",
            "--workspace",
            "w",
            "--schema-id",
            "s",
            "-o",
            "out.parquet",
            "--client-secret",
            "hunter2",
            "--subscription-key",
            "k3y-value",
        ])
        .unwrap();
        let text = format!("{cli:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("k3y-value"),
            "{text}"
        );
    }

    #[test]
    fn form_values_parse_into_attribute_category_and_column() {
        let form = |v: &str| form_arg(v);
        assert_eq!(
            form("Category:desc=sales.Category_DESC"),
            Ok(FormArg {
                attribute: "Category".into(),
                category: FormCategory::Desc,
                column: "sales.Category_DESC".into()
            })
        );
        let with_colon = form("a:b:ID=c=d").unwrap();
        assert_eq!(
            (with_colon.attribute.as_str(), with_colon.column.as_str()),
            ("a:b", "c=d")
        );
        assert_eq!(form("Category=Category_ID"), Err(FormArgError::Syntax));
        assert_eq!(form("Category:ID"), Err(FormArgError::Syntax));
        assert_eq!(form(":ID=x"), Err(FormArgError::EmptyAttribute));
        assert_eq!(form("A:ID= "), Err(FormArgError::EmptyColumn));
        assert!(matches!(
            form("Geo:LATITUDE=lat"),
            Err(FormArgError::Category(UnknownVariant { given, .. })) if given == "LATITUDE"
        ));
    }

    #[test]
    fn form_is_repeatable_on_push_and_schema() {
        for command in ["push", "schema"] {
            let cli = Cli::try_parse_from([
                "pushdata",
                command,
                "a.parquet",
                "--form",
                "C:ID=C_ID",
                "--form",
                "C:DESC=C_DESC",
            ])
            .unwrap();
            let model = match cli.command {
                Command::Push(p) => p.model,
                Command::Schema(s) => s.model,
                _ => panic!("not {command}"),
            };
            assert_eq!(model.forms.len(), 2, "{command}");
            assert_eq!(model.forms[1].category, FormCategory::Desc);
        }
        let bad = Cli::try_parse_from(["pushdata", "schema", "a.parquet", "--form", "C:X=c"]);
        assert_eq!(
            bad.unwrap_err().kind(),
            clap::error::ErrorKind::ValueValidation
        );
    }

    #[test]
    fn passwords_never_reach_debug() {
        let cli = Cli::try_parse_from(["pushdata", "push", "a.parquet", "--password", "hunter2"])
            .unwrap();
        let Command::Push(p) = &cli.command else {
            panic!("not push")
        };
        assert_eq!(p.connection.password.as_ref().unwrap().expose(), "hunter2");
        assert!(!format!("{cli:?}").contains("hunter2"));
    }
}
