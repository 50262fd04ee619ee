//! `GET /`: a page that posts a prompt with `fetch` (a POST, which
//! `EventSource` cannot make), reads the event stream from the response
//! body, renders the answer as it arrives, and can stop it.

use axum::extract::State;
use axum::response::Html;

use crate::Llm;

const PAGE: &str = include_str!("page.html");

/// The page, its model field set to the server's default model.
pub(crate) async fn page(State(llm): State<Llm>) -> Html<String> {
    Html(PAGE.replace("{{MODEL}}", &escape(llm.default_model())))
}

/// `text` made safe inside an HTML attribute value.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape() {
        assert_eq!(super::escape(r#"a"<b>&'"#), "a&quot;&lt;b&gt;&amp;&#39;");
    }
}
