//! Fixture loading: scenario ids from paths, README ignored, and every load-time check that makes
//! a broken fixture an input error naming the file and the reason.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use conformance::fixture::{find_fixtures_dir, load_scenarios};
use conformance::spec::Family;
use conformance::InMemoryCatalog;
use rstest::rstest;

fn catalog() -> InMemoryCatalog {
    InMemoryCatalog::default()
        .with("createThing", "POST", "/things", Family::Assistants, &[])
        .with(
            "getThing",
            "GET",
            "/things/{thing_id}",
            Family::Assistants,
            &[],
        )
}

fn dir_with(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("runner_fixtures")
        .join(test)
        .join("fixtures");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        let file = dir.join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    dir
}

const HEAD: &str = "description: d.\nprovenance: [{source: test}]\n";

#[test]
fn ids_are_paths_without_extension_sorted_and_readme_is_ignored() {
    let step = "steps:\n  - {name: a, operation: createThing, expect: {status: 200}}\n";
    let scenario = format!("{HEAD}{step}");
    let dir = dir_with(
        "ids",
        &[
            ("threads/messages/list.yaml", &scenario),
            ("assistants/crud.yml", &scenario),
            ("README.md", "# not yaml: ["),
        ],
    );
    let ids: Vec<String> = load_scenarios(&dir, &catalog())
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["assistants/crud", "threads/messages/list"]);
}

#[test]
fn the_fixtures_directory_is_found_walking_up() {
    let dir = dir_with("walk", &[("a/b/c.yaml", "")]);
    let deep = dir.join("a/b");
    assert_eq!(find_fixtures_dir(&deep), Some(dir.clone()));
    assert_eq!(find_fixtures_dir(dir.parent().unwrap()), Some(dir));
}

#[rstest]
#[case::unknown_operation(
    "steps:\n  - {name: a, operation: nope, expect: {status: 200}}\n",
    "unknown operationId `nope`"
)]
#[case::duplicate_names(
    "steps:\n  - {name: a, operation: createThing, expect: {status: 200}}\ncleanup:\n  - {name: a, operation: createThing, expect: {status: 200}}\n",
    "duplicate step name `a`"
)]
#[case::missing_status(
    "steps:\n  - {name: a, operation: createThing, expect: {}}\n",
    "missing `expect.status`"
)]
#[case::missing_path_param(
    "steps:\n  - {name: a, operation: getThing, expect: {status: 200}}\n",
    "missing path parameter `thing_id`"
)]
#[case::extra_path_param(
    "steps:\n  - {name: a, operation: createThing, path: {x: 1}, expect: {status: 200}}\n",
    "path parameter `x` is not in /things"
)]
#[case::url_without_method(
    "steps:\n  - {name: a, url: /x, expect: {status: 404}}\n",
    "missing `operation`"
)]
#[case::both_bodies(
    "steps:\n  - {name: a, operation: createThing, body: {}, raw_body: x, expect: {status: 200}}\n",
    "both `body` and `raw_body`"
)]
#[case::typo_field(
    "steps:\n  - {name: a, operation: createThing, expected: {status: 200}}\n",
    "unknown field `expected`"
)]
#[case::bad_pointer(
    "steps:\n  - {name: a, operation: createThing, capture: {x: id}, expect: {status: 200}}\n",
    "is not a JSON pointer"
)]
#[case::no_steps("steps: []\n", "`steps` is empty")]
#[case::bad_indent(
    "steps:\n  - {name: a, operation: createThing, expect: {status: 200, indent: 0}}\n",
    "`expect.indent` 0 is not between 1 and 8"
)]
#[case::unknown_variable(
    "steps:\n  - {name: a, operation: getThing, path: {thing_id: '${nobody}'}, expect: {status: 200}}\n",
    "variable ${nobody} is neither built in nor captured"
)]
#[case::variable_captured_later(
    "steps:\n  - {name: a, operation: createThing, body: {x: '${t}'}, expect: {status: 200}}\n  - {name: b, operation: createThing, capture: {t: /id}, expect: {status: 200}}\n",
    "step `a`: variable ${t}"
)]
#[case::unknown_variable_in_expectation(
    "steps:\n  - {name: a, operation: createThing, expect: {status: 200, body: {id: 'x ${ghost}'}}}\n",
    "variable ${ghost}"
)]
#[case::empty_status_list(
    "steps:\n  - {name: a, operation: createThing, expect: {status: []}}\n",
    "`expect.status` is an empty list"
)]
#[case::bad_status_in_list(
    "steps:\n  - {name: a, operation: createThing, expect: {status: [200, 999]}}\n",
    "`expect.status` 999 is not an HTTP status"
)]
#[case::events_without_stream(
    "steps:\n  - {name: a, operation: createThing, expect: {status: 200, events: [done]}}\n",
    "`expect.events` needs a streaming step"
)]
#[case::stream_with_body_and_events(
    "steps:\n  - {name: a, operation: createThing, body: {stream: true}, expect: {status: 200, body: {}, events: [done]}}\n",
    "either `events` (a stream) or `body`"
)]
#[case::stream_with_step_capture(
    "steps:\n  - {name: a, operation: createThing, stream: true, capture: {x: /id}, expect: {status: 200}}\n",
    "captures from an event"
)]
#[case::events_not_ending_in_done(
    "steps:\n  - {name: a, operation: createThing, stream: true, expect: {status: 200, events: [thread.run.created]}}\n",
    "must end with `done`"
)]
#[case::capture_on_a_quantified_event(
    "steps:\n  - {name: a, operation: createThing, stream: true, expect: {status: 200, events: [{event: 'thread.message.delta*', capture: {x: /id}}, done]}}\n",
    "capture needs an event that occurs exactly once"
)]
#[case::item_after_a_greedy_one(
    "steps:\n  - {name: a, operation: createThing, stream: true, expect: {status: 200, events: ['thread.message.delta*', thread.message.delta, done]}}\n",
    "can never match"
)]
#[case::event_variable_captured_later(
    "steps:\n  - {name: a, operation: createThing, stream: true, expect: {status: 200, events: [{event: x, data: {id: '${r}'}}, {event: y, capture: {r: /id}}, done]}}\n",
    "variable ${r} is neither"
)]
#[case::poll_without_values(
    "steps:\n  - {name: a, operation: createThing, poll: {pointer: /status, until: []}, expect: {status: 200}}\n",
    "`poll.until` is empty"
)]
#[case::poll_and_stream(
    "steps:\n  - {name: a, operation: createThing, stream: true, poll: {pointer: /status, until: [x]}, expect: {status: 200}}\n",
    "cannot both `poll` and stream"
)]
#[case::timeout_without_poll(
    "steps:\n  - {name: a, operation: createThing, timeout_s: 5, expect: {status: 200}}\n",
    "`timeout_s` needs `poll`"
)]
fn broken_fixtures_name_the_file_and_the_reason(#[case] steps: &str, #[case] reason: &str) {
    let test = reason
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>();
    let dir = dir_with(&test, &[("broken/one.yaml", &format!("{HEAD}{steps}"))]);
    let err = load_scenarios(&dir, &catalog()).unwrap_err();
    assert!(err.file.ends_with("broken/one.yaml"), "{err}");
    assert!(err.to_string().contains(reason), "{err}");
}

