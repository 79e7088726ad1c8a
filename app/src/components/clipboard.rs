//! Copying a block of text (a command, an IAM policy) to the clipboard from a Copy button.

/// Selects the contents of `node` and copies the selection to the clipboard. `execCommand` works
/// synchronously and outside secure contexts too, where `navigator.clipboard` is missing; when it
/// fails the text stays selected, for Ctrl+C.
#[cfg(feature = "hydrate")]
pub fn copy_node_text(node: &leptos::wasm_bindgen::JsValue) -> bool {
    use wasm_bindgen::prelude::*;
    #[wasm_bindgen]
    extern "C" {
        type Selection;
        #[wasm_bindgen(js_namespace = window, js_name = getSelection)]
        fn get_selection() -> Option<Selection>;
        #[wasm_bindgen(method, js_name = selectAllChildren)]
        fn select_all_children(this: &Selection, node: &JsValue);
        #[wasm_bindgen(catch, js_namespace = document, js_name = execCommand)]
        fn exec_command(command: &str) -> Result<bool, JsValue>;
    }
    let Some(selection) = get_selection() else { return false };
    selection.select_all_children(node);
    exec_command("copy").unwrap_or(false)
}

#[cfg(not(feature = "hydrate"))]
pub fn copy_node_text(_node: &leptos::wasm_bindgen::JsValue) -> bool {
    false
}
