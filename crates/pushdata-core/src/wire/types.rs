//! Enumerations that the API spells in several ways, parsed leniently and written canonically.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A name that did not match any variant of a wire enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariant {
    /// What was being parsed, e.g. `data type`.
    pub what: &'static str,
    /// The text that was given.
    pub given: String,
    /// The accepted spellings (canonical forms).
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?}; expected one of {} (any case)",
            self.what,
            self.given,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownVariant {}

macro_rules! lenient_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $canonical:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical spelling written on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $canonical),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $(
                    if t.eq_ignore_ascii_case($canonical) $(|| t.eq_ignore_ascii_case($alias))* {
                        return Ok($name::$variant);
                    }
                )+
                Err(UnknownVariant {
                    what: $what,
                    given: s.to_string(),
                    expected: &[$($canonical),+],
                })
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
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

lenient_enum! {
    /// The data type of a column, as declared in `columnHeaders[].dataType`.
    ///
    /// Parsed in any case (`STRING`, `string`, `String`), written upper case.
    ///
    /// ```
    /// use pushdata_core::wire::DataType;
    /// assert_eq!("DateTime".parse::<DataType>().unwrap(), DataType::DateTime);
    /// assert_eq!(DataType::BigDecimal.to_string(), "BIGDECIMAL");
    /// ```
    DataType, "data type" {
        /// UTF-8 text.
        String => "STRING",
        /// 32-bit signed integer.
        Integer => "INTEGER",
        /// 64-bit signed integer.
        BigInteger => "BIGINTEGER",
        /// true / false.
        Bool => "BOOL" | "BOOLEAN",
        /// IEEE 754 double.
        Double => "DOUBLE",
        /// Exact decimal number of arbitrary precision.
        BigDecimal => "BIGDECIMAL",
        /// Calendar date, `YYYY-MM-DD`.
        Date => "DATE",
        /// Time of day, `hh:mm:ss[.fraction]`.
        Time => "TIME",
        /// Date and time, `YYYY-MM-DDThh:mm:ss[.fraction]`.
        DateTime => "DATETIME",
    }
}

impl DataType {
    /// Whether columns of this type become metrics by default (numeric types).
    pub const fn is_numeric(self) -> bool {
        matches!(
            self,
            DataType::Integer | DataType::BigInteger | DataType::Double | DataType::BigDecimal
        )
    }

    /// Whether a column of this type stores every value written as `written` exactly: the
    /// same type, or a lossless widening of it. Values are parsed by the type of the
    /// column that receives them, so these are the type differences a push into an
    /// existing dataset can carry without losing or refusing a value:
    ///
    /// | written | stored exactly by |
    /// |---|---|
    /// | INTEGER | BIGINTEGER, DOUBLE (every 32-bit integer is a double), BIGDECIMAL |
    /// | BIGINTEGER | BIGDECIMAL |
    /// | DATE | DATETIME (at midnight) |
    ///
    /// Every other difference can refuse values (a narrower integer, a number as a date) or
    /// change them (BIGINTEGER or BIGDECIMAL as a DOUBLE round, a DOUBLE as a BIGDECIMAL
    /// cannot hold 1e300, text in a STRING column is no longer a number).
    ///
    /// ```
    /// use pushdata_core::wire::DataType;
    /// assert!(DataType::BigInteger.accepts_exactly(DataType::Integer));
    /// assert!(!DataType::Integer.accepts_exactly(DataType::BigInteger));
    /// assert!(!DataType::Double.accepts_exactly(DataType::BigInteger));
    /// ```
    pub const fn accepts_exactly(self, written: DataType) -> bool {
        matches!(
            (written, self),
            (DataType::String, DataType::String)
                | (DataType::Integer, DataType::Integer)
                | (DataType::BigInteger, DataType::BigInteger)
                | (DataType::Bool, DataType::Bool)
                | (DataType::Double, DataType::Double)
                | (DataType::BigDecimal, DataType::BigDecimal)
                | (DataType::Date, DataType::Date)
                | (DataType::Time, DataType::Time)
                | (DataType::DateTime, DataType::DateTime)
                | (
                    DataType::Integer,
                    DataType::BigInteger | DataType::Double | DataType::BigDecimal
                )
                | (DataType::BigInteger, DataType::BigDecimal)
                | (DataType::Date, DataType::DateTime)
        )
    }
}

lenient_enum! {
    /// How a table's uploaded rows are applied to its published data.
    ///
    /// Parsed in any case (`Replace`, `replace`), written lower case.
    ///
    /// | policy | existing key | new key |
    /// |---|---|---|
    /// | `add` | left untouched | inserted |
    /// | `update` | metrics replaced | ignored |
    /// | `upsert` | metrics replaced | inserted |
    /// | `replace` | all existing rows are dropped first | inserted |
    UpdatePolicy, "update policy" {
        /// Insert rows whose key is new; leave existing keys untouched.
        Add => "add",
        /// Replace the metric values of rows whose key exists; ignore new keys.
        Update => "update",
        /// `update` for existing keys and `add` for new ones.
        Upsert => "upsert",
        /// Replace all rows of the table.
        Replace => "replace",
    }
}

