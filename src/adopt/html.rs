//! The report as one self-contained HTML page: inline CSS and script, the report's JSON
//! embedded as data, a coverage bar chart and sortable tables built in the browser. No
//! external resources. The script logs `stackwire-report-ok` once everything is built.

use super::Report;

const TEMPLATE: &str = include_str!("report.html");

/// Escape text for HTML content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JSON that is safe inside `<script type="application/json">`: no `<`, `>` or `&` that could
/// close the element or open a comment.
fn script_json(report: &Report) -> String {
    serde_json::to_string(report)
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The HTML page.
pub(crate) fn page(report: &Report) -> String {
    TEMPLATE
        .replacen("__TITLE__", &escape(&report.stack), 1)
        .replacen("__DATA__", &script_json(report), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adopt::{Coverage, Summary};

    #[test]
    fn data_cannot_close_the_script() {
        let report = Report {
            version: 1,
            stack: "<dev>".into(),
            summary: Summary::default(),
            coverage: Coverage::default(),
            objects: Vec::new(),
            waves: Vec::new(),
            exclusions: Vec::new(),
            elsewhere: Vec::new(),
            provider: None,
            sources: vec!["</script><script>alert(1)</script>".into()],
            state: String::new(),
            notes: Vec::new(),
        };
        let html = page(&report);
        assert!(html.contains("<title>stackwire adopt: &lt;dev&gt;</title>"));
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "only the page's own scripts close"
        );
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    }
}
