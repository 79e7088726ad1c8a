use crate::components::ErrorPanel;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Title text="Not found · Strongroom"/>
        <ErrorPanel error=AppError::NotFound("There is no page at this address.".into())/>
    }
}
