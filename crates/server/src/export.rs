//! Report exports: rows in, file bytes out, chunk by chunk.
//!
//! The download endpoint and mailed subscriptions both take their bytes from [`encode`], so a
//! file arrives the same whichever way it was asked for.

use std::borrow::Cow;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use provisio_api::report::{ExportFormat, FieldKind, ReportField, ReportRow};

use crate::db::provisioning_log::EventRecord;

/// Bytes gathered before a chunk is handed on: large enough to keep per-chunk overhead small,
/// small enough that memory stays flat.
const CHUNK_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading rows failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("writing the file failed: {0}")]
    Encode(String),
}

/// What an export's columns are and how a row fills them; the report's fields and the
/// provisioning log's columns both go through the one encoder below.
pub trait Columns: Send + 'static {
    type Row: Send;
    /// The CSV header row.
    fn labels(&self) -> Vec<&'static str>;
    /// The JSON objects' keys, in column order.
    fn keys(&self) -> Vec<&'static str>;
    /// A row's CSV cells (formula-looking text already neutralised), borrowing what they can.
    fn csv_cells<'r>(&self, row: &'r Self::Row) -> Vec<Cow<'r, str>>;
    /// A row's JSON values.
    fn json_cells(&self, row: &Self::Row) -> Vec<serde_json::Value>;
}

impl Columns for Vec<ReportField> {
    type Row = ReportRow;

    fn labels(&self) -> Vec<&'static str> {
        self.iter().map(|field| field.label()).collect()
    }

    fn keys(&self) -> Vec<&'static str> {
        self.iter().map(|field| field.key()).collect()
    }

    fn csv_cells<'r>(&self, row: &'r ReportRow) -> Vec<Cow<'r, str>> {
        self.iter()
            .map(|field| {
                let text = row.cell_text(*field);
                match field.kind() {
                    FieldKind::Number | FieldKind::Date => text,
                    FieldKind::Text | FieldKind::Enum => neutralise(text),
                }
            })
            .collect()
    }

    fn json_cells(&self, row: &ReportRow) -> Vec<serde_json::Value> {
        self.iter().map(|field| json_value(row, *field)).collect()
    }
}

/// The provisioning log's download: every column of the log, the error and the modified
/// properties.
pub struct EventColumns;

const EVENT_COLUMNS: [(&str, &str); 13] = [
    ("at", "Date (UTC)"),
    ("identity", "Identity"),
    ("action", "Action"),
    ("status", "Status"),
    ("customer", "Customer"),
    ("source_system", "Source system"),
    ("source_id", "Source ID"),
    ("target_id", "Target ID"),
    ("duration_ms", "Duration (ms)"),
    ("change_id", "Change ID"),
    ("operation", "Operation"),
    ("error", "Error"),
    ("modified_properties", "Modified properties"),
];

impl Columns for EventColumns {
    type Row = EventRecord;

    fn labels(&self) -> Vec<&'static str> {
        EVENT_COLUMNS.iter().map(|(_, label)| *label).collect()
    }

    fn keys(&self) -> Vec<&'static str> {
        EVENT_COLUMNS.iter().map(|(key, _)| *key).collect()
    }

    fn csv_cells<'r>(&self, record: &'r EventRecord) -> Vec<Cow<'r, str>> {
        self.json_cells(record)
            .into_iter()
            .map(|value| match value {
                serde_json::Value::String(text) => neutralise(Cow::Owned(text)),
                serde_json::Value::Null => Cow::Borrowed(""),
                other => Cow::Owned(other.to_string()),
            })
            .collect()
    }

    fn json_cells(&self, record: &EventRecord) -> Vec<serde_json::Value> {
        let row = record.row();
        let changes: serde_json::Value =
            serde_json::from_str(&record.changes).unwrap_or_else(|_| serde_json::json!({}));
        vec![
            row.at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                .into(),
            row.identity.into(),
            row.kind.label().into(),
            row.status.label().into(),
            row.customer_name.into(),
            row.source_system.into(),
            row.source_id.into(),
            row.target_id.into(),
            row.duration_ms.into(),
            row.request_id.into(),
            row.action.into(),
            row.error.into(),
            // CSV gets the JSON text; a JSON download keeps the object.
            changes,
        ]
    }
}

/// The file: `columns` of every row of `rows`, in `format`.
pub fn encode<C, S>(
    rows: S,
    columns: C,
    format: ExportFormat,
) -> impl Stream<Item = Result<Bytes, ExportError>> + Send + 'static
where
    C: Columns,
    S: Stream<Item = Result<C::Row, sqlx::Error>> + Send + 'static,
{
    async_stream::try_stream! {
        let mut encoder = Encoder::new(format, columns)?;
        futures_util::pin_mut!(rows);
        while let Some(row) = rows.next().await {
            encoder.row(&row?)?;
            if encoder.buffered() >= CHUNK_BYTES {
                yield encoder.take()?;
            }
        }
        yield encoder.finish()?;
    }
}

