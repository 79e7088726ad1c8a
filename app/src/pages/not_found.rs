use crate::components::ErrorPanel;
use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! { <ErrorPanel error=AppError::NotFound("There is no page at this address.".into())/> }
}
