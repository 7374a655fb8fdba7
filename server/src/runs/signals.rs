//! The runs this process works on (it holds their leases) and the signal each one's
//! task watches: keep working, cancel (a request on any instance cancelled the run), or
//! stop without writing anything more (the lease was lost to another instance, or this
//! instance is shutting down and hands the run back).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use super::RunKey;

/// What a run's task is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Go on.
    Work,
    /// The run was cancelled: drop the model stream and end it `cancelled`.
    Cancel,
    /// Drop the model stream and write nothing more: another instance has the run now,
    /// or will have it as soon as this one shuts down.
    Stop,
}

/// Resolves with the first signal other than [`Signal::Work`] (never, if none can come).
pub async fn signalled(receiver: &mut watch::Receiver<Signal>) -> Signal {
    loop {
        let signal = *receiver.borrow_and_update();
        if signal != Signal::Work {
            return signal;
        }
        if receiver.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// One run worked on here.
struct Worked {
    /// How many [`Hold`]s of the run are alive (a task that is ending, and the next
    /// one after the run rested and came back, may overlap).
    holds: usize,
    /// Grows with every hold taken: a poll that began before the latest hold must not
    /// stop the task that hold started.
    generation: u64,
    key: RunKey,
    sender: watch::Sender<Signal>,
}

/// The runs this process works on, by run id.
#[derive(Default)]
pub(super) struct WorkedRuns {
    runs: HashMap<String, Worked>,
    next_generation: u64,
    /// Set once the instance shuts down: runs taken on afterwards stop at once.
    stopping: bool,
    /// Set once the instance drains: it takes no runs over any more.
    draining: bool,
}

/// Shared handle to [`WorkedRuns`].
#[derive(Clone, Default)]
pub(super) struct Worklist(Arc<Mutex<WorkedRuns>>);

/// This process's hold on one run: the signal its task watches. Dropping it forgets the
/// run (whatever way its task ended), so its lease is no longer renewed.
pub(super) struct Hold {
    /// The run.
    pub key: RunKey,
    /// The signal of the run.
    pub signals: watch::Receiver<Signal>,
    list: Worklist,
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut list = self.list.lock();
        if let Some(worked) = list.runs.get_mut(&self.key.run_id) {
            worked.holds -= 1;
            if worked.holds == 0 {
                list.runs.remove(&self.key.run_id);
            }
        }
    }
}

impl Worklist {
    fn lock(&self) -> MutexGuard<'_, WorkedRuns> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a run on (its lease was just taken by this process).
    pub(super) fn hold(&self, key: &RunKey) -> Hold {
        let mut list = self.lock();
        list.next_generation += 1;
        let generation = list.next_generation;
        let first = if list.stopping {
            Signal::Stop
        } else {
            Signal::Work
        };
        let worked = list
            .runs
            .entry(key.run_id.clone())
            .or_insert_with(|| Worked {
                holds: 0,
                generation,
                key: key.clone(),
                sender: watch::channel(first).0,
            });
        if *worked.sender.borrow() == Signal::Stop && first == Signal::Work {
            // A task told to stop (the lease was lost) is still ending while this
            // process takes the run on again: the new task gets a fresh signal.
            worked.sender = watch::channel(first).0;
        }
        worked.holds += 1;
        worked.generation = generation;
        Hold {
            key: key.clone(),
            signals: worked.sender.subscribe(),
            list: self.clone(),
        }
    }

    /// Whether this process works on the run.
    pub(super) fn holds(&self, run_id: &str) -> bool {
        self.lock().runs.contains_key(run_id)
    }

    /// Signals a run worked on here; true when the signal changed (a second cancel
    /// changes nothing, a stop overrides a cancel).
    pub(super) fn signal(&self, run_id: &str, signal: Signal) -> bool {
        let list = self.lock();
        let Some(worked) = list.runs.get(run_id) else {
            return false;
        };
        worked.sender.send_if_modified(|current| {
            let changes = match signal {
                Signal::Work => false,
                Signal::Cancel => *current == Signal::Work,
                Signal::Stop => *current != Signal::Stop,
            };
            if changes {
                *current = signal;
            }
            changes
        })
    }

    /// Cancels a run worked on here unless it was already told to cancel or stop,
    /// calling `announce` first (under the list's lock, so the run's task cannot react
    /// before the announcement).
    pub(super) fn cancel_with(&self, run_id: &str, announce: impl FnOnce()) {
        let list = self.lock();
        if let Some(worked) = list.runs.get(run_id) {
            if *worked.sender.borrow() == Signal::Work {
                announce();
                worked.sender.send_replace(Signal::Cancel);
            }
        }
    }

    /// Calls `emit` unless the run was told to cancel or stop, under the list's lock:
    /// an event of the run's task then comes before a cancel's announcement (see
    /// [`Self::cancel_with`]) or is not sent at all, never after it. A run not worked on
    /// here has no cancel to race with, and its event goes out.
    pub(super) fn while_working(&self, run_id: &str, emit: impl FnOnce()) {
        let list = self.lock();
        let working = list
            .runs
            .get(run_id)
            .is_none_or(|worked| *worked.sender.borrow() == Signal::Work);
        if working {
            emit();
        }
    }

    /// Whether the run is worked on here and was told neither to cancel nor to stop.
    pub(super) fn working(&self, run_id: &str) -> bool {
        self.lock()
            .runs
            .get(run_id)
            .is_some_and(|worked| *worked.sender.borrow() == Signal::Work)
    }

    /// Stops a run worked on here unless it was taken on again since `generation`
    /// (which [`Self::snapshot`] gave).
    pub(super) fn stop_at(&self, run_id: &str, generation: u64) {
        let list = self.lock();
        if let Some(worked) = list.runs.get(run_id) {
            if worked.generation == generation {
                worked.sender.send_replace(Signal::Stop);
            }
        }
    }

    /// The runs worked on here.
    pub(super) fn keys(&self) -> Vec<RunKey> {
        self.lock()
            .runs
            .values()
            .map(|worked| worked.key.clone())
            .collect()
    }

    /// The runs worked on here, each with the generation of its latest hold.
    pub(super) fn snapshot(&self) -> Vec<(RunKey, u64)> {
        self.lock()
            .runs
            .values()
            .map(|worked| (worked.key.clone(), worked.generation))
            .collect()
    }

    /// Stops every run worked on here, and every run taken on from now on.
    pub(super) fn stop_all(&self) -> usize {
        let mut list = self.lock();
        list.stopping = true;
        for worked in list.runs.values() {
            worked.sender.send_replace(Signal::Stop);
        }
        list.runs.len()
    }

    /// Takes no runs over from now on (the instance drains before shutting down).
    pub(super) fn stop_claiming(&self) {
        self.lock().draining = true;
    }

    /// Whether this process may take runs over.
    pub(super) fn claiming(&self) -> bool {
        let list = self.lock();
        !list.draining && !list.stopping
    }

    /// Whether [`Self::stop_all`] was called.
    pub(super) fn stopping(&self) -> bool {
        self.lock().stopping
    }
}
