//! The kit's own pure parts (it has no test binary of its own, to save a link): the child
//! run's arguments, URLs that select a schema or a database, secrets kept out of messages.

use testkit::backend::Backend;
use testkit::half::{child_arguments, redacted};
use testkit::postgres::{percent_encode, schema_url, unique_name, with_database};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

#[test]
fn the_child_run_keeps_the_parents_filters_and_options_and_skips_the_half() {
    assert_eq!(child_arguments(&[]), strings(&["--skip", "postgres_half"]));
    assert_eq!(
        child_arguments(&strings(&["threads", "--test-threads", "2", "--nocapture"])),
        strings(&[
            "threads",
            "--test-threads",
            "2",
            "--nocapture",
            "--skip",
            "postgres_half"
        ])
    );
    // A value of an option is never taken for a filter, even when it names the half.
    assert_eq!(
        child_arguments(&strings(&["--skip", "postgres", "runs"])),
        strings(&["--skip", "postgres", "runs", "--skip", "postgres_half"])
    );
}

#[test]
fn filters_that_select_the_half_itself_run_the_whole_suite_on_postgres() {
    assert_eq!(
        child_arguments(&strings(&["postgres_half"])),
        strings(&["--skip", "postgres_half"])
    );
    assert_eq!(
        child_arguments(&strings(&["postgres", "threads"])),
        strings(&["threads", "--skip", "postgres_half"])
    );
    assert_eq!(
        child_arguments(&strings(&["--exact", "postgres_half"])),
        strings(&["--exact", "--skip", "postgres_half"])
    );
    // Under --exact only the full name selects the half.
    assert_eq!(
        child_arguments(&strings(&["--exact", "postgres"])),
        strings(&["--exact", "postgres", "--skip", "postgres_half"])
    );
}

#[test]
fn passwords_never_reach_a_message() {
    assert_eq!(
        redacted("postgres://app:s3cret@db.local:5432/assistants?sslmode=disable"),
        "postgres://app:***@db.local:5432/assistants?sslmode=disable"
    );
    assert_eq!(
        redacted("postgres://postgres@127.0.0.1:5432/postgres"),
        "postgres://postgres@127.0.0.1:5432/postgres"
    );
    assert_eq!(redacted("postgres://h"), "postgres://h");
}

#[test]
fn a_database_url_names_another_database_keeping_its_parameters() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "run_1"),
        "postgres://postgres@127.0.0.1:5432/run_1"
    );
    assert_eq!(
        with_database("postgres://u@h/db?sslmode=disable", "run_1"),
        "postgres://u@h/run_1?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://u@h:5432", "run_1"),
        "postgres://u@h:5432/run_1"
    );
}

#[test]
fn a_schema_url_carries_the_search_path_percent_encoded() {
    assert_eq!(
        schema_url("postgres://u@h/db", "test_1"),
        "postgres://u@h/db?options=-c%20search_path%3Dtest_1%2Cpublic&application_name=test_1"
    );
    assert_eq!(
        schema_url("postgres://u@h/db?sslmode=disable", "t"),
        "postgres://u@h/db?sslmode=disable&options=-c%20search_path%3Dt%2Cpublic&application_name=t"
    );
    assert_eq!(percent_encode("a-b_c.d~e f&g=h"), "a-b_c.d~e%20f%26g%3Dh");
}

#[test]
fn unique_names_differ_and_need_no_quoting() {
    let first = unique_name("test");
    let second = unique_name("test");
    assert_ne!(first, second);
    for name in [first, second] {
        assert!(name.starts_with("test_"), "{name}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
    }
}

#[test]
fn backend_names_parse_and_typos_do_not() {
    assert_eq!(Backend::parse("sqlite"), Some(Backend::Sqlite));
    assert_eq!(Backend::parse(""), Some(Backend::Sqlite));
    assert_eq!(Backend::parse("postgres"), Some(Backend::Postgres));
    assert_eq!(Backend::parse("postgresql"), Some(Backend::Postgres));
    assert_eq!(Backend::parse("postgre"), None);
    assert_eq!(Backend::parse("mysql"), None);
}
