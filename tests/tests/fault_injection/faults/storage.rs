//! Faults of the storage APIs: files, uploads and vector stores (search included).

use serde_json::json;

use super::super::mutate::{answer_json, each_object, path_matches, request_json};
use super::{answers, requests, Fault};

pub(super) static FAULTS: &[Fault] = &[
    // --- files and uploads ---
    answers(
        "download byte changed",
        &["files/crud", "uploads/complete"],
        |r, a| {
            if path_matches(&r.path, "/v1/files/*/content") && a.status == 200 {
                if let Some(first) = a.body.first_mut() {
                    *first = first.wrapping_add(1)
                }
            }
        },
    ),
    answers("file bytes off by one", &["files/crud"], |_, a| {
        answer_json(a, |v| {
            each_object(v, "file", &mut |o| {
                o["bytes"] = json!(o["bytes"].as_u64().unwrap_or(0) + 1)
            })
        })
    }),
    answers(
        "non-ASCII filename mangled",
        &["files/non-ascii-filename"],
        |_, a| {
            answer_json(a, |v| {
                each_object(v, "file", &mut |o| {
                    let name: String = o["filename"]
                        .as_str()
                        .unwrap_or("")
                        .chars()
                        .map(|c| if c.is_ascii() { c } else { '_' })
                        .collect();
                    o["filename"] = json!(name)
                })
            })
        },
    ),
    requests("upload md5 ignored", &["uploads/md5-mismatch"], |r| {
        if path_matches(&r.path, "/v1/uploads/*/complete") {
            request_json(r, |v| {
                v.as_object_mut().map(|o| o.remove("md5"));
            })
        }
    }),
    requests(
        "upload parts joined in creation order",
        &["uploads/complete"],
        |r| {
            if path_matches(&r.path, "/v1/uploads/*/complete") {
                request_json(r, |v| {
                    v["part_ids"]
                        .as_array_mut()
                        .into_iter()
                        .for_each(|ids| ids.reverse())
                })
            }
        },
    ),
    answers(
        "cancelled upload still pending",
        &["uploads/cancel"],
        |_, a| {
            answer_json(a, |v| {
                each_object(v, "upload", &mut |o| {
                    if o["status"] == "cancelled" {
                        o["status"] = json!("pending")
                    }
                })
            })
        },
    ),
    // --- vector stores ---
    answers(
        "vector store file_counts wrong",
        &["vector_stores/files", "vector_stores/file-batches"],
        |_, a| {
            answer_json(a, |v| {
                each_object(v, "vector_store", &mut |o| {
                    if let Some(total) = o.pointer_mut("/file_counts/total") {
                        *total = json!(total.as_u64().unwrap_or(0) + 1)
                    }
                })
            })
        },
    ),
    requests(
        "search max_num_results ignored",
        &["vector_stores/search"],
        |r| {
            request_json(r, |v| {
                v.as_object_mut().map(|o| o.remove("max_num_results"));
            })
        },
    ),
    answers(
        "search returns more than asked",
        &["vector_stores/search-ranking"],
        |r, a| {
            if r.path.ends_with("/search") {
                answer_json(a, |v| {
                    let copy = v["data"].get(0).cloned();
                    if let (Some(copy), Some(data)) = (copy, v["data"].as_array_mut()) {
                        data.push(copy)
                    }
                })
            }
        },
    ),
    answers(
        "search results worst first",
        &["vector_stores/search-ranking"],
        |_, a| {
            answer_json(a, |v| {
                each_object(v, "vector_store.search_results.page", &mut |o| {
                    o["data"]
                        .as_array_mut()
                        .into_iter()
                        .for_each(|d| d.reverse())
                })
            })
        },
    ),
    requests("search filters ignored", &["vector_stores/search"], |r| {
        if r.path.ends_with("/search") {
            request_json(r, |v| {
                v.as_object_mut().map(|o| o.remove("filters"));
            })
        }
    }),
    requests(
        "chunking strategy ignored",
        &["vector_stores/chunking-strategies"],
        |r| {
            request_json(r, |v| {
                v.as_object_mut().map(|o| o.remove("chunking_strategy"));
            })
        },
    ),
];
