//! Lease queries every backend must share, run on SQLite (a file) and on PostgreSQL
//! (a fresh schema, when one answers): who may claim which run and when, compare-and-set
//! writes, and two stores on one database (as two instances) claiming at once.

use serde_json::json;

use crate::models::{Run, RunStatus, Thread};
use crate::store::{
    ClaimScope, LeaseChange, LeaseHolder, RunLeaseStore, RunStore, RunVersion, Tenant, ThreadStore,
};

/// The stores these tests exercise, as one object-safe bound.
trait LeaseStore: RunLeaseStore + RunStore + ThreadStore {}

impl<T: RunLeaseStore + RunStore + ThreadStore> LeaseStore for T {}

/// A lease that ran out a second ago as soon as it is written.
const RAN_OUT: i64 = -1000;
/// A lease that lasts the whole test.
const LIVE: i64 = 600_000;

fn tenant() -> Tenant {
    Tenant::from_api_key("sk-leases")
}

fn run(id: &str, thread_id: &str, status: &str) -> Run {
    serde_json::from_value(json!({
        "id": id, "object": "thread.run", "created_at": 1, "assistant_id": "asst_1",
        "thread_id": thread_id, "status": status, "started_at": null, "expires_at": 4_000_000_000i64,
        "cancelled_at": null, "failed_at": null, "completed_at": null,
        "required_action": null, "last_error": null, "model": "gpt-4o", "instructions": null,
        "tools": [], "tool_resources": {}, "metadata": {}, "temperature": 1.0, "top_p": 1.0,
        "reasoning_effort": null, "max_completion_tokens": null, "max_prompt_tokens": null,
        "truncation_strategy": {"type": "auto", "last_messages": null},
        "incomplete_details": null, "usage": null, "response_format": "auto",
        "tool_choice": "auto", "parallel_tool_calls": true
    }))
    .unwrap()
}

/// A thread `thread_id` with run `run_id` in `status`, leased to `holder` for `lease_ms`.
async fn leased(
    store: &dyn LeaseStore,
    run_id: &str,
    status: &str,
    holder: &LeaseHolder,
    lease_ms: i64,
) -> Run {
    let thread_id = format!("thread_{run_id}");
    let thread: Thread = serde_json::from_value(json!({"id": thread_id, "object": "thread",
        "created_at": 1, "metadata": {}, "tool_resources": {}}))
    .unwrap();
    store.insert_thread(&tenant(), &thread, &[]).await.unwrap();
    let run = run(run_id, &thread_id, status);
    store
        .insert_leased_run(&tenant(), &run, &[], holder, lease_ms)
        .await
        .unwrap();
    run
}

fn ids(claimed: &[crate::store::UnfinishedRun]) -> Vec<String> {
    claimed.iter().map(|c| c.run.id.clone()).collect()
}

async fn only_runs_nobody_works_on_are_claimable(store: &dyn LeaseStore, _: &dyn LeaseStore) {
    let (a, b) = (LeaseHolder::new("a:1"), LeaseHolder::new("b:1"));
    leased(store, "run_live", "in_progress", &a, LIVE).await;
    leased(store, "run_out", "in_progress", &a, RAN_OUT).await;
    let done = leased(store, "run_done", "queued", &a, RAN_OUT).await;
    let mut ended = done.clone();
    ended.status = RunStatus::Completed;
    store.update_run(&tenant(), &ended).await.unwrap();

    let claimed = store
        .claim_runs(&b, LIVE, 10, ClaimScope::Claimable)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["run_out"]);
    let again = store
        .claim_runs(&a, LIVE, 10, ClaimScope::Claimable)
        .await
        .unwrap();
    assert!(again.is_empty(), "b holds run_out now: {:?}", ids(&again));
    let held = store
        .get_versioned_run(&tenant(), "thread_run_out", "run_out")
        .await
        .unwrap();
    assert_eq!(held.holder, Some(b));
}

async fn a_restarted_instance_claims_its_earlier_lifes_runs_at_once(
    store: &dyn LeaseStore,
    _: &dyn LeaseStore,
) {
    let earlier = LeaseHolder::new("host:8080");
    leased(store, "run_1", "in_progress", &earlier, LIVE).await;
    let other = LeaseHolder::new("other:8080");
    assert!(store
        .claim_runs(&other, LIVE, 10, ClaimScope::Claimable)
        .await
        .unwrap()
        .is_empty());
    let now = LeaseHolder::new("host:8080");
    let claimed = store
        .claim_runs(&now, LIVE, 10, ClaimScope::Claimable)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["run_1"]);
    // The process's own runs are never claimed again, even by `Everything`.
    assert!(store
        .claim_runs(&now, LIVE, 10, ClaimScope::Everything)
        .await
        .unwrap()
        .is_empty());
    let taken = store
        .claim_runs(&other, LIVE, 10, ClaimScope::Everything)
        .await
        .unwrap();
    assert_eq!(ids(&taken), ["run_1"], "Everything takes live leases too");
}

