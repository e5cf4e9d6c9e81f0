//! Report exports: rows in, file bytes out, chunk by chunk.
//!
//! The download endpoint and mailed subscriptions both take their bytes from [`encode`], so a
//! file arrives the same whichever way it was asked for.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use provisio_api::report::{ExportFormat, FieldKind, ReportField, ReportRow};

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

/// The file: `columns` of every row of `rows`, in `format`.
pub fn encode<S>(
    rows: S,
    columns: Vec<ReportField>,
    format: ExportFormat,
) -> impl Stream<Item = Result<Bytes, ExportError>> + Send + 'static
where
    S: Stream<Item = Result<ReportRow, sqlx::Error>> + Send + 'static,
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

/// The download's file name: which report, whose rows, and when (UTC), e.g.
/// `user-provisioning_all-customers_20261124T071500Z.csv`.
pub fn file_name(scope_label: &str, format: ExportFormat, at: DateTime<Utc>) -> String {
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
        "user-provisioning_{}_{}.{}",
        if scope.is_empty() { "report" } else { &scope },
        at.format("%Y%m%dT%H%M%SZ"),
        format.key()
    )
}

/// A spreadsheet runs a cell that starts with one of these as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Makes a text cell inert in spreadsheets by prefixing an apostrophe (OWASP's advice). A lone
/// `-` (how the report shows "none") is no formula in any spreadsheet and is left readable.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if text != "-" && text.starts_with(FORMULA_STARTS) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

enum Encoder {
    Csv {
        writer: Box<csv::Writer<Vec<u8>>>,
        columns: Vec<ReportField>,
    },
    Json {
        out: Vec<u8>,
        columns: Vec<ReportField>,
        rows: u64,
    },
}

impl Encoder {
    fn new(format: ExportFormat, columns: Vec<ReportField>) -> Result<Encoder, ExportError> {
        Ok(match format {
            ExportFormat::Csv => {
                let mut writer = Box::new(csv_writer());
                writer
                    .write_record(columns.iter().map(|field| field.label()))
                    .map_err(|err| ExportError::Encode(err.to_string()))?;
                Encoder::Csv { writer, columns }
            }
            ExportFormat::Json => Encoder::Json {
                out: b"[".to_vec(),
                columns,
                rows: 0,
            },
        })
    }

    fn row(&mut self, row: &ReportRow) -> Result<(), ExportError> {
        match self {
            Encoder::Csv { writer, columns } => {
                let cells: Vec<String> = columns
                    .iter()
                    .map(|field| {
                        let text = row.cell(*field);
                        match field.kind() {
                            FieldKind::Number | FieldKind::Date => text,
                            FieldKind::Text | FieldKind::Enum => neutralise(&text).into_owned(),
                        }
                    })
                    .collect();
                writer
                    .write_record(&cells)
                    .map_err(|err| ExportError::Encode(err.to_string()))
            }
            Encoder::Json { out, columns, rows } => {
                out.extend_from_slice(if *rows == 0 { b"\n{" } else { b",\n{" });
                for (index, field) in columns.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    let value = json_value(row, *field);
                    serde_json::to_writer(&mut *out, field.key())
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
