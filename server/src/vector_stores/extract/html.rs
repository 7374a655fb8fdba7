//! HTML: the text without tags, scripts, styles and the common entities.

/// Extensions whose tags are stripped.
pub(super) const HTML_EXTENSIONS: &[&str] = &["html", "htm", "xhtml"];

/// HTML without tags, scripts, styles and the common entities; tags become spaces so
/// words on either side stay apart.
pub fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        let lower = tag.get(..8).unwrap_or(tag).to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            find_ci(tag, "</script>").map(|i| i + "</script>".len())
        } else if lower.starts_with("<style") {
            find_ci(tag, "</style>").map(|i| i + "</style>".len())
        } else {
            tag.find('>').map(|i| i + 1)
        };
        out.push(' ');
        match skip_to {
            Some(end) => rest = &tag[end..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    decode_entities(&out)
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().find(needle)
}

fn decode_entities(text: &str) -> String {
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_loses_tags_scripts_and_entities() {
        let text = strip_tags("<p>Tom&amp;Jerry</p><script>x()</script><b>cat</b>");
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            ["Tom&Jerry", "cat"]
        );
    }
}