/// A download's answer: the file streamed as an attachment named `file_name`, never cached; a
/// stream that fails midway is logged (the client sees a cut-off file).
pub fn attachment<S>(format: ExportFormat, file_name: &str, body: S) -> axum::response::Response
where
    S: Stream<Item = Result<Bytes, ExportError>> + Send + 'static,
{
    use axum::http::header;
    use axum::response::IntoResponse;
    let body = body.inspect(|chunk| {
        if let Err(err) = chunk {
            tracing::error!(error = %err, "export stopped");
        }
    });
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

/// The download's file name: which report, whose rows, and when (UTC), e.g.
/// `user-provisioning_all-customers_20261124T071500Z.csv`.
pub fn file_name(scope_label: &str, format: ExportFormat, at: DateTime<Utc>) -> String {
    named_file("user-provisioning", scope_label, format, at)
}

/// A download's file name: `<what>_<scope>_<UTC time>.<format>`.
pub fn named_file(
    what: &str,
    scope_label: &str,
    format: ExportFormat,
    at: DateTime<Utc>,
) -> String {
    let scope: String = scope_label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!(
        "{what}_{}_{}.{}",
        if scope.is_empty() { "report" } else { &scope },
        at.format("%Y%m%dT%H%M%SZ"),
        format.key()
    )
}

/// A spreadsheet runs a cell that starts with one of these as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Makes a text cell inert in spreadsheets by prefixing an apostrophe (OWASP's advice). A lone
/// `-` (how the report shows "none") is no formula in any spreadsheet and is left readable.
/// A cell that is no formula stays as it came, borrowed or owned.
fn neutralise(text: Cow<'_, str>) -> Cow<'_, str> {
    if text != "-" && text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        text
    }
}

enum Encoder<C> {
    Csv {
        writer: Box<csv::Writer<Vec<u8>>>,
        columns: C,
    },
    Json {
        out: Vec<u8>,
        columns: C,
        keys: Vec<&'static str>,
        rows: u64,
    },
}

impl<C: Columns> Encoder<C> {
    fn new(format: ExportFormat, columns: C) -> Result<Encoder<C>, ExportError> {
        Ok(match format {
            ExportFormat::Csv => {
                let mut writer = Box::new(csv_writer());
                writer
                    .write_record(columns.labels())
                    .map_err(|err| ExportError::Encode(err.to_string()))?;
                Encoder::Csv { writer, columns }
            }
            ExportFormat::Json => Encoder::Json {
                out: b"[".to_vec(),
                keys: columns.keys(),
                columns,
                rows: 0,
            },
        })
    }

    fn row(&mut self, row: &C::Row) -> Result<(), ExportError> {
        match self {
            Encoder::Csv { writer, columns } => writer
                .write_record(columns.csv_cells(row).iter().map(|cell| cell.as_bytes()))
                .map_err(|err| ExportError::Encode(err.to_string())),
            Encoder::Json {
                out,
                columns,
                keys,
                rows,
            } => {
                out.extend_from_slice(if *rows == 0 { b"\n{" } else { b",\n{" });
                for (index, (key, value)) in keys.iter().zip(columns.json_cells(row)).enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, key)
                        .and_then(|()| {
                            out.push(b':');
                            serde_json::to_writer(&mut *out, &value)
                        })
                        .map_err(|err| ExportError::Encode(err.to_string()))?;
                }
                out.push(b'}');
                *rows += 1;
                Ok(())
            }
        }
    }

    fn buffered(&self) -> usize {
        match self {
            Encoder::Csv { writer, .. } => writer.get_ref().len(),
            Encoder::Json { out, .. } => out.len(),
        }
    }

    fn take(&mut self) -> Result<Bytes, ExportError> {
        match self {
            Encoder::Csv { writer, .. } => {
                // The csv writer lends out its buffer only by value; a fresh writer goes on.
                let full = std::mem::replace(writer.as_mut(), csv_writer());
                let bytes = full
                    .into_inner()
                    .map_err(|err| ExportError::Encode(err.error().to_string()))?;
                Ok(Bytes::from(bytes))
            }
            Encoder::Json { out, .. } => Ok(Bytes::from(std::mem::take(out))),
        }
    }

    fn finish(&mut self) -> Result<Bytes, ExportError> {
        if let Encoder::Json { out, .. } = self {
            out.extend_from_slice(b"\n]\n");
        }
        self.take()
    }
}

/// RFC 4180: CRLF line ends, quotes only where a cell needs them.
fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(CHUNK_BYTES * 2))
}

