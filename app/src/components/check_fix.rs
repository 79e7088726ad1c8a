//! The "how to fix it" of a failed Check, shown as its sentences with each JSON document in it
//! (an IAM policy, a trust policy) folded under its heading with a Copy button of its own, rather
//! than one long block where the policies are hard to tell apart and to copy one at a time.

use super::clipboard::copy_node_text;
use leptos::html::Pre;
use leptos::prelude::*;

/// A part of a fix text: words to read, or a JSON document to copy (with the line before it as
/// its title).
#[derive(Debug, Clone, PartialEq)]
pub enum FixPart {
    Text(String),
    Document { title: String, body: String },
}

/// Splits a fix text into its sentences and its JSON documents: a document starts at a line that
/// begins with `{` and ends where its braces balance (braces inside strings are counted too,
/// which the policies Strongroom writes never contain).
pub fn split_fix(text: &str) -> Vec<FixPart> {
    let mut parts = Vec::new();
    let mut words: Vec<&str> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.trim_start().starts_with('{') {
            words.push(line);
            continue;
        }
        let mut body = vec![line];
        let mut depth = braces(line);
        while depth > 0 {
            let Some(next) = lines.next() else { break };
            depth += braces(next);
            body.push(next);
        }
        // The title is the last line of words before the document.
        while words.last().is_some_and(|l| l.trim().is_empty()) {
            words.pop();
        }
        let title = words.pop().map(|l| l.trim().trim_end_matches(':').to_string()).unwrap_or_default();
        push_text(&mut parts, &words);
        words.clear();
        let title = if title.is_empty() { "Policy".to_string() } else { title };
        parts.push(FixPart::Document { title, body: body.join("\n") });
    }
    push_text(&mut parts, &words);
    parts
}

fn braces(line: &str) -> i32 {
    line.chars()
        .map(|c| match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        })
        .sum()
}

fn push_text(parts: &mut Vec<FixPart>, lines: &[&str]) {
    let text = lines.join("\n").trim().to_string();
    if !text.is_empty() {
        parts.push(FixPart::Text(text));
    }
}

/// The fix, rendered: sentences as paragraphs, each document collapsed with a Copy button.
#[component]
pub fn CheckFix(text: String) -> impl IntoView {
    split_fix(&text)
        .into_iter()
        .map(|part| match part {
            FixPart::Text(text) => view! { <p class="fix-text">{text}</p> }.into_any(),
            FixPart::Document { title, body } => view! { <FixDocument title body/> }.into_any(),
        })
        .collect_view()
}

#[component]
pub fn FixDocument(title: String, body: String) -> impl IntoView {
    let pre = NodeRef::<Pre>::new();
    let copied = RwSignal::new(None::<bool>);
    view! {
        <details class="fix-document" data-testid="fix-document">
            <summary>{title}</summary>
            <button type="button" data-testid="copy-fix"
                on:click=move |_| {
                    if let Some(node) = pre.get() {
                        copied.set(Some(copy_node_text(node.as_ref())));
                    }
                }>"Copy"</button>
            {move || copied.get().map(|ok| view! {
                <span class="hint" role="status">
                    {if ok { "Copied to the clipboard." } else { "Selected: press Ctrl+C (⌘C)." }}
                </span>
            })}
            <pre node_ref=pre class="fix">{body}</pre>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_is_a_document_titled_by_the_line_before_it() {
        let text = "Attach these IAM policies, then run the check again.\n\n\
                    1. To the user:\n{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\"}]\n}\n\n\
                    2. To the role:\n{ \"Version\": \"2012-10-17\" }\nDone.";
        let parts = split_fix(text);
        assert_eq!(parts.len(), 4, "{parts:?}");
        assert_eq!(parts[0], FixPart::Text("Attach these IAM policies, then run the check again.".into()));
        let FixPart::Document { title, body } = &parts[1] else { panic!("{parts:?}") };
        assert_eq!(title, "1. To the user");
        assert!(body.starts_with('{') && body.ends_with('}'), "{body}");
        assert!(serde_json::from_str::<serde_json::Value>(body).is_ok(), "{body}");
        assert_eq!(
            parts[2],
            FixPart::Document {
                title: "2. To the role".into(),
                body: "{ \"Version\": \"2012-10-17\" }".into()
            }
        );
        assert_eq!(parts[3], FixPart::Text("Done.".into()));
    }

    #[test]
    fn a_fix_without_documents_is_its_words() {
        assert_eq!(split_fix("chmod 0700 /scratch\n"), vec![FixPart::Text("chmod 0700 /scratch".into())]);
        assert!(split_fix("").is_empty());
    }
}
