//! Reusable pieces of the UI.

pub mod data_table;
pub mod facet_checklist;
pub mod filter_bar;
pub mod filter_editor;
pub mod multi_select;