lenient_enum! {
    /// How the JSON array in a chunk is arranged. Parsed in any case, written upper case.
    ///
    /// - `ROW`: each sub-array is a row: `[[c1r1, c2r1], [c1r2, c2r2]]`.
    /// - `COLUMN`: each sub-array is a column: `[[c1r1, c1r2], [c2r1, c2r2]]`.
    Orientation, "orientation" {
        /// One sub-array per row.
        Row => "ROW",
        /// One sub-array per column.
        Column => "COLUMN",
    }
}

lenient_enum! {
    /// The category of an attribute form (`attributeForms[].category`), as the Push Data API
    /// documents it: "Valid attribute forms are ID or DESC; longitude and latitude attribute
    /// forms are not supported". Parsed in any case, written upper case.
    ///
    /// ```
    /// use pushdata_core::wire::FormCategory;
    /// assert_eq!("desc".parse::<FormCategory>().unwrap(), FormCategory::Desc);
    /// assert!("LATITUDE".parse::<FormCategory>().is_err());
    /// ```
    FormCategory, "form category" {
        /// The form that identifies an element; its columns are the row key.
        Id => "ID",
        /// The description of an element.
        Desc => "DESC",
    }
}

impl Default for Orientation {
    /// The API's default when a session does not name one.
    fn default() -> Self {
        Orientation::Row
    }
}

/// The `loginMode` of `POST /api/auth/login`.
///
/// Known modes have constants; any other integer is carried through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct LoginMode(pub u32);

impl LoginMode {
    /// Standard (user name and password) authentication.
    pub const STANDARD: LoginMode = LoginMode(1);
    /// Guest (anonymous) authentication.
    pub const GUEST: LoginMode = LoginMode(8);
    /// LDAP authentication.
    pub const LDAP: LoginMode = LoginMode(16);
    /// API token authentication.
    pub const API_TOKEN: LoginMode = LoginMode(4096);

    /// The mode's name (`standard`, `guest`, `LDAP`, `API token`), or `None` for a mode
    /// without a constant.
    pub fn name(self) -> Option<&'static str> {
        match self {
            LoginMode::STANDARD => Some("standard"),
            LoginMode::GUEST => Some("guest"),
            LoginMode::LDAP => Some("LDAP"),
            LoginMode::API_TOKEN => Some("API token"),
            _ => None,
        }
    }
}

/// `LDAP (16)`, or `mode 64` for a mode without a name.
///
/// ```
/// use pushdata_core::wire::LoginMode;
/// assert_eq!(LoginMode::LDAP.to_string(), "LDAP (16)");
/// assert_eq!(LoginMode(64).to_string(), "mode 64");
/// ```
impl fmt::Display for LoginMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "mode {}", self.0),
        }
    }
}

impl Default for LoginMode {
    fn default() -> Self {
        LoginMode::STANDARD
    }
}

impl<'de> Deserialize<'de> for LoginMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        lenient_u64(deserializer, "loginMode").and_then(|v| {
            u32::try_from(v)
                .map(LoginMode)
                .map_err(|_| serde::de::Error::custom(format!("loginMode {v} is out of range")))
        })
    }
}

/// Deserialize an unsigned integer given either as a JSON number or as a string of digits.
pub(crate) fn lenient_u64<'de, D: Deserializer<'de>>(
    deserializer: D,
    what: &'static str,
) -> Result<u64, D::Error> {
    use serde::de::{Error, Visitor};

    struct V(&'static str);
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "{} as a non-negative integer or a string of digits",
                self.0
            )
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("{} must not be negative: {v}", self.0)))
        }
        fn visit_f64<E: Error>(self, v: f64) -> Result<u64, E> {
            if v.fract() == 0.0 && v >= 0.0 && v <= u64::MAX as f64 {
                Ok(v as u64)
            } else {
                Err(E::custom(format!("{} must be a whole number: {v}", self.0)))
            }
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<u64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("{} is not an integer: {v:?}", self.0)))
        }
    }
    deserializer.deserialize_any(V(what))
}

/// Deserialize a signed integer given either as a JSON number or as a string of digits.
pub(crate) fn lenient_i64<'de, D: Deserializer<'de>>(
    deserializer: D,
    what: &'static str,
) -> Result<i64, D::Error> {
    use serde::de::{Error, Visitor};

    struct V(&'static str);
    impl Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{} as an integer or a string of digits", self.0)
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom(format!("{} is out of range: {v}", self.0)))
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_f64<E: Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v >= i64::MIN as f64 && v <= i64::MAX as f64 {
                Ok(v as i64)
            } else {
                Err(E::custom(format!("{} must be a whole number: {v}", self.0)))
            }
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<i64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("{} is not an integer: {v:?}", self.0)))
        }
    }
    deserializer.deserialize_any(V(what))
}