#[test]
fn event_captures_serve_later_events_and_steps() {
    let steps = "steps:\n  - {name: a, operation: createThing, body: {stream: true}, expect: {status: 200, events: [{event: thread.run.created, capture: {run: /id}}, {event: 'thread.run.queued?', data: {id: '${run}'}}, done]}}\n  - {name: b, operation: getThing, path: {thing_id: '${run}'}, expect: {status: [200, 404]}}\n";
    let dir = dir_with(
        "event-captures",
        &[("ok/stream.yaml", &format!("{HEAD}{steps}"))],
    );
    let scenarios = load_scenarios(&dir, &catalog()).unwrap();
    assert!(scenarios[0].steps[0].streams());
}

#[test]
fn variables_captured_earlier_and_built_ins_are_accepted() {
    let steps = "steps:\n  - {name: a, operation: createThing, body: {m: '${model}', t: 'n ${run_tag}'}, capture: {t: /id}, expect: {status: 200}}\n  - {name: b, operation: getThing, path: {thing_id: '${t}'}, expect: {status: 200, body: {id: '${t}'}}}\ncleanup:\n  - {name: c, operation: getThing, path: {thing_id: '${t}'}, expect: {status: 200}}\n";
    let dir = dir_with("captured", &[("ok.yaml", &format!("{HEAD}{steps}"))]);
    assert_eq!(load_scenarios(&dir, &catalog()).unwrap().len(), 1);
}

#[test]
fn missing_provenance_is_refused() {
    let dir = dir_with(
        "provenance",
        &[("p.yaml", "description: d.\nprovenance: []\nsteps:\n  - {name: a, operation: createThing, expect: {status: 200}}\n")],
    );
    assert!(load_scenarios(&dir, &catalog())
        .unwrap_err()
        .reason
        .contains("provenance"));
}
