//! A time in a table: relative ("updated 3 minutes ago") where people scan, with the exact time
//! (UTC) on hover and in the `datetime` attribute for assistive technology; on one line.

use crate::model::{format_relative, format_timestamp, format_timestamp_rfc3339};
use leptos::prelude::*;

/// Now, in ms since the epoch, on whichever side renders.
fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::prelude::*;
        #[wasm_bindgen]
        extern "C" {
            #[wasm_bindgen(js_namespace = Date, js_name = now)]
            fn date_now() -> f64;
        }
        date_now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

#[component]
pub fn Timestamp(at: i64) -> impl IntoView {
    view! {
        <time class="timestamp" datetime=format_timestamp_rfc3339(at) title=format_timestamp(at)>
            {format_relative(at, now_ms())}
        </time>
    }
}
