//! The User Provisioning report: its fields, query model, rows, facets, column layouts, saved
//! views and exports.

mod fields;
mod layout;
mod query;
mod rows;

pub use fields::{FieldKind, Operator, ReportField};
pub use layout::{
    decode_columns, encode_columns, listed_twice, ColumnLayout, DefaultViewRequest, ExportFormat,
    ReportLink, SaveViewRequest, SavedView, SavedViewList, MAX_VIEW_NAME_CHARS,
};
pub use query::{
    decode_pairs, encode_pairs, Direction, Filter, Operand, QueryError, ReportQuery, Sort,
    MAX_ANY_OF_VALUES, MAX_FILTERS,
};
pub use rows::{FacetValue, ReportFacets, ReportPage, ReportRow, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
