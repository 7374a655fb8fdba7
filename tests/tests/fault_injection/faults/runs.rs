//! Faults of runs, run steps and their streams.

use serde_json::{json, Value};

use super::super::mutate::{
    answer_events, answer_json, each_object, event_data, is, path_matches, request_json,
    set_header, Event,
};
use super::super::proxy::Answer;
use super::{answers, requests, Fault};

/// Applies `edit` to every run object of a JSON answer and of a stream's events.
fn runs(a: &mut Answer, edit: fn(&mut Value)) {
    answer_json(a, |v| each_object(v, "thread.run", &mut |o| edit(o)));
    answer_events(a, |events| {
        event_data(events, None, &mut |v| {
            each_object(v, "thread.run", &mut |o| edit(o))
        })
    });
}

/// Applies `edit` to every step object of a JSON answer and of a stream's events.
fn steps(a: &mut Answer, edit: fn(&mut Value)) {
    answer_json(a, |v| each_object(v, "thread.run.step", &mut |o| edit(o)));
    answer_events(a, |events| {
        event_data(events, None, &mut |v| {
            each_object(v, "thread.run.step", &mut |o| edit(o))
        })
    });
}

fn usage_counts(o: &mut Value, edit: fn(&mut serde_json::Map<String, Value>)) {
    if let Some(usage) = o.get_mut("usage").and_then(Value::as_object_mut) {
        edit(usage)
    }
}

fn first_call_ids(o: &mut Value, pointer: &str, edit: fn(&mut Vec<Value>)) {
    if let Some(calls) = o.pointer_mut(pointer).and_then(Value::as_array_mut) {
        edit(calls)
    }
}

const RUN_SCENARIOS: &[&str] = &[
    "threads/runs/polled-completion",
    "threads/runs/function-tool-polled",
    "threads/runs/modify-and-list",
];

