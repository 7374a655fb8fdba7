//! Source markers and citations: search results go to the model as text headed by
//! `【n:m†filename】` markers (`n` numbers the run's searches, `m` the result), and the
//! markers the answer repeats become `file_citation` annotations whose indices count
//! characters (Unicode scalar values), as OpenAI counted them.

use serde_json::{json, Value};

/// The run's search results the answer may cite: `searches[n][m]` is `(file_id, file_name)`.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Per search of the run (in step order), its results' file id and name.
    pub searches: Vec<Vec<(String, String)>>,
}

impl Sources {
    /// The sources of the completed file_search calls among a run's step details.
    pub fn of_steps<'a>(step_details: impl Iterator<Item = &'a Value>) -> Self {
        let searches = step_details
            .flat_map(|details| {
                details["tool_calls"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|call| call["type"] == "file_search")
            .map(|call| {
                call["file_search"]["results"]
                    .as_array()
                    .map(|results| {
                        results
                            .iter()
                            .map(|r| (text_of(&r["file_id"]), text_of(&r["file_name"])))
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        Self { searches }
    }

    /// The file a marker's text (`【n:m†name】`) refers to: by its numbers, else by its name.
    pub fn file_of(&self, marker: &str) -> Option<String> {
        let inner = marker.strip_prefix('【')?.strip_suffix('】')?;
        let (numbers, name) = inner.split_once('†')?;
        let by_numbers = numbers.split_once(':').and_then(|(n, m)| {
            let result = self
                .searches
                .get(n.parse::<usize>().ok()?)?
                .get(m.parse::<usize>().ok()?)?;
            (result.1 == name).then(|| result.0.clone())
        });
        by_numbers.or_else(|| {
            self.searches
                .iter()
                .flatten()
                .find(|(_, file_name)| file_name == name)
                .map(|(file_id, _)| file_id.clone())
        })
    }

    /// The `file_citation` annotations of a completed message's text.
    pub fn annotate(&self, text: &str) -> Vec<Value> {
        let mut annotations = Vec::new();
        let mut offset = 0;
        for piece in split_markers(text) {
            let length = piece.chars().count();
            if let Some(file_id) = self.file_of(&piece) {
                annotations.push(json!({"type": "file_citation", "text": piece,
                    "start_index": offset, "end_index": offset + length,
                    "file_citation": {"file_id": file_id}}));
            }
            offset += length;
        }
        annotations
    }
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// `text` cut so that every complete `【…】` marker is a piece of its own.
pub fn split_markers(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('【') {
        let Some(length) = rest[start..].find('】') else {
            break;
        };
        let end = start + length + '】'.len_utf8();
        if start > 0 {
            pieces.push(rest[..start].to_owned());
        }
        pieces.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

/// The results of one search as the model reads them: each result's marker on its own
/// line, then its text.
pub fn format_results(search_index: usize, results: &[Value]) -> String {
    if results.is_empty() {
        return "No results found.".to_owned();
    }
    results
        .iter()
        .enumerate()
        .map(|(m, result)| {
            let text: Vec<&str> = result["content"]
                .as_array()
                .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
                .unwrap_or_default();
            format!(
                "【{search_index}:{m}†{}】\n{}",
                result["file_name"].as_str().unwrap_or_default(),
                text.join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Sources {
        Sources {
            searches: vec![vec![("file-a".into(), "favorite_foods.txt".into())]],
        }
    }

    #[test]
    fn indices_count_characters_like_the_recording() {
        let text = "Filip's favorite food is cake【0:0†favorite_foods.txt】.";
        let annotations = sources().annotate(text);
        assert_eq!(annotations.len(), 1);
        assert_eq!(annotations[0]["start_index"], 29);
        assert_eq!(annotations[0]["end_index"], 53);
        assert_eq!(annotations[0]["file_citation"]["file_id"], "file-a");
    }

    #[test]
    fn unknown_markers_are_not_cited() {
        assert!(sources().annotate("x【0:0†other.txt】").is_empty());
        assert!(sources().annotate("x【5:0†").is_empty());
    }

    #[test]
    fn markers_are_pieces_of_their_own() {
        assert_eq!(split_markers("a【1†b】c【d"), vec!["a", "【1†b】", "c【d"]);
    }
}
