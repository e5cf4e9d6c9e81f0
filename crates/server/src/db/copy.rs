//! `copy-database`: moves an embedded SQLite database into an empty PostgreSQL one, table by
//! table, and verifies the row counts.
//!
//! Derived data (`user_counts`, the users' copies of names, population versions and stamps,
//! hourly provisioning counts) is copied as it is rather than recomputed: PostgreSQL's triggers
//! are switched off for the copy, inside its one transaction, so nothing is counted twice.
//! SQLite's full-text tables are not copied; PostgreSQL's trigram indexes on the searched
//! columns replace them.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt;
use sqlx::{PgConnection, PgPool, Row, SqliteConnection, SqlitePool};

/// Tables whose one row the PostgreSQL schema creates; the copy replaces it.
const SINGLETON_TABLES: [&str; 2] = ["provisioning_log_indexed", "set_wise_writes"];
/// Rows sent to PostgreSQL per `COPY` chunk.
const CHUNK_ROWS: usize = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("the two schemas differ (is one side of another Provisio version?): {0}")]
    SchemaMismatch(String),
    #[error("the PostgreSQL database is not empty: `{table}` has {rows} rows")]
    TargetNotEmpty { table: String, rows: i64 },
    #[error("`{table}`: {source_rows} rows in SQLite but {target_rows} in PostgreSQL")]
    CountMismatch {
        table: String,
        source_rows: i64,
        target_rows: i64,
    },
}

/// How a column's values travel: PostgreSQL's type decides how SQLite's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    Integer,
    Boolean,
    Text,
}

#[derive(Debug)]
struct Table {
    name: String,
    columns: Vec<(String, ColumnKind)>,
}

/// One copied table and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedTable {
    pub table: String,
    pub rows: i64,
}

/// The tables, and their stored (not generated) columns, on each side.
pub type Layout = BTreeMap<String, BTreeSet<String>>;

/// SQLite's tables as Provisio defines them: its own full-text tables (virtual tables and their
/// shadow tables) and bookkeeping left out.
pub async fn sqlite_layout(connection: &mut SqliteConnection) -> Result<Layout, sqlx::Error> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *connection)
    .await?;
    let virtual_tables: Vec<&str> = tables
        .iter()
        .filter(|(_, sql)| sql.starts_with("CREATE VIRTUAL TABLE"))
        .map(|(name, _)| name.as_str())
        .collect();
    let mut layout = Layout::new();
    for (name, _) in &tables {
        let is_search_table = virtual_tables
            .iter()
            .any(|v| name == v || name.starts_with(&format!("{v}_")));
        if is_search_table {
            continue;
        }
        // hidden: 0 a stored column, 2 and 3 generated ones.
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0")
                .bind(name)
                .fetch_all(&mut *connection)
                .await?;
        layout.insert(name.clone(), columns.into_iter().collect());
    }
    Ok(layout)
}

/// PostgreSQL's tables in the current schema, generated columns left out.
pub async fn postgres_layout(connection: &mut PgConnection) -> Result<Layout, sqlx::Error> {
    let mut layout = Layout::new();
    for table in postgres_tables(connection).await? {
        let columns = table.columns.into_iter().map(|(name, _)| name).collect();
        layout.insert(table.name, columns);
    }
    Ok(layout)
}

async fn postgres_tables(connection: &mut PgConnection) -> Result<Vec<Table>, sqlx::Error> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
           AND c.table_name <> '_sqlx_migrations' AND c.is_generated = 'NEVER' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut tables: Vec<Table> = Vec::new();
    for (table, column, data_type) in rows {
        let kind = match data_type.as_str() {
            "bigint" | "integer" | "smallint" => ColumnKind::Integer,
            "boolean" => ColumnKind::Boolean,
            _ => ColumnKind::Text,
        };
        match tables.last_mut() {
            Some(last) if last.name == table => last.columns.push((column, kind)),
            _ => tables.push(Table {
                name: table,
                columns: vec![(column, kind)],
            }),
        }
    }
    Ok(tables)
}

