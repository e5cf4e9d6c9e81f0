//! How an admin arranges the report's columns, saved views, and the export formats that follow
//! them.
//!
//! In a URL the visible columns travel as `cols=<field>,<field>,...` (in display order), next to
//! the query's `filter`, `plan` and `sort`, and a saved view as `view=<id>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fields::ReportField;
use super::query::{QueryError, ReportQuery};

/// Every field in display order, and which of them are hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnLayout {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::layout_order))]
    /// Every field, each once, in display order.
    pub order: Vec<ReportField>,
    /// Fields left out of the table and exports; at least one field stays visible.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::layout_hidden))]
    pub hidden: Vec<ReportField>,
}

impl Default for ColumnLayout {
    /// The report's own 13 columns shown in its order; the placement columns hidden after them.
    fn default() -> Self {
        ColumnLayout::from_visible(&ReportField::SEED)
    }
}

impl ColumnLayout {
    /// The layout that shows exactly `visible`, in that order, and hides the rest.
    pub fn from_visible(visible: &[ReportField]) -> ColumnLayout {
        let mut order = visible.to_vec();
        let hidden: Vec<ReportField> = ReportField::ALL
            .into_iter()
            .filter(|field| !visible.contains(field))
            .collect();
        order.extend(&hidden);
        ColumnLayout { order, hidden }
    }

    /// A layout saved before fields were added, with each missing field appended, hidden: the
    /// admin's arrangement stays as they left it.
    pub fn with_every_field(mut self) -> ColumnLayout {
        for field in ReportField::ALL {
            if !self.order.contains(&field) {
                self.order.push(field);
                if !self.hidden.contains(&field) {
                    self.hidden.push(field);
                }
            }
        }
        self
    }

    /// Refuses a layout that does not list every field exactly once or hides them all.
    pub fn check(&self) -> Result<(), QueryError> {
        for field in ReportField::ALL {
            let times = self.order.iter().filter(|f| **f == field).count();
            if times != 1 {
                return Err(QueryError::new(
                    "order",
                    format!("'{}' must appear exactly once in the order", field.key()),
                ));
            }
        }
        if self.order.len() != ReportField::ALL.len() {
            return Err(QueryError::new("order", "the order lists a field twice"));
        }
        if let Some(twice) = listed_twice(&self.hidden) {
            return Err(QueryError::new(
                "hidden",
                format!("'{}' is listed twice", twice.key()),
            ));
        }
        if self.visible().is_empty() {
            return Err(QueryError::new(
                "hidden",
                "at least one column must stay visible",
            ));
        }
        Ok(())
    }

    /// The shown fields in display order.
    pub fn visible(&self) -> Vec<ReportField> {
        self.order
            .iter()
            .copied()
            .filter(|field| !self.hidden.contains(field))
            .collect()
    }

    pub fn is_hidden(&self, field: ReportField) -> bool {
        self.hidden.contains(&field)
    }

    /// Moves `field` so that it becomes the `to`-th visible column (clamped), keeping hidden
    /// fields where they were relative to the others.
    pub fn move_visible(&mut self, field: ReportField, to: usize) {
        let mut visible = self.visible();
        let Some(from) = visible.iter().position(|f| *f == field) else {
            return;
        };
        visible.remove(from);
        visible.insert(to.min(visible.len()), field);
        let mut next = visible.into_iter();
        // Hidden fields keep their slots; visible slots are refilled in the new order.
        for slot in self.order.iter_mut() {
            if !self.hidden.contains(slot) {
                if let Some(field) = next.next() {
                    *slot = field;
                }
            }
        }
    }

    /// Moves `field` to position `to` of the full order (hidden fields included), as the
    /// Columns panel does.
    pub fn move_in_order(&mut self, field: ReportField, to: usize) {
        if let Some(from) = self.order.iter().position(|f| *f == field) {
            self.order.remove(from);
            self.order.insert(to.min(self.order.len()), field);
        }
    }

    /// Shows or hides `field`; refuses (returning false) to hide the last visible column.
    pub fn set_hidden(&mut self, field: ReportField, hide: bool) -> bool {
        if hide {
            if self.is_hidden(field) {
                return true;
            }
            if self.visible().len() <= 1 {
                return false;
            }
            self.hidden.push(field);
        } else {
            self.hidden.retain(|f| *f != field);
        }
        true
    }
}

/// Writes visible columns as the `cols` URL value.
pub fn encode_columns(columns: &[ReportField]) -> String {
    columns
        .iter()
        .map(|field| field.key())
        .collect::<Vec<_>>()
        .join(",")
}

/// The first field `fields` lists a second time, if any.
pub fn listed_twice(fields: &[ReportField]) -> Option<ReportField> {
    fields
        .iter()
        .enumerate()
        .find_map(|(at, field)| fields[..at].contains(field).then_some(*field))
}