async fn a_waiting_run_is_claimable_only_once_due(store: &dyn LeaseStore, _: &dyn LeaseStore) {
    let a = LeaseHolder::new("a:1");
    let waiting = leased(store, "run_1", "in_progress", &a, LIVE).await;
    let mut rested = waiting.clone();
    rested.status = RunStatus::RequiresAction;
    let version = store
        .get_versioned_run(&tenant(), "thread_run_1", "run_1")
        .await
        .unwrap()
        .version;
    let far = LeaseChange::Release {
        look_again_at_ms: Some(i64::MAX / 2),
    };
    let expected = RunVersion {
        version,
        holder: Some(&a),
    };
    assert!(store
        .write_run(&tenant(), &rested, expected, far)
        .await
        .unwrap());
    let b = LeaseHolder::new("b:1");
    assert!(store
        .claim_runs(&b, LIVE, 10, ClaimScope::Claimable)
        .await
        .unwrap()
        .is_empty());
    let due = LeaseChange::Release {
        look_again_at_ms: Some(0),
    };
    let expected = RunVersion {
        version: version + 1,
        holder: None,
    };
    assert!(store
        .write_run(&tenant(), &rested, expected, due)
        .await
        .unwrap());
    let claimed = store
        .claim_runs(&b, LIVE, 10, ClaimScope::Claimable)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["run_1"]);
}

async fn writes_are_compare_and_set_on_version_and_lease(
    store: &dyn LeaseStore,
    _: &dyn LeaseStore,
) {
    let (a, b) = (LeaseHolder::new("a:1"), LeaseHolder::new("b:1"));
    let mut run = leased(store, "run_1", "in_progress", &a, LIVE).await;
    let read = store
        .get_versioned_run(&tenant(), "thread_run_1", "run_1")
        .await
        .unwrap();
    run.metadata.insert("k".into(), json!("v"));
    let by = |version, holder| RunVersion { version, holder };
    let keep = LeaseChange::Keep;
    assert!(!store
        .write_run(&tenant(), &run, by(read.version, Some(&b)), keep)
        .await
        .unwrap());
    assert!(!store
        .write_run(&tenant(), &run, by(read.version + 1, None), keep)
        .await
        .unwrap());
    assert!(store
        .write_run(&tenant(), &run, by(read.version, Some(&a)), keep)
        .await
        .unwrap());
    assert!(
        !store
            .write_run(&tenant(), &run, by(read.version, None), keep)
            .await
            .unwrap(),
        "a stale version never writes"
    );
    let now = store
        .get_versioned_run(&tenant(), "thread_run_1", "run_1")
        .await
        .unwrap();
    assert_eq!(now.version, read.version + 1);
    assert_eq!(now.run.metadata["k"], "v");
    assert_eq!(now.holder, Some(a.clone()));
    let take = LeaseChange::Take {
        holder: &b,
        lease_ms: LIVE,
    };
    assert!(store
        .write_run(&tenant(), &run, by(now.version, None), take)
        .await
        .unwrap());
    let watched = store.watch_runs(&["run_1".into()]).await.unwrap();
    assert_eq!(watched[0].holder, Some(b));
    assert_eq!(watched[0].status, RunStatus::InProgress);
}

async fn renewed_leases_stay_and_released_ones_go_at_once(
    store: &dyn LeaseStore,
    _: &dyn LeaseStore,
) {
    let (a, b) = (LeaseHolder::new("a:1"), LeaseHolder::new("b:1"));
    leased(store, "run_1", "in_progress", &a, RAN_OUT).await;
    leased(store, "run_2", "queued", &a, RAN_OUT).await;
    let renewed = store
        .renew_leases(&a, &["run_1".into(), "run_2".into()], LIVE)
        .await
        .unwrap();
    assert_eq!(renewed, 2);
    assert_eq!(
        store
            .renew_leases(&b, &["run_1".into()], LIVE)
            .await
            .unwrap(),
        0,
        "only the holder renews"
    );
    assert!(store
        .claim_runs(&b, LIVE, 10, ClaimScope::Claimable)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.release_leases(&a).await.unwrap(), 2);
    let claimed = store
        .claim_runs(&b, LIVE, 1, ClaimScope::Claimable)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["run_1"], "oldest first, up to the limit");
}

async fn two_instances_claiming_at_once_never_get_the_same_run(
    first: &dyn LeaseStore,
    second: &dyn LeaseStore,
) {
    let dead = LeaseHolder::new("dead:1");
    let mut all = Vec::new();
    for n in 0..40 {
        let id = format!("run_{n:02}");
        leased(first, &id, "in_progress", &dead, RAN_OUT).await;
        all.push(id);
    }
    let (a, b) = (LeaseHolder::new("a:1"), LeaseHolder::new("b:1"));
    let mut got_a = Vec::new();
    let mut got_b = Vec::new();
    for _ in 0..40 {
        let (from_a, from_b) = tokio::join!(
            first.claim_runs(&a, LIVE, 3, ClaimScope::Claimable),
            second.claim_runs(&b, LIVE, 3, ClaimScope::Claimable)
        );
        got_a.extend(ids(&from_a.unwrap()));
        got_b.extend(ids(&from_b.unwrap()));
    }
    assert!(
        got_a.iter().all(|id| !got_b.contains(id)),
        "{got_a:?} {got_b:?}"
    );
    let mut both: Vec<String> = got_a.into_iter().chain(got_b).collect();
    both.sort();
    assert_eq!(both, all, "every run claimed exactly once");
}

// Each test above on both backends, as two instances.
crate::store::two_instances::on_two_instances!(
    only_runs_nobody_works_on_are_claimable,
    a_restarted_instance_claims_its_earlier_lifes_runs_at_once,
    a_waiting_run_is_claimable_only_once_due,
    writes_are_compare_and_set_on_version_and_lease,
    renewed_leases_stay_and_released_ones_go_at_once,
    two_instances_claiming_at_once_never_get_the_same_run,
);