/// What differs between the two layouts, or None when they hold the same tables and columns.
pub fn layout_difference(sqlite: &Layout, postgres: &Layout) -> Option<String> {
    let mut differences = Vec::new();
    for (table, columns) in sqlite {
        match postgres.get(table) {
            None => differences.push(format!("table `{table}` is only in SQLite")),
            Some(other) => {
                for column in columns.symmetric_difference(other) {
                    let side = if columns.contains(column) {
                        "SQLite"
                    } else {
                        "PostgreSQL"
                    };
                    differences.push(format!("`{table}.{column}` is only in {side}"));
                }
            }
        }
    }
    for table in postgres.keys().filter(|t| !sqlite.contains_key(*t)) {
        differences.push(format!("table `{table}` is only in PostgreSQL"));
    }
    (!differences.is_empty()).then(|| differences.join("; "))
}

/// Copies every table of `from` into the empty database `to` (both migrated), in one
/// PostgreSQL transaction over one SQLite snapshot; a failure leaves `to` as it was.
pub async fn copy(from: &SqlitePool, to: &PgPool) -> Result<Vec<CopiedTable>, CopyError> {
    let mut source = from.begin().await?;
    let mut target = to.begin().await?;
    let sqlite = sqlite_layout(&mut source).await?;
    if let Some(difference) = layout_difference(&sqlite, &postgres_layout(&mut target).await?) {
        return Err(CopyError::SchemaMismatch(difference));
    }
    let tables = postgres_tables(&mut target).await?;
    let tables = in_reference_order(&mut target, tables).await?;
    for table in &tables {
        let quoted = quote(&table.name);
        if SINGLETON_TABLES.contains(&table.name.as_str()) {
            sqlx::query(&format!("DELETE FROM {quoted}"))
                .execute(&mut *target)
                .await?;
            continue;
        }
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {quoted}"))
            .fetch_one(&mut *target)
            .await?;
        if rows > 0 {
            return Err(CopyError::TargetNotEmpty {
                table: table.name.clone(),
                rows,
            });
        }
    }
    for table in &tables {
        sqlx::query(&format!(
            "ALTER TABLE {} DISABLE TRIGGER USER",
            quote(&table.name)
        ))
        .execute(&mut *target)
        .await?;
    }
    let mut copied = Vec::with_capacity(tables.len());
    for table in &tables {
        let rows = copy_table(&mut source, &mut target, table).await?;
        copied.push(CopiedTable {
            table: table.name.clone(),
            rows,
        });
    }
    for table in &tables {
        let quoted = quote(&table.name);
        sqlx::query(&format!("ALTER TABLE {quoted} ENABLE TRIGGER USER"))
            .execute(&mut *target)
            .await?;
        let source_rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {quoted}"))
            .fetch_one(&mut *source)
            .await?;
        let target_rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {quoted}"))
            .fetch_one(&mut *target)
            .await?;
        if source_rows != target_rows {
            return Err(CopyError::CountMismatch {
                table: table.name.clone(),
                source_rows,
                target_rows,
            });
        }
    }
    restart_identities(&mut target).await?;
    target.commit().await?;
    source.rollback().await?;
    Ok(copied)
}

/// Streams one table's rows into PostgreSQL's `COPY … FROM STDIN` (text format).
async fn copy_table(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    table: &Table,
) -> Result<i64, sqlx::Error> {
    let names: Vec<String> = table.columns.iter().map(|(name, _)| quote(name)).collect();
    let names = names.join(", ");
    let select = format!("SELECT {names} FROM {}", quote(&table.name));
    let mut sink = target
        .copy_in_raw(&format!("COPY {} ({names}) FROM STDIN", quote(&table.name)))
        .await?;
    let mut rows = sqlx::query(&select).fetch(&mut *source);
    let mut chunk = String::new();
    let mut count: i64 = 0;
    while let Some(row) = rows.try_next().await? {
        for (index, (_, kind)) in table.columns.iter().enumerate() {
            if index > 0 {
                chunk.push('\t');
            }
            // Read unchecked: SQLite lets a column hold any type, and sqlx converts as SQLite
            // itself does.
            match kind {
                ColumnKind::Integer => {
                    push_field(&mut chunk, row.try_get_unchecked::<Option<i64>, _>(index)?)
                }
                ColumnKind::Boolean => push_field(
                    &mut chunk,
                    row.try_get_unchecked::<Option<i64>, _>(index)?.map(|flag| {
                        if flag != 0 {
                            "t"
                        } else {
                            "f"
                        }
                    }),
                ),
                ColumnKind::Text => push_text(
                    &mut chunk,
                    row.try_get_unchecked::<Option<String>, _>(index)?
                        .as_deref(),
                ),
            }
        }
        chunk.push('\n');
        count += 1;
        if count % CHUNK_ROWS as i64 == 0 {
            sink.send(std::mem::take(&mut chunk).into_bytes()).await?;
        }
    }
    drop(rows);
    if !chunk.is_empty() {
        sink.send(chunk.into_bytes()).await?;
    }
    sink.finish().await?;
    Ok(count)
}

