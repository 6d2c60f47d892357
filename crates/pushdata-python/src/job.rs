//! The module's one Tokio runtime, and [`Job`]: an operation running on it that Python waits
//! for with the GIL released, stops, and takes progress events from.
//!
//! Python never blocks inside a Rust call for longer than the timeout it passes to
//! [`Job::wait`]; between waits it runs its signal handlers (Ctrl-C raises
//! `KeyboardInterrupt` there), delivers progress events to the caller's callback in its
//! own thread, and on an interrupt calls [`Job::stop`] and waits for the operation to clean
//! up. No Python code is ever called from the runtime's threads.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use pushdata_arrow::ProgressEvent;
use pyo3::prelude::*;
use pyo3::types::PyList;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::convert::event_dict;
use crate::errors::internal;

/// Turns a finished operation's output into its Python result (or exception), with the GIL.
pub(crate) type Finish = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// The runtime every operation of the module runs on, started on first use.
pub(crate) fn runtime() -> PyResult<&'static Runtime> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .thread_name("pushdata")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| internal(format!("starting the Tokio runtime: {e}")))
}

/// Run `fut` to completion on the runtime with the GIL released (for short local work:
/// starting and stopping a server).
pub(crate) fn block_on<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = runtime()?;
    Ok(py.detach(|| rt.block_on(fut)))
}

/// What a job shares with the task running it.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    finished: Condvar,
}

#[derive(Default)]
struct State {
    /// Set once, when the operation ends; taken by [`Job::result`].
    finish: Option<Finish>,
    done: bool,
    /// Progress events not yet taken by Python (collected only when asked for).
    events: Vec<ProgressEvent>,
}

/// Where an operation sends its progress events: into its job, for Python to take.
#[derive(Clone)]
pub(crate) struct EventSink(Arc<Shared>);

impl EventSink {
    /// Keep `event` until Python takes it.
    pub(crate) fn send(&self, event: ProgressEvent) {
        self.0.state.lock().events.push(event);
    }
}

/// An operation (connect, push, pull, log out) running on the module's runtime.
#[pyclass(module = "pushdata._native", frozen)]
pub(crate) struct Job {
    shared: Arc<Shared>,
    /// Fired by [`Job::stop`], or dropped with the job: either way the operation stops.
    stop: Mutex<Option<oneshot::Sender<()>>>,
    what: &'static str,
}

impl Job {
    /// Start the operation `make` builds from a stop signal (it completes when the job is
    /// stopped or dropped) and an event sink. `what` names it in errors.
    pub(crate) fn spawn<F>(
        what: &'static str,
        make: impl FnOnce(StopSignal, EventSink) -> F,
    ) -> PyResult<Job>
    where
        F: Future<Output = Finish> + Send + 'static,
    {
        let shared = Arc::new(Shared::default());
        let (tx, rx) = oneshot::channel();
        let fut = make(StopSignal(rx), EventSink(shared.clone()));
        let done = shared.clone();
        runtime()?.spawn(async move {
            let finish = fut.await;
            let mut state = done.state.lock();
            state.finish = Some(finish);
            state.done = true;
            done.finished.notify_all();
        });
        Ok(Job {
            shared,
            stop: Mutex::new(Some(tx)),
            what,
        })
    }
}

/// Completes when the job is stopped (or dropped by Python).
pub(crate) struct StopSignal(oneshot::Receiver<()>);

impl StopSignal {
    /// Wait for the stop.
    pub(crate) async fn stopped(self) {
        // A dropped sender (the job was garbage collected) stops the operation too.
        let _ = self.0.await;
    }
}

#[pymethods]
impl Job {
    /// Wait until the operation ends, at most `timeout` seconds (`None`: no limit), with
    /// the GIL released. Returns whether it has ended.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> bool {
        let limit = timeout.map(|t| Duration::from_secs_f64(t.clamp(0.0, 86_400.0)));
        let shared = self.shared.clone();
        py.detach(move || {
            let mut state = shared.state.lock();
            match limit {
                Some(limit) => {
                    if !state.done {
                        shared.finished.wait_for(&mut state, limit);
                    }
                }
                None => {
                    while !state.done {
                        shared.finished.wait(&mut state);
                    }
                }
            }
            state.done
        })
    }

    /// Whether the operation has ended.
    fn done(&self) -> bool {
        self.shared.state.lock().done
    }

    /// Ask the operation to stop; it cleans up (a push cancels its upload session and
    /// deletes a dataset it created) and then ends. Does not wait.
    fn stop(&self) {
        if let Some(tx) = self.stop.lock().take() {
            let _ = tx.send(());
        }
    }

    /// The progress events since the last call, as dicts.
    fn events<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let events = std::mem::take(&mut self.shared.state.lock().events);
        let dicts = events
            .iter()
            .map(|e| event_dict(py, e))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, dicts)
    }

    /// The operation's result, or its error raised; once the job has ended, and only once.
    fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let finish = {
            let mut state = self.shared.state.lock();
            if !state.done {
                return Err(internal(format!(
                    "{}: the result was asked before the end",
                    self.what
                )));
            }
            state.finish.take()
        };
        match finish {
            Some(finish) => finish(py),
            None => Err(internal(format!(
                "{}: the result was already taken",
                self.what
            ))),
        }
    }

    fn __repr__(&self) -> String {
        let state = if self.done() { "done" } else { "running" };
        format!("<pushdata._native.Job {} ({state})>", self.what)
    }
}
