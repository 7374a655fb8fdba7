//! Faults of the object APIs: assistants, threads, messages, errors, lists, authentication
//! and tenants.

use serde_json::{json, Value};

use super::super::mutate::{answer_json, drop_query, each_object, is, request_json, set_header};
use super::{answers, requests, Fault};

pub(super) static FAULTS: &[Fault] = &[
    // --- assistants ---
    answers("assistant model replaced", &["assistants/crud"], |_, a| {
        answer_json(a, |v| {
            each_object(v, "assistant", &mut |o| o["model"] = json!("gpt-3.5-turbo"))
        })
    }),
    answers(
        "assistant created_at as a string",
        &["assistants/crud"],
        |_, a| {
            answer_json(a, |v| {
                each_object(v, "assistant", &mut |o| {
                    o["created_at"] = json!("1700000000")
                })
            })
        },
    ),
    requests(
        "assistant modify ignores metadata",
        &["assistants/crud"],
        |r| {
            if is(r, "POST", "/v1/assistants/*") {
                request_json(r, |v| {
                    v.as_object_mut().map(|o| o.remove("metadata"));
                })
            }
        },
    ),
    answers(
        "function tools lose strict",
        &[
            "assistants/defaults-and-normalisation",
            "function-tool-polled",
        ],
        |_, a| {
            answer_json(a, |v| {
                each_object(v, "assistant", &mut |o| {
                    for tool in o["tools"].as_array_mut().into_iter().flatten() {
                        tool.get_mut("function")
                            .and_then(Value::as_object_mut)
                            .map(|f| f.remove("strict"));
                    }
                })
            })
        },
    ),
    answers(
        "delete answers deleted false",
        &["assistants/crud", "threads/crud"],
        |_, a| {
            answer_json(a, |v| {
                if v.get("deleted") == Some(&json!(true)) {
                    v["deleted"] = json!(false)
                }
            })
        },
    ),
    answers(
        "assistants list in ascending order",
        &["assistants/list-pagination"],
        |r, a| {
            if is(r, "GET", "/v1/assistants") && !r.query.contains("order=") {
                answer_json(a, |v| {
                    v["data"]
                        .as_array_mut()
                        .into_iter()
                        .for_each(|d| d.reverse())
                })
            }
        },
    ),
    answers(
        "has_more always false",
        &["list-pagination", "list-default-page"],
        |_, a| {
            answer_json(a, |v| {
                if v.get("has_more") == Some(&json!(true)) {
                    v["has_more"] = json!(false)
                }
            })
        },
    ),
    answers(
        "list page repeats its first object",
        &[
            "assistants/list-pagination",
            "threads/messages/list-pagination",
        ],
        |_, a| {
            answer_json(a, |v| {
                if v["object"] == "list" {
                    let first = v["data"].get(0).cloned();
                    if let (Some(first), Some(data)) = (first, v["data"].as_array_mut()) {
                        data.push(first)
                    }
                }
            })
        },
    ),
    answers(
        "list last_id names the first object",
        &[
            "threads/messages/list-pagination",
            "vector_stores/list-pagination",
        ],
        |_, a| {
            answer_json(a, |v| {
                if v["object"] == "list" && v["data"].as_array().is_some_and(|d| d.len() > 1) {
                    v["last_id"] = v["first_id"].clone()
                }
            })
        },
    ),
    requests(
        "after cursor ignored",
        &["list-pagination", "list-default-page"],
        |r| drop_query(r, "after"),
    ),
    requests(
        "limit ignored",
        &["list-pagination", "list-limits", "list-default-page"],
        |r| drop_query(r, "limit"),
    ),
    requests("default page of 10", &["list-default-page"], |r| {
        if r.method == "GET" && !r.query.contains("limit=") {
            r.query = if r.query.is_empty() {
                "limit=10".into()
            } else {
                format!("{}&limit=10", r.query)
            };
        }
    }),
    // --- errors ---
    answers(
        "unknown ids answer 400",
        &["assistants/errors", "threads/errors", "files/errors"],
        |_, a| {
            if a.status == 404 {
                a.status = 400
            }
        },
    ),
    answers(
        "error message reworded",
        &["assistants/errors", "threads/errors"],
        |_, a| {
            answer_json(a, |v| {
                if let Some(message) = v.pointer_mut("/error/message") {
                    *message = json!("Not found.")
                }
            })
        },
    ),
    answers(
        "error type server_error",
        &["assistants/errors", "vector_stores/errors"],
        |_, a| {
            answer_json(a, |v| {
                if let Some(kind) = v.pointer_mut("/error/type") {
                    *kind = json!("server_error")
                }
            })
        },
    ),
    answers("errors lose param", &["files/errors"], |_, a| {
        answer_json(a, |v| {
            v.get_mut("error")
                .and_then(Value::as_object_mut)
                .map(|e| e.remove("param"));
        })
    }),
    // --- threads and messages ---
    answers("thread metadata dropped", &["threads/crud"], |_, a| {
        answer_json(a, |v| {
            each_object(v, "thread", &mut |o| o["metadata"] = json!({}))
        })
    }),
    answers(
        "message text altered",
        &["threads/messages/crud", "threads/create-with-messages"],
        |_, a| {
            answer_json(a, |v| {
                each_object(v, "thread.message", &mut |o| {
                    if let Some(text) = o.pointer_mut("/content/0/text/value") {
                        *text = json!(format!("{} ", text.as_str().unwrap_or("")))
                    }
                })
            })
        },
    ),
    answers(
        "message role forced to user",
        &["threads/messages/roles"],
        |_, a| {
            answer_json(a, |v| {
                each_object(v, "thread.message", &mut |o| o["role"] = json!("user"))
            })
        },
    ),
    answers(
        "message attachments dropped",
        &["threads/messages/attachments"],
        |_, a| {
            answer_json(a, |v| {
                each_object(v, "thread.message", &mut |o| o["attachments"] = json!([]))
            })
        },
    ),
    answers(
        "thread delete keeps messages",
        &["threads/delete-removes-messages"],
        |r, a| {
            if is(r, "GET", "/v1/threads/*/messages") && a.status == 404 {
                a.status = 200;
                a.body = b"{\n  \"object\": \"list\",\n  \"data\": [],\n  \"first_id\": null,\n  \"last_id\": null,\n  \"has_more\": false\n}".to_vec();
            }
        },
    ),
    // --- authentication and tenants ---
    requests("missing key accepted", &["auth/missing-api-key"], |r| {
        if r.header("authorization").is_none() {
            set_header(&mut r.headers, "authorization", "Bearer sk-fault-default")
        }
    }),
    requests(
        "missing beta header accepted",
        &["auth/missing-beta-header", "auth/v1-beta-header"],
        |r| set_header(&mut r.headers, "openai-beta", "assistants=v2"),
    ),
    requests("second key treated as the first", &["tenants/"], |r| {
        if let Some(second) = r
            .header("authorization")
            .filter(|a| a.ends_with("-b"))
            .map(str::to_owned)
        {
            set_header(
                &mut r.headers,
                "authorization",
                second.trim_end_matches("-b"),
            )
        }
    }),
    requests("lists ignore the key", &["tenants/"], |r| {
        let lists = is(r, "GET", "/v1/assistants")
            || is(r, "GET", "/v1/vector_stores")
            || is(r, "GET", "/v1/files");
        if let Some(second) = r
            .header("authorization")
            .filter(|a| a.ends_with("-b") && lists)
            .map(str::to_owned)
        {
            set_header(
                &mut r.headers,
                "authorization",
                second.trim_end_matches("-b"),
            )
        }
    }),
];
