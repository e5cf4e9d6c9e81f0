//! The admin's saved views. A bare report address opens their default view, if they chose one.

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use provisio_api::report::{ReportLink, SavedView, SavedViewList};

use super::address::{link_to_view, ReportAddress};
use crate::api;

#[derive(Clone, Copy)]
pub struct SavedViews {
    /// None while loading; the view bar updates it as views are saved and deleted.
    pub list: RwSignal<Option<SavedViewList>>,
    /// Whether the table may show: a bare address waits until the default view is known.
    pub settled: Signal<bool>,
    pub on_open: Callback<Option<SavedView>>,
}

pub fn use_saved_views(address: ReportAddress) -> SavedViews {
    let opened_bare = use_location()
        .search
        .get_untracked()
        .trim_start_matches('?')
        .is_empty();
    let loaded = LocalResource::new(api::saved_views);
    let list = RwSignal::new(None::<SavedViewList>);
    let settled = RwSignal::new(!opened_bare);
    Effect::new(move |_| {
        let Some(answer) = loaded.get() else {
            return;
        };
        let views = answer.ok();
        if opened_bare && !settled.get_untracked() {
            let default = views.as_ref().and_then(|views| {
                let id = views.default_view?;
                views.views.iter().find(|v| v.id == id).cloned()
            });
            if let Some(view) = default {
                address.replace(link_to_view(&view));
            }
        }
        list.set(views);
        settled.set(true);
    });
    SavedViews {
        list,
        settled: settled.into(),
        on_open: Callback::new(move |view: Option<SavedView>| match view {
            Some(view) => address.open(link_to_view(&view)),
            None => address.open(ReportLink::default()),
        }),
    }
}