/// Reads a `cols` URL value: known fields, each at most once, at least one.
pub fn decode_columns(text: &str) -> Result<Vec<ReportField>, QueryError> {
    if text.is_empty() {
        return Err(QueryError::new("cols", "list at least one column"));
    }
    let columns = text
        .split(',')
        .map(|key| {
            ReportField::from_key(key)
                .ok_or_else(|| QueryError::new("cols", format!("unknown column '{key}'")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(twice) = listed_twice(&columns) {
        return Err(QueryError::new(
            "cols",
            format!("column '{}' is listed twice", twice.key()),
        ));
    }
    Ok(columns)
}

/// Everything a report link carries: the saved view it started from, the rows (query) and the
/// columns. `columns: None` means "the admin's own column layout".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportLink {
    pub view: Option<i64>,
    pub query: ReportQuery,
    pub columns: Option<Vec<ReportField>>,
}

impl ReportLink {
    /// Reads a link from a URL query string (a leading `?` is ignored).
    pub fn from_query_string(search: &str) -> Result<ReportLink, QueryError> {
        let pairs = super::decode_pairs(search.trim_start_matches('?'))?;
        ReportLink::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Reads a link from decoded query pairs; unknown keys are ignored.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Result<ReportLink, QueryError> {
        let query = ReportQuery::from_pairs(pairs.clone())?;
        let mut link = ReportLink {
            query,
            ..ReportLink::default()
        };
        for (key, value) in pairs {
            match key {
                "cols" => link.columns = Some(decode_columns(value)?),
                "view" => {
                    link.view = Some(value.parse().map_err(|_| {
                        QueryError::new("view", format!("'{value}' is not a view id"))
                    })?)
                }
                _ => {}
            }
        }
        Ok(link)
    }

    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        if let Some(view) = self.view {
            pairs.push(("view".to_owned(), view.to_string()));
        }
        pairs.extend(self.query.to_pairs());
        if let Some(columns) = &self.columns {
            pairs.push(("cols".to_owned(), encode_columns(columns)));
        }
        pairs
    }

    pub fn to_query_string(&self) -> String {
        super::query::encode_pairs(&self.to_pairs())
    }
}

/// The file formats of a report export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// RFC 4180 CSV, UTF-8, a header row of the report's column labels.
    Csv,
    /// One JSON array of objects keyed by field keys, in column order.
    Json,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 2] = [ExportFormat::Csv, ExportFormat::Json];

    pub fn key(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::Csv => "CSV",
            ExportFormat::Json => "JSON",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Json => "application/json",
        }
    }

    pub fn from_key(key: &str) -> Option<ExportFormat> {
        Self::ALL.into_iter().find(|format| format.key() == key)
    }
}

/// A named arrangement of the report: its query and columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// Display name of the admin who saved it.
    pub owner_name: String,
    /// Only the owner may change or delete a view; others may use a shared one.
    pub owned: bool,
    /// Visible to the other admins of the same MSP (or the same customer).
    pub shared: bool,
    /// The query in its URL encoding (`filter`, `plan`, `sort`).
    pub query: String,
    /// Visible columns in display order.
    pub columns: Vec<ReportField>,
    pub updated_at: DateTime<Utc>,
}

/// The views an admin may use, and which one opens the report by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedViewList {
    pub views: Vec<SavedView>,
    pub default_view: Option<i64>,
}

/// Creates a view, or replaces one the caller owns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaveViewRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::name_80))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::report_query_string))]
    pub query: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::view_columns))]
    pub columns: Vec<ReportField>,
    #[serde(default)]
    pub shared: bool,
}

/// Picks the view that opens the report, or none for the plain report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DefaultViewRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::optional_id))]
    pub view_id: Option<i64>,
}

/// Longest view name, in characters.
pub const MAX_VIEW_NAME_CHARS: usize = 80;

#[cfg(test)]
mod tests {
    use super::*;
    use ReportField::*;

    #[test]
    fn moving_a_visible_column_keeps_hidden_ones_in_their_slots() {
        let mut layout = ColumnLayout::default();
        assert!(layout.set_hidden(AccountName, true));
        layout.move_visible(UserEmail, 0);
        assert_eq!(
            layout.visible()[..4],
            [UserEmail, GlobalCustomerId, CustomerName, UserName]
        );
        assert_eq!(
            layout.order[2], AccountName,
            "the hidden column kept its slot"
        );
        layout.move_visible(UserEmail, 99);
        assert_eq!(layout.visible().last(), Some(&UserEmail));
        assert!(layout.check().is_ok());
    }

    #[test]
    fn the_last_visible_column_cannot_be_hidden() {
        let mut layout = ColumnLayout::from_visible(&[UserName, UserEmail]);
        assert!(layout.set_hidden(UserName, true));
        assert!(!layout.set_hidden(UserEmail, true));
        assert_eq!(layout.visible(), vec![UserEmail]);
        assert!(layout.set_hidden(Profile, false));
        assert_eq!(layout.visible(), vec![UserEmail, Profile]);
    }

    #[test]
    fn check_refuses_missing_duplicated_or_all_hidden_fields() {
        let mut layout = ColumnLayout::default();
        layout.order.pop();
        assert_eq!(layout.check().expect_err("refused").parameter, "order");
        let mut layout = ColumnLayout::default();
        layout.order.push(UserName);
        assert!(layout.check().is_err());
        let layout = ColumnLayout {
            order: ReportField::ALL.to_vec(),
            hidden: ReportField::ALL.to_vec(),
        };
        assert_eq!(layout.check().expect_err("refused").parameter, "hidden");
    }

    #[test]
    fn links_round_trip_view_query_and_columns() {
        let link = ReportLink {
            view: Some(7),
            query: ReportQuery::from_pairs([("sort", "-user_email"), ("plan", "Elite")])
                .expect("valid query"),
            columns: Some(vec![UserEmail, CustomerName]),
        };
        let text = link.to_query_string();
        assert_eq!(
            text,
            "view=7&plan=Elite&sort=-user_email&cols=user_email%2Ccustomer_name"
        );
        let pairs = super::super::query::decode_pairs(&text).expect("decodes");
        let back = ReportLink::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .expect("parses");
        assert_eq!(back, link);
    }

    #[test]
    fn bad_columns_name_the_parameter() {
        assert_eq!(
            decode_columns("user_email,nope")
                .expect_err("refused")
                .parameter,
            "cols"
        );
        assert!(decode_columns("user_email,user_email").is_err());
        assert!(decode_columns("").is_err());
        assert!(ReportLink::from_pairs([("view", "x")]).is_err());
    }
}
