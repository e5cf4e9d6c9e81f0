//! How values read on screen (the API and exports keep ISO 8601 UTC and plain numbers).

use provisio_api::report::{ReportField, ReportRow};

/// The text of a table cell.
pub fn cell(row: &ReportRow, field: ReportField) -> String {
    match field {
        ReportField::CreatedOn => row.created_on.format("%Y-%m-%d %H:%M").to_string(),
        ReportField::EndpointsUsageMb => thousands(row.endpoints_usage_mb),
        ReportField::QuotaGb => row.quota_gb.map_or_else(|| row.cell(field), thousands),
        _ => row.cell(field),
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(number: impl Into<i64>) -> String {
    let number = number.into();
    let digits = number.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if number < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A size in bytes as people read it: "812 B", "4.2 KB", "17.9 MB".
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if count < 1024 {
        return format!("{count} B");
    }
    let mut size = count as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

/// A moment as the console shows it: always UTC, to the minute.
pub fn utc(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A moment in the browser's own time zone, as the browser writes it.
pub fn local(at: chrono::DateTime<chrono::Utc>) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

/// "2026-11-24 07:00 UTC (24/11/2026, 08:00:00 your time)".
pub fn utc_and_local(at: chrono::DateTime<chrono::Utc>) -> String {
    format!("{} ({} your time)", utc(at), local(at))
}

#[cfg(test)]
mod tests {
    use super::{bytes, thousands};

    #[test]
    fn sizes_use_the_largest_whole_unit() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(4300), "4.2 KB");
        assert_eq!(bytes(18_769_000), "17.9 MB");
    }

    #[test]
    fn groups_digits_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
    }
}
