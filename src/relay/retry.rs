//! While the relay runs it delivers the outbox (its own queued messages and any other
//! missive's), with backoff: 1 s after a failure, doubling to 5 minutes; back to 1 s
//! once a round delivers everything. Each round also writes the recipient history for
//! the messages delivered since the last (the relay defers it; see `Engine::defer_history`).

use crate::flush::FlushStatus;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Relay;

const MIN_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(300);

pub async fn run(relay: Arc<Relay>, mut stop: watch::Receiver<bool>) {
    let mut delay = MIN_DELAY;
    let mut next = tokio::time::Instant::now() + delay;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(MIN_DELAY) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        // The recipients of the last second's deliveries, in one write of the history.
        relay.engine.record_reached();
        if tokio::time::Instant::now() < next {
            continue;
        }
        delay = round(&relay, delay).await;
        next = tokio::time::Instant::now() + delay;
    }
}

/// One delivery round of the outbox; the delay before the next.
async fn round(relay: &Relay, delay: Duration) -> Duration {
    if relay.engine.outbox().list().is_empty() {
        return MIN_DELAY;
    }
    // Not cancelled by shutdown: a send cut short after the server took the message
    // would leave it in the outbox, to be sent twice.
    let outcomes = match relay
        .engine
        .flush_outbox_within(false, std::time::Duration::ZERO)
        .await
    {
        Ok(o) => o,
        // Another flush (`missive outbox flush`) holds the lock: it does the work.
        Err(e) => {
            tracing::debug!(error = %e, "relay retry skipped");
            return (delay * 2).min(MAX_DELAY);
        }
    };
    let mut failed = false;
    for o in &outcomes {
        match &o.status {
            FlushStatus::Sent { report, .. } => relay.log_report("sent", report),
            FlushStatus::Kept { error, .. } => {
                failed = true;
                tracing::info!(message_id = o.message_id.as_deref().unwrap_or(""), error = %error, "relay retry failed");
            }
            _ => {}
        }
    }
    if failed {
        (delay * 2).min(MAX_DELAY)
    } else {
        MIN_DELAY
    }
}