pub(super) static FAULTS: &[Fault] = &[
    // --- polled runs ---
    answers("completed run keeps expires_at", RUN_SCENARIOS, |_, a| {
        runs(a, |o| {
            if o["status"] == "completed" {
                o["expires_at"] = json!(1)
            }
        })
    }),
    answers("run usage all zero", RUN_SCENARIOS, |_, a| {
        runs(a, |o| {
            usage_counts(o, |u| {
                for key in ["prompt_tokens", "completion_tokens", "total_tokens"] {
                    u.insert(key.into(), json!(0));
                }
            })
        })
    }),
    answers("run total_tokens off by one", RUN_SCENARIOS, |_, a| {
        runs(a, |o| {
            usage_counts(o, |u| {
                let total = u["total_tokens"].as_u64().unwrap_or(0);
                u.insert("total_tokens".into(), json!(total + 1));
            })
        })
    }),
    answers(
        "completed steps without usage",
        &[
            "threads/runs/function-tool-polled",
            "threads/runs/polled-completion",
        ],
        |_, a| {
            steps(a, |o| {
                if o["status"] == "completed" {
                    o["usage"] = Value::Null
                }
            })
        },
    ),
    requests(
        "run overrides ignored",
        &["threads/runs/overrides", "assistants/sampling-parameters"],
        |r| {
            if is(r, "POST", "/v1/threads/*/runs") {
                request_json(r, |v| {
                    for key in [
                        "instructions",
                        "additional_instructions",
                        "model",
                        "tools",
                        "temperature",
                        "top_p",
                        "max_prompt_tokens",
                        "max_completion_tokens",
                        "truncation_strategy",
                        "response_format",
                        "parallel_tool_calls",
                        "metadata",
                    ] {
                        v.as_object_mut().map(|o| o.remove(key));
                    }
                })
            }
        },
    ),
    requests(
        "additional_instructions ignored",
        &["threads/runs/overrides"],
        |r| {
            request_json(r, |v| {
                v.as_object_mut()
                    .map(|o| o.remove("additional_instructions"));
            })
        },
    ),
    answers(
        "parallel tool call ids duplicated",
        &["parallel-tool-calls-named"],
        |_, a| {
            runs(a, |o| {
                first_call_ids(
                    o,
                    "/required_action/submit_tool_outputs/tool_calls",
                    |calls| {
                        let first = calls.first().and_then(|c| c.get("id")).cloned();
                        calls
                            .iter_mut()
                            .for_each(|c| c["id"] = first.clone().unwrap_or(Value::Null));
                    },
                )
            })
        },
    ),
    answers(
        "step shows other tool call ids",
        &["threads/runs/parallel-tool-calls", "threads/runs/cancel"],
        |r, a| {
            if path_matches(&r.path, "/v1/threads/*/runs/*/steps") {
                steps(a, |o| {
                    first_call_ids(o, "/step_details/tool_calls", |calls| {
                        calls.iter_mut().for_each(|c| {
                            c["id"] = json!(format!("{}x", c["id"].as_str().unwrap_or("")))
                        });
                    })
                })
            }
        },
    ),
    answers(
        "submitted output not stored",
        &["threads/runs/function-tool-polled"],
        |_, a| {
            steps(a, |o| {
                first_call_ids(o, "/step_details/tool_calls", |calls| {
                    calls.iter_mut().for_each(|c| {
                        if let Some(f) = c.get_mut("function") {
                            f["output"] = Value::Null
                        }
                    });
                })
            })
        },
    ),
    answers(
        "cancel of a finished run accepted",
        &["threads/runs/cancel-finished"],
        |r, a| {
            if path_matches(&r.path, "/v1/threads/*/runs/*/cancel") && a.status == 400 {
                a.status = 200;
                a.body = br#"{"id": "run_fault", "object": "thread.run", "status": "cancelling"}"#
                    .to_vec();
            }
        },
    ),
    answers(
        "cancelled run shows completed",
        &["threads/runs/cancel"],
        |_, a| {
            runs(a, |o| {
                if o["status"] == "cancelled" {
                    o["status"] = json!("completed")
                }
            })
        },
    ),
    answers(
        "thread lock not enforced",
        &["threads/runs/thread-lock"],
        |r, a| {
            if r.method == "POST" && r.path.starts_with("/v1/threads/") && a.status == 400 {
                a.status = 200;
            }
        },
    ),
    answers(
        "citation indices shifted",
        &["file-search-polled"],
        |_, a| {
            answer_json(a, |v| {
                each_object(v, "thread.message", &mut |o| {
                    for part in o["content"].as_array_mut().into_iter().flatten() {
                        for note in part
                            .pointer_mut("/text/annotations")
                            .and_then(Value::as_array_mut)
                            .into_iter()
                            .flatten()
                        {
                            note["start_index"] =
                                json!(note["start_index"].as_u64().unwrap_or(0) + 1);
                        }
                    }
                })
            })
        },
    ),
    answers(
        "file_search results without include",
        &["file-search-polled"],
        |r, a| {
            if !r.query.contains("include") {
                steps(a, |o| {
                    first_call_ids(o, "/step_details/tool_calls", |calls| {
                        calls.iter_mut().for_each(|c| {
                            if let Some(fs) = c.get_mut("file_search") {
                                fs["results"] = json!([])
                            }
                        });
                    })
                })
            }
        },
    ),
    // --- streams ---
    answers(
        "streamed step usage zero",
        &["streamed-completion", "function-tool-streamed"],
        |_, a| {
            answer_events(a, |events| {
                event_data(events, Some("thread.run.step.completed"), &mut |v| {
                    if let Some(usage) = v.get_mut("usage").and_then(Value::as_object_mut) {
                        for key in ["prompt_tokens", "completion_tokens", "total_tokens"] {
                            usage.insert(key.into(), json!(0));
                        }
                    }
                })
            })
        },
    ),
    answers(
        "stream without done",
        &["streamed-completion", "function-tool-streamed"],
        |_, a| answer_events(a, |events| events.retain(|(name, _)| name != "done")),
    ),
    answers(
        "stream without run.created",
        &["streamed-completion"],
        |_, a| {
            answer_events(a, |events| {
                events.retain(|(name, _)| name != "thread.run.created")
            })
        },
    ),
    answers(
        "stream delta text altered",
        &["streamed-completion", "threads/create-and-run-streamed"],
        |_, a| {
            answer_events(a, |events| {
                event_data(events, Some("thread.message.delta"), &mut |v| {
                    if let Some(text) = v.pointer_mut("/delta/content/0/text/value") {
                        *text = json!(format!("{}~", text.as_str().unwrap_or("")))
                    }
                })
            })
        },
    ),
    answers("stream event renamed", &["streamed-completion"], |_, a| {
        answer_events(a, |events: &mut Vec<Event>| {
            events
                .iter_mut()
                .filter(|(n, _)| n == "thread.run.completed")
                .for_each(|(n, _)| *n = "thread.run.done".into())
        })
    }),
    answers(
        "stream status disagrees with event",
        &["streamed-completion"],
        |_, a| {
            answer_events(a, |events| {
                event_data(events, Some("thread.run.in_progress"), &mut |v| {
                    v["status"] = json!("queued")
                })
            })
        },
    ),
    answers(
        "stream step.completed missing",
        &["function-tool-streamed"],
        |_, a| {
            answer_events(a, |events| {
                events.retain(|(name, _)| name != "thread.run.step.completed")
            })
        },
    ),
    answers(
        "streamed requires_action ids differ from deltas",
        &["parallel-tool-calls"],
        |_, a| {
            answer_events(a, |events| {
                event_data(events, Some("thread.run.requires_action"), &mut |v| {
                    first_call_ids(
                        v,
                        "/required_action/submit_tool_outputs/tool_calls",
                        |calls| {
                            calls.iter_mut().for_each(|c| {
                                c["id"] = json!(format!("{}x", c["id"].as_str().unwrap_or("")))
                            });
                        },
                    )
                })
            })
        },
    ),
    answers(
        "stream sent as JSON content type",
        &["streamed-completion"],
        |_, a| {
            if a.header("content-type")
                .is_some_and(|ct| ct.starts_with("text/event-stream"))
            {
                set_header(&mut a.headers, "content-type", "application/json")
            }
        },
    ),
    answers(
        "stream events after done",
        &["streamed-completion"],
        |_, a| {
            answer_events(a, |events| {
                if events.last().is_some_and(|(name, _)| name == "done") {
                    events.push(("thread.run.completed".into(), "{}".into()))
                }
            })
        },
    ),
    answers(
        "streamed run tool_resources as REST",
        &["streamed-completion", "function-tool-streamed"],
        |_, a| {
            answer_events(a, |events| {
                event_data(events, None, &mut |v| {
                    each_object(v, "thread.run", &mut |o| o["tool_resources"] = json!({}))
                })
            })
        },
    ),
];
