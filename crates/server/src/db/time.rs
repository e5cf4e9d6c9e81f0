//! Moments as the database keeps them: ISO-8601 UTC text (`2026-11-25T13:05:00Z`) on SQLite and
//! PostgreSQL alike, so both order and compare them byte for byte the same way and a copied
//! database reads back unchanged.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, SubsecRound, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

/// A stored moment; reads and writes as text on both engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredTime(pub DateTime<Utc>);

impl StoredTime {
    /// Now, to the whole second (as every stored moment but the provisioning log's).
    pub fn now() -> StoredTime {
        StoredTime(Utc::now().trunc_subsecs(0))
    }

    /// The text stored: whole seconds unless the moment has a fraction.
    pub fn text(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    fn parse(text: &str) -> Result<StoredTime, BoxDynError> {
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(StoredTime(at.with_timezone(&Utc)));
        }
        // SQLite's own `datetime()` writes `YYYY-MM-DD HH:MM:SS`, in UTC.
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .map_err(|err| format!("`{text}` is not a stored time: {err}"))?;
        Ok(StoredTime(naive.and_utc()))
    }
}

impl From<StoredTime> for DateTime<Utc> {
    fn from(at: StoredTime) -> Self {
        at.0
    }
}

impl Type<Sqlite> for StoredTime {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty) || <DateTime<Utc> as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for StoredTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        StoredTime::parse(<&str as Decode<Sqlite>>::decode(value)?)
    }
}

impl<'q> Encode<'q, Sqlite> for StoredTime {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.text(), buf)
    }
}

impl Type<Postgres> for StoredTime {
    fn type_info() -> PgTypeInfo {
        <String as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <String as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for StoredTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        StoredTime::parse(<&str as Decode<Postgres>>::decode(value)?)
    }
}

impl Encode<'_, Postgres> for StoredTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<Postgres>>::encode(self.text(), buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_reads_back_as_the_same_moment() {
        for text in ["2026-11-25T13:05:00Z", "2026-11-25T13:05:00.250Z"] {
            let at = StoredTime::parse(text).expect(text);
            assert_eq!(at.text(), text);
        }
        let offset = StoredTime::parse("2026-11-25T14:05:00+01:00").expect("offset");
        assert_eq!(offset.text(), "2026-11-25T13:05:00Z");
        let sqlite = StoredTime::parse("2026-11-25 13:05:00").expect("SQLite's format");
        assert_eq!(sqlite.text(), "2026-11-25T13:05:00Z");
        assert!(StoredTime::parse("yesterday").is_err());
    }
}
