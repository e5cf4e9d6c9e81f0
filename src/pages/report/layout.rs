//! Which columns the report shows, in which order. Without `cols` in the address the table
//! shows the admin's own layout, kept on the server; with them (a view, a shared link)
//! rearranging edits the address instead.

use leptos::prelude::*;
use provisio_api::report::{ColumnLayout, ReportField};

use super::address::ReportAddress;
use crate::api;

#[derive(Clone, Copy)]
pub struct ColumnLayoutState {
    /// None until the admin's own layout has loaded, so the default order never flashes.
    pub layout: Memo<Option<ColumnLayout>>,
    /// Whether a layout is there: the table is built once it is, and not rebuilt (losing
    /// focus and scroll position) when columns move.
    pub ready: Memo<bool>,
    pub columns: Signal<Vec<ReportField>>,
    pub error: Signal<Option<String>>,
    pub on_change: Callback<ColumnLayout>,
    pub on_move: Callback<(ReportField, usize)>,
    pub on_hide: Callback<ReportField>,
    pub on_reset: Callback<()>,
}

pub fn use_column_layout(address: ReportAddress) -> ColumnLayoutState {
    let loaded = LocalResource::new(api::report_layout);
    let own = RwSignal::new(None::<ColumnLayout>);
    let load_error = RwSignal::new(None::<String>);
    Effect::new(move |_| match loaded.get() {
        Some(Ok(layout)) => own.set(Some(layout)),
        Some(Err(failure)) => {
            load_error.set(Some(format!(
                "Your column layout could not be loaded ({failure}); showing the default."
            )));
            own.set(Some(ColumnLayout::default()));
        }
        None => {}
    });
    let save = Action::new_local(|layout: &ColumnLayout| {
        let layout = layout.clone();
        async move { api::save_report_layout(&layout).await }
    });
    let reset = Action::new_local(|()| api::reset_report_layout());
    let error = Signal::derive(move || {
        if let Some(Err(failure)) = save.value().get() {
            return Some(format!("Your column layout could not be saved: {failure}"));
        }
        if let Some(Err(failure)) = reset.value().get() {
            return Some(format!("Your column layout could not be reset: {failure}"));
        }
        load_error.get()
    });

    let layout = Memo::new(move |_| match address.link.with(|l| l.columns.clone()) {
        Some(columns) => Some(ColumnLayout::from_visible(&columns)),
        None => own.get(),
    });
    let on_change = Callback::new(move |next: ColumnLayout| {
        if address.link.with_untracked(|l| l.columns.is_some()) {
            let mut moved = address.link.get_untracked();
            moved.columns = Some(next.visible());
            address.open(moved);
            return;
        }
        own.set(Some(next.clone()));
        save.dispatch(next);
    });
    let edit = move |edit: &dyn Fn(&mut ColumnLayout)| {
        let mut next = layout.get_untracked().unwrap_or_default();
        edit(&mut next);
        on_change.run(next);
    };
    ColumnLayoutState {
        layout,
        ready: Memo::new(move |_| layout.with(Option::is_some)),
        columns: Signal::derive(move || {
            layout.with(|l| l.as_ref().map(ColumnLayout::visible).unwrap_or_default())
        }),
        error,
        on_change,
        on_move: Callback::new(move |(field, to): (ReportField, usize)| {
            edit(&|l| l.move_visible(field, to))
        }),
        on_hide: Callback::new(move |field: ReportField| {
            edit(&|l| {
                l.set_hidden(field, true);
            })
        }),
        on_reset: Callback::new(move |()| {
            if address.link.with_untracked(|l| l.columns.is_some()) {
                let mut plain = address.link.get_untracked();
                plain.columns = None;
                address.open(plain);
            }
            own.set(Some(ColumnLayout::default()));
            reset.dispatch(());
        }),
    }
}
