//! The report's state in the address bar: filters, service plans, sort, and (when they differ
//! from the admin's own layout) the columns and the saved view. A copied link reopens the same
//! view; Back and Forward step through changes.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use provisio_api::report::{QueryError, ReportLink, ReportQuery, SavedView};

/// Reads the report link (view, query, columns) from the address bar's query string.
fn link_from_search(search: &str) -> Result<ReportLink, QueryError> {
    ReportLink::from_query_string(search)
}

/// The link that opens a saved view.
pub fn link_to_view(view: &SavedView) -> ReportLink {
    ReportLink {
        view: Some(view.id),
        query: link_from_search(&view.query)
            .map(|link| link.query)
            .unwrap_or_default(),
        columns: Some(view.columns.clone()),
    }
}

#[derive(Clone, Copy)]
pub struct ReportAddress {
    /// What the address says; the full report when it cannot be read.
    pub link: Memo<ReportLink>,
    pub query: Memo<ReportQuery>,
    /// Why the address could not be read, when it could not.
    pub error: Memo<Option<String>>,
    go: Callback<(ReportLink, bool)>,
}

impl ReportAddress {
    /// Goes to `next`, a new entry in the history.
    pub fn open(self, next: ReportLink) {
        self.go.run((next, false));
    }

    /// Goes to `next` in place of the current entry.
    pub fn replace(self, next: ReportLink) {
        self.go.run((next, true));
    }

    pub fn set_query(self, next: ReportQuery) {
        let mut link = self.link.get_untracked();
        link.query = next;
        self.open(link);
    }

    pub fn edit_query(self, edit: impl FnOnce(&mut ReportQuery)) {
        let mut next = self.query.get_untracked();
        edit(&mut next);
        self.set_query(next);
    }
}

pub fn use_report_address() -> ReportAddress {
    let location = use_location();
    let parsed = Memo::new(move |_| link_from_search(&location.search.get()));
    let link = Memo::new(move |_| parsed.get().unwrap_or_default());
    let navigate = use_navigate();
    let go = Callback::new(move |(next, replace): (ReportLink, bool)| {
        let search = next.to_query_string();
        let path = if search.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{search}")
        };
        navigate(
            &path,
            NavigateOptions {
                scroll: false,
                replace,
                ..Default::default()
            },
        );
    });
    ReportAddress {
        link,
        query: Memo::new(move |_| link.with(|l| l.query.clone())),
        error: Memo::new(move |_| parsed.get().err().map(|err| err.message)),
        go,
    }
}