/// A cell as JSON: numbers stay numbers, an absent custom attribute is `null`.
fn json_value(row: &ReportRow, field: ReportField) -> serde_json::Value {
    match field {
        ReportField::EndpointsUsageMb => row.endpoints_usage_mb.into(),
        ReportField::CustomAttributeName => row.custom_attribute_name.clone().into(),
        ReportField::CustomAttributeValue => row.custom_attribute_value.clone().into(),
        // As the API gives them: null for unlimited, for no region, for no mapping.
        ReportField::QuotaGb => row.quota_gb.into(),
        ReportField::StorageRegion => row.storage_region.clone().into(),
        ReportField::Mapping => row.mapping.clone().into(),
        _ => row.cell(field).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(name: &str) -> ReportRow {
        ReportRow {
            id: 1,
            global_customer_id: "g-1".into(),
            customer_name: "Acme, Inc.".into(),
            account_name: "acme".into(),
            user_name: name.into(),
            user_email: "a@acme.example".into(),
            profile: "Default".into(),
            user_status: "Active".into(),
            endpoints_license: "-".into(),
            endpoints_usage_mb: -5,
            created_on: Utc
                .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
                .single()
                .expect("valid time"),
            managed_by: "Okta".into(),
            custom_attribute_name: None,
            custom_attribute_value: Some("x\ny".into()),
            storage_region: Some("EU (Frankfurt)".into()),
            quota_gb: None,
            mapping: None,
        }
    }

    async fn collect(
        rows: Vec<ReportRow>,
        columns: Vec<ReportField>,
        format: ExportFormat,
    ) -> String {
        let stream = futures_util::stream::iter(rows.into_iter().map(Ok));
        let chunks: Vec<Result<Bytes, ExportError>> =
            encode(stream, columns, format).collect().await;
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend_from_slice(&chunk.expect("chunk"));
        }
        String::from_utf8(out).expect("utf-8")
    }

    #[tokio::test]
    async fn csv_quotes_per_rfc_4180_and_neutralises_formulas() {
        let columns = vec![
            ReportField::UserName,
            ReportField::CustomerName,
            ReportField::EndpointsLicense,
            ReportField::EndpointsUsageMb,
            ReportField::CreatedOn,
            ReportField::CustomAttributeValue,
        ];
        let text = collect(
            vec![row("=HYPERLINK(\"x\")"), row("@sum")],
            columns,
            ExportFormat::Csv,
        )
        .await;
        let mut lines = text.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("User Name,Customer Name,Endpoints License,Endpoints Usage (MB),Created On (UTC),Custom Attribute Value")
        );
        assert_eq!(
            lines.next(),
            Some("\"'=HYPERLINK(\"\"x\"\")\",\"Acme, Inc.\",-,-5,2026-01-02T03:04:05Z,\"x\ny\"")
        );
        assert!(text.contains("'@sum"));
    }

    #[tokio::test]
    async fn json_is_an_array_of_objects_in_column_order() {
        let columns = vec![
            ReportField::UserEmail,
            ReportField::EndpointsUsageMb,
            ReportField::CustomAttributeName,
        ];
        let text = collect(
            vec![row("a"), row("b")],
            columns.clone(),
            ExportFormat::Json,
        )
        .await;
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let rows = value.as_array().expect("array");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["endpoints_usage_mb"], -5);
        assert!(rows[0]["custom_attribute_name"].is_null());
        let first_key = text.find("\"user_email\"").expect("key");
        assert!(first_key < text.find("\"endpoints_usage_mb\"").expect("key"));
        let empty = collect(Vec::new(), columns, ExportFormat::Json).await;
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&empty).expect("valid"),
            serde_json::json!([])
        );
    }

    #[tokio::test]
    async fn large_exports_arrive_in_bounded_chunks() {
        let rows: Vec<ReportRow> = (0..5000).map(|i| row(&format!("user {i}"))).collect();
        let stream = futures_util::stream::iter(rows.into_iter().map(Ok));
        let chunks: Vec<Bytes> = encode(stream, ReportField::ALL.to_vec(), ExportFormat::Csv)
            .map(|chunk| chunk.expect("chunk"))
            .collect()
            .await;
        assert!(chunks.len() > 3, "{} chunks", chunks.len());
        assert!(chunks.iter().all(|c| c.len() < CHUNK_BYTES * 2));
    }

    #[test]
    fn file_names_say_report_scope_and_utc_time() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 24, 7, 15, 0)
            .single()
            .expect("valid time");
        assert_eq!(
            file_name("All customers", ExportFormat::Csv, at),
            "user-provisioning_all-customers_20261124T071500Z.csv"
        );
        assert_eq!(
            file_name("Northwind Traders / EU", ExportFormat::Json, at),
            "user-provisioning_northwind-traders-eu_20261124T071500Z.json"
        );
    }
}