fn push_field(chunk: &mut String, value: Option<impl std::fmt::Display>) {
    match value {
        Some(value) => chunk.push_str(&value.to_string()),
        None => chunk.push_str("\\N"),
    }
}

/// A text value in COPY's text format: backslash, tab, newline and carriage return escaped.
fn push_text(chunk: &mut String, value: Option<&str>) {
    let Some(value) = value else {
        chunk.push_str("\\N");
        return;
    };
    for c in value.chars() {
        match c {
            '\\' => chunk.push_str("\\\\"),
            '\t' => chunk.push_str("\\t"),
            '\n' => chunk.push_str("\\n"),
            '\r' => chunk.push_str("\\r"),
            c => chunk.push(c),
        }
    }
}

/// The tables ordered so that every table comes after those its foreign keys reference.
async fn in_reference_order(
    target: &mut PgConnection,
    mut tables: Vec<Table>,
) -> Result<Vec<Table>, CopyError> {
    let references: Vec<(String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint \
         WHERE contype = 'f' AND connamespace = current_schema()::regnamespace \
           AND conrelid <> confrelid",
    )
    .fetch_all(&mut *target)
    .await?;
    let mut ordered = Vec::with_capacity(tables.len());
    let mut placed = BTreeSet::new();
    while !tables.is_empty() {
        let ready = tables.iter().position(|table| {
            references
                .iter()
                .filter(|(child, _)| *child == table.name)
                .all(|(_, parent)| placed.contains(parent))
        });
        let Some(ready) = ready else {
            return Err(CopyError::SchemaMismatch(
                "the foreign keys form a cycle".to_owned(),
            ));
        };
        let table = tables.remove(ready);
        placed.insert(table.name.clone());
        ordered.push(table);
    }
    Ok(ordered)
}

/// Identity columns continue after the copied ids.
async fn restart_identities(target: &mut PgConnection) -> Result<(), sqlx::Error> {
    let identities: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND is_identity = 'YES'",
    )
    .fetch_all(&mut *target)
    .await?;
    for (table, column) in identities {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(MAX({col}), 1), \
             MAX({col}) IS NOT NULL) FROM {table}",
            col = quote(&column),
            table = quote(&table)
        ))
        .bind(&table)
        .bind(&column)
        .execute(&mut *target)
        .await?;
    }
    Ok(())
}

/// An identifier as SQL spells it, whatever its name.
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_copy() {
        let mut chunk = String::new();
        push_text(&mut chunk, Some("a\tb\\c\nd\re"));
        chunk.push('|');
        push_text(&mut chunk, None);
        chunk.push('|');
        push_text(&mut chunk, Some(""));
        assert_eq!(chunk, "a\\tb\\\\c\\nd\\re|\\N|");
    }

    #[test]
    fn layouts_name_every_difference() {
        let sqlite = Layout::from([
            (
                "a".to_owned(),
                BTreeSet::from(["x".to_owned(), "y".to_owned()]),
            ),
            ("b".to_owned(), BTreeSet::new()),
        ]);
        let mut postgres = sqlite.clone();
        assert_eq!(layout_difference(&sqlite, &postgres), None);
        postgres.remove("b");
        postgres.insert("c".to_owned(), BTreeSet::new());
        if let Some(columns) = postgres.get_mut("a") {
            columns.remove("y");
            columns.insert("z".to_owned());
        }
        let difference = layout_difference(&sqlite, &postgres).unwrap_or_default();
        for expected in [
            "`a.y` is only in SQLite",
            "`a.z` is only in PostgreSQL",
            "table `b` is only in SQLite",
            "table `c` is only in PostgreSQL",
        ] {
            assert!(difference.contains(expected), "{difference}");
        }
    }
}
