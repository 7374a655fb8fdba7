//! The second tenant against the stub: scenarios that need `--second-api-key` are SKIPPED
//! without one, the key goes out in the Authorization header when given, and an answer to the
//! second key that shows the first key's object FAILs the tenant-isolation check (the stub, like
//! a server that ignores the key, gives both keys the same thing).

use conformance::{run_with, Verdict};
use serde_json::Value;

use super::runner_support::*;

const SECOND_KEY: &str = "sk-second-tenant-0123456789";

const AS_SECOND: &str = r#"
  - name: get-as-second
    operation: getThing
    path: {thing_id: "${thing}"}
    headers: {Authorization: "Bearer ${second_api_key}"}
    expect: {status: 200}
"#;

async fn run(second_key: Option<&str>, test: &str) -> conformance::results::ScenarioResult {
    let (base_url, _stub) = spawn_stub().await;
    let mut config = config(
        &base_url,
        fixtures(test, &[("stub/tenants", &scenario(AS_SECOND, CLEANUP))]),
    );
    config.second_api_key = second_key.map(str::to_owned);
    let results = run_with(&config, &catalog(), &conformance::progress::Silent)
        .await
        .expect("run completes");
    scenario_of(&results, "stub/tenants").clone()
}

#[tokio::test]
async fn scenarios_needing_a_second_key_are_skipped_without_one() {
    let scenario = run(None, "second-missing").await;
    assert_eq!(scenario.verdict, Verdict::Skipped);
    assert!(scenario
        .steps
        .iter()
        .all(|step| step.verdict == Verdict::Skipped
            && step.request.is_none()
            && step.findings[0].message.contains("--second-api-key")));
}

#[tokio::test]
async fn the_second_key_is_sent_masked_and_a_shared_object_fails_isolation() {
    let scenario = run(Some(SECOND_KEY), "second-given").await;
    let step = &scenario.steps[1];
    let request = step.request.as_ref().expect("sent");
    let sent: Vec<&(String, String)> = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .collect();
    assert_eq!(
        sent,
        [&("Authorization".to_owned(), "Bearer ****6789".to_owned())]
    );
    assert_eq!(step.verdict, Verdict::Fail);
    let messages: Vec<&str> = step.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        ["tenant isolation: the second key was shown thing_abcdefgh1234, an object of the first key"]
    );
    let answer: Value =
        serde_json::from_str(&step.response.as_ref().expect("answered").body).expect("JSON");
    assert_eq!(answer["id"], "thing_abcdefgh1234");
}
