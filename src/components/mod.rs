//! Reusable pieces of the UI.

pub mod bulk_actions;
pub mod column_panel;
pub mod copy_field;
pub mod customer_picker;
pub mod data_table;
pub mod export_menu;
pub mod facet_checklist;
pub mod filter_bar;
pub mod filter_editor;
pub mod multi_select;
pub mod placement_form;
pub mod schedule_fields;
pub mod states;
pub mod subscription_form;
pub mod subscription_panel;
pub mod view_bar;
