//! Rows that arrive a page at a time, for the report and the provisioning log: the first page
//! loads whenever the query changes (a `LocalResource`, so `<Transition>` shows it), further
//! pages as the table nears their end (an `Action`); a page answering an earlier query is
//! dropped.

use std::future::Future;

use leptos::prelude::*;
use provisio_api::provisioning::{EventPage, EventRow};
use provisio_api::report::{ReportPage, ReportRow};

use crate::api::ApiFailure;

/// One page of a paged list, as the API answers it.
pub trait Page: Clone + Send + Sync + 'static {
    type Row: Clone + PartialEq + Send + Sync + 'static;
    fn into_rows(self) -> Vec<Self::Row>;
    /// Given with the first page only.
    fn total(&self) -> Option<u64>;
    fn next_cursor(&self) -> Option<String>;
}

macro_rules! page {
    ($page:ty, $row:ty) => {
        impl Page for $page {
            type Row = $row;
            fn into_rows(self) -> Vec<$row> {
                self.rows
            }
            fn total(&self) -> Option<u64> {
                self.total
            }
            fn next_cursor(&self) -> Option<String> {
                self.next_cursor.clone()
            }
        }
    };
}

page!(ReportPage, ReportRow);
page!(EventPage, EventRow);

pub struct PagedRows<P: Page> {
    /// The first page: await it inside `<Transition>`; refetch to load afresh.
    pub first: LocalResource<Result<P, ApiFailure>>,
    /// The first page of the current query is on its way (the rows are an earlier query's, or
    /// none).
    pub loading: Memo<bool>,
    /// Why the current query's first page could not be loaded.
    pub failed: Memo<Option<String>>,
    /// Every row loaded so far, in order.
    pub rows: Memo<Vec<P::Row>>,
    pub total: Memo<Option<u64>>,
    pub loading_more: Signal<bool>,
    pub more_failed: Memo<Option<String>>,
    /// Loads the next page, unless one is loading or none is left.
    pub load_more: Callback<()>,
}

impl<P: Page> Clone for PagedRows<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: Page> Copy for PagedRows<P> {}

/// The pages of `query`, each fetched by `fetch(query, cursor)`.
pub fn use_paged_rows<Q, P, F, Fut>(query: Memo<Q>, fetch: F) -> PagedRows<P>
where
    Q: Clone + PartialEq + Send + Sync + 'static,
    P: Page,
    F: Fn(Q, Option<String>) -> Fut + Copy + 'static,
    Fut: Future<Output = Result<P, ApiFailure>> + 'static,
{
    // The query each first page answered, so the rows on screen are known to be current or not.
    let answered = RwSignal::new(None::<Q>);
    let first = LocalResource::new(move || {
        let asked = query.get();
        let page = fetch(asked.clone(), None);
        async move {
            let page = page.await;
            answered.set(Some(asked));
            page
        }
    });
    let loading =
        Memo::new(move |_| answered.with(|answered| query.with(|q| answered.as_ref() != Some(q))));
    let failed = Memo::new(move |_| match first.get() {
        Some(Err(failure)) if !loading.get() => Some(failure.message),
        _ => None,
    });
    let later = RwSignal::new(Vec::<P::Row>::new());
    let next = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(page)) = first.get() {
            later.set(vec![]);
            next.set(page.next_cursor());
        }
    });
    let more = Action::new_local(move |cursor: &String| {
        let asked = query.get_untracked();
        let page = fetch(asked.clone(), Some(cursor.clone()));
        async move { (asked, page.await) }
    });
    Effect::new(move |_| {
        if let Some((asked, Ok(page))) = more.value().get() {
            if asked == query.get_untracked() {
                next.set(page.next_cursor());
                later.update(|rows| rows.extend(page.into_rows()));
            }
        }
    });
    let rows = Memo::new(move |_| {
        let mut rows = match first.get() {
            Some(Ok(page)) => page.into_rows(),
            _ => vec![],
        };
        later.with(|more| rows.extend(more.iter().cloned()));
        rows
    });
    let total = Memo::new(move |_| match first.get() {
        Some(Ok(page)) => page.total(),
        _ => None,
    });
    let more_failed = Memo::new(move |_| match more.value().get() {
        Some((_, Err(failure))) => Some(failure.message),
        _ => None,
    });
    let load_more = Callback::new(move |()| {
        if more.pending().get_untracked() {
            return;
        }
        if let Some(cursor) = next.get_untracked() {
            more.dispatch(cursor);
        }
    });
    PagedRows {
        first,
        loading,
        failed,
        rows,
        total,
        loading_more: more.pending().into(),
        more_failed,
        load_more,
    }
}
