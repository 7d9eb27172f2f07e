//! The web console of `loadlake serve --http`: static pages (`console/`, compiled in) that
//! read the JSON API ([`crate::api`]) from the browser. With a token, the pages and their
//! scripts need it as the API does (the console's login cookie, `console_auth.rs`); without
//! it they lead to `/login`, which with the stylesheet is all that is open.
//!
//! `/` lists runs (filters, paging, links), `/runs/{run_id}` shows a run's outline, its curve
//! (uPlot, vendored in crates/report) and details, in ms or (`?resolution=us`) µs; a detail row
//! drills down to its own curve;
//! `/sql` runs one read-only statement (`POST /api/v1/sql`) and shows its rows; `/compare?base=…&target=…`
//! shows `GET /api/v1/compare` (two runs picked on the runs page) and `/trend?name=…` shows
//! `GET /api/v1/trend` as a chart and a table (a run's name on the runs page leads there).

use axum::Router;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::auth::BearerCheck;

const INDEX_HTML: &str = include_str!("../console/index.html");
const RUN_HTML: &str = include_str!("../console/run.html");
const SQL_HTML: &str = include_str!("../console/sql.html");
const COMPARE_HTML: &str = include_str!("../console/compare.html");
const TREND_HTML: &str = include_str!("../console/trend.html");
const ACROSS_JS: &str = include_str!("../console/across.js");
const CONSOLE_JS: &str = include_str!("../console/console.js");
const RUN_JS: &str = include_str!("../console/run.js");
const CONSOLE_CSS: &str = include_str!("../console/console.css");

/// A compiled-in file with its content type; pages are not cached, so a new server version
/// is seen at the next load.
fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

/// The console's routes (merged next to `/api/v1`): the pages and scripts behind `check`
/// (to the login page without the token), the login and the stylesheet open.
pub(crate) fn router<S: Clone + Send + Sync + 'static>(check: BearerCheck) -> Router<S> {
    let open = Router::new()
        .route(
            "/console/console.css",
            get(|| async { file("text/css; charset=utf-8", CONSOLE_CSS) }),
        )
        .merge(crate::console_auth::router(check.clone()));
    Router::new()
        .route(
            "/",
            get(|| async { file("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/runs/{run_id}",
            get(|| async { file("text/html; charset=utf-8", RUN_HTML) }),
        )
        .route(
            "/sql",
            get(|| async { file("text/html; charset=utf-8", SQL_HTML) }),
        )
        .route(
            "/compare",
            get(|| async { file("text/html; charset=utf-8", COMPARE_HTML) }),
        )
        .route(
            "/trend",
            get(|| async { file("text/html; charset=utf-8", TREND_HTML) }),
        )
        .route(
            "/console/across.js",
            get(|| async { file("text/javascript; charset=utf-8", ACROSS_JS) }),
        )
        .route(
            "/console/console.js",
            get(|| async { file("text/javascript; charset=utf-8", CONSOLE_JS) }),
        )
        .route(
            "/console/run.js",
            get(|| async { file("text/javascript; charset=utf-8", RUN_JS) }),
        )
        .route(
            "/console/uPlot.iife.min.js",
            get(|| async {
                file(
                    "text/javascript; charset=utf-8",
                    loadlake_report::html::UPLOT_JS,
                )
            }),
        )
        .route(
            "/console/uPlot.min.css",
            get(|| async { file("text/css; charset=utf-8", loadlake_report::html::UPLOT_CSS) }),
        )
        .route_layer(middleware::from_fn_with_state(
            check,
            crate::console_auth::guard_page,
        ))
        .merge(open)
}
