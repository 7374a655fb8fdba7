//! Operating the server (`server::ops`): probes (`/healthz`, `/readyz`, the operator
//! listener and draining), metrics (names, labels, exposure, no tenant data) and logs
//! (request ids, JSON lines, no colour codes in files).

mod logs;
mod metrics;
mod probes;
mod support;
