//! The audit pages' filters: who, what, outcome and a date range, kept in the page's query string
//! so a filtered view can be bookmarked, shared and paged through, and works before the WASM loads.

use crate::model::{parse_date_utc, AuditFilter, AUDIT_ACTION_GROUPS, AUDIT_OUTCOMES};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

/// The filter and page the query string asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub who: String,
    pub what: String,
    pub outcome: String,
    /// Dates as typed (`2026-11-30`), both ends inclusive.
    pub from: String,
    pub to: String,
    pub older_than: Option<i64>,
}

const DAY_MS: i64 = 86_400_000;

impl AuditQuery {
    fn from_params(params: &ParamsMap) -> AuditQuery {
        let text = |key: &str| params.get(key).map(|v| v.trim().to_string()).unwrap_or_default();
        AuditQuery {
            who: text("who"),
            what: text("what"),
            outcome: text("outcome"),
            from: text("from"),
            to: text("to"),
            older_than: params.get("older_than").and_then(|v| v.parse().ok()),
        }
    }

    /// What the server narrows by. A date that does not parse narrows nothing (the date picker
    /// cannot produce one; only a hand-edited address can).
    pub fn filter(&self) -> AuditFilter {
        let text = |v: &str| (!v.is_empty()).then(|| v.to_string());
        AuditFilter {
            who: text(&self.who),
            what: text(&self.what),
            outcome: text(&self.outcome),
            from: parse_date_utc(&self.from),
            // The end date is inclusive: entries before the next day's start.
            to: parse_date_utc(&self.to).map(|day| day + DAY_MS),
        }
    }

    pub fn is_filtered(&self) -> bool {
        !self.filter().is_empty()
    }

    /// The query string of this filter on another page (`older_than`), or on the first page.
    pub fn href(&self, older_than: Option<i64>) -> String {
        let pairs = [
            ("who", self.who.clone()),
            ("what", self.what.clone()),
            ("outcome", self.outcome.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("older_than", older_than.map(|seq| seq.to_string()).unwrap_or_default()),
        ];
        let query: Vec<String> = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| format!("{key}={}", encode_query_value(value)))
            .collect();
        format!("?{}", query.join("&"))
    }
}

/// Percent-encodes a query value (everything but unreserved characters), by hand: a URL crate in
/// the browser build would cost more WASM than these lines.
fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The current page's audit query, following the address.
pub fn use_audit_query() -> Memo<AuditQuery> {
    let query = use_query_map();
    Memo::new(move |_| query.with(AuditQuery::from_params))
}

/// The filter form: a plain GET form, so applying it is a navigation to the filtered address.
#[component]
pub fn AuditFilters(query: AuditQuery) -> impl IntoView {
    let filtered = query.is_filtered();
    view! {
        <form method="get" class="filters" data-testid="audit-filters" role="search"
            aria-label="Filter the audit entries">
            <label>
                "Who"
                <input type="search" name="who" value=query.who.clone() placeholder="email"
                    autocomplete="off" data-testid="audit-filter-who"/>
            </label>
            <label>
                "What"
                <select name="what" data-testid="audit-filter-what">
                    <option value="" selected=query.what.is_empty()>"Anything"</option>
                    {AUDIT_ACTION_GROUPS.iter().map(|(group, label)| view! {
                        <option value=*group selected=query.what == *group>{*label}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Outcome"
                <select name="outcome" data-testid="audit-filter-outcome">
                    <option value="" selected=query.outcome.is_empty()>"Any"</option>
                    {AUDIT_OUTCOMES.iter().map(|outcome| view! {
                        <option value=*outcome selected=query.outcome == *outcome>{*outcome}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "From"
                <input type="date" name="from" value=query.from.clone() data-testid="audit-filter-from"/>
            </label>
            <label>
                "To"
                <input type="date" name="to" value=query.to.clone() data-testid="audit-filter-to"/>
            </label>
            <div class="filter-actions">
                <button type="submit" data-testid="audit-filter-apply">"Filter"</button>
                {filtered.then(|| view! {
                    <a class="button secondary" href="?" data-testid="audit-filter-clear">"Clear"</a>
                })}
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_survives_paging_and_dates_are_inclusive() {
        let query = AuditQuery {
            who: "ada lovelace&co".into(),
            what: "secret".into(),
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
            ..AuditQuery::default()
        };
        assert_eq!(
            query.href(Some(42)),
            "?who=ada%20lovelace%26co&what=secret&from=2026-11-01&to=2026-11-30&older_than=42"
        );
        assert_eq!(AuditQuery::default().href(None), "?");
        let filter = query.filter();
        assert_eq!(filter.from, parse_date_utc("2026-11-01"));
        assert_eq!(filter.to, parse_date_utc("2026-12-01"), "the end date's whole day is in");
        assert!(query.is_filtered());
        assert!(!AuditQuery { from: "not a date".into(), ..AuditQuery::default() }.is_filtered());
    }
}
