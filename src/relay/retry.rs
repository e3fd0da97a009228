//! While the relay runs it delivers the outbox (its own queued messages and any other
//! missive's), with backoff: 1 s after a failure, doubling to 5 minutes; back to 1 s
//! once a round delivers everything.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Relay;

const MIN_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(300);

pub async fn run(relay: Arc<Relay>, mut stop: watch::Receiver<bool>) {
    let mut delay = MIN_DELAY;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        if relay.engine.outbox().list().is_empty() {
            delay = MIN_DELAY;
            continue;
        }
        // Not cancelled by shutdown: a send cut short after the server took the message
        // would leave it in the outbox, to be sent twice.
        let outcomes = match relay.engine.flush_outbox().await {
            Ok(o) => o,
            // Another flush (`missive outbox flush`) holds the lock: it does the work.
            Err(e) => {
                tracing::debug!(error = %e, "relay retry skipped");
                delay = (delay * 2).min(MAX_DELAY);
                continue;
            }
        };
        let mut failed = false;
        for o in &outcomes {
            match &o.result {
                Ok(r) => relay.log_report("sent", r),
                Err(e) => {
                    failed = true;
                    tracing::info!(message_id = %o.message_id, error = %e, "relay retry failed");
                }
            }
        }
        delay = if failed {
            (delay * 2).min(MAX_DELAY)
        } else {
            MIN_DELAY
        };
    }
}
