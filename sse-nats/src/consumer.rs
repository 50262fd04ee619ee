//! The reader's consumer: made with a name of its own, and deleted once the
//! reader leaves it, whatever made it leave.
//!
//! Making a consumer can go unanswered while the cluster recovers (see the
//! reader's docs in `feed.rs`): the consumer may still be made late, or be
//! placed on a node that is down and made when it comes back. A consumer
//! the reader stopped reading (it failed, the hub went away, the reader's
//! task was aborted) would stay until its inactive threshold. Either way a
//! process would hold more than its one consumer on the stream, so each is
//! deleted, in a task of its own so that the next attempt does not wait.

use std::time::Duration;

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::stream::{self as js_stream, ConsumerErrorKind};

use crate::shared::Shared;

/// How long a consumer nobody pulls from is kept by the server: the bound
/// on one the reader could not delete (counted on the node it is placed
/// on, so one on a node that is down goes once that node is back).
const INACTIVE_THRESHOLD: Duration = Duration::from_secs(60);

/// How many times a delete is asked, 1, 2, 4 and 8 s apart.
const DELETE_ATTEMPTS: u32 = 5;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A consumer the reader made: deleted when this is dropped.
pub(crate) struct Made {
    consumer: PullConsumer,
    _leave: Leave,
}

impl Made {
    pub(crate) fn consumer(&mut self) -> &mut PullConsumer {
        &mut self.consumer
    }
}

/// A new consumer of every subject of the stream, from `start` on. Whether
/// made or not, none is left behind once dropped: one whose making was not
/// answered (or was given up, the future dropped) is deleted at once.
pub(crate) async fn make(
    shared: &Shared,
    stream: &js_stream::Stream<()>,
    start: u64,
) -> Result<Made, BoxError> {
    let name = consumer_name(&shared.jetstream.client().new_inbox());
    let mut leave = Leave {
        stream: stream.clone(),
        name: Some(name.clone()),
        answered: false,
    };
    let made = stream
        .create_consumer(pull::Config {
            name: Some(name.clone()),
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            filter_subject: shared.subjects.all(),
            ack_policy: AckPolicy::None,
            memory_storage: true,
            num_replicas: 1,
            inactive_threshold: INACTIVE_THRESHOLD,
            ..pull::Config::default()
        })
        .await;
    match made {
        Ok(consumer) => {
            leave.answered = true;
            Ok(Made {
                consumer,
                _leave: leave,
            })
        }
        // JetStream answered: the consumer was not made.
        Err(error) if matches!(error.kind(), ConsumerErrorKind::JetStream(_)) => {
            leave.name = None;
            Err(format!("making a consumer: {error}").into())
        }
        // Dropping `leave` deletes it.
        Err(error) => Err(format!("making the consumer {name}: {error}").into()),
    }
}

/// Deletes its consumer when dropped, in a task on the current runtime (none
/// when the runtime is gone: the consumer then goes after its inactive
/// threshold).
struct Leave {
    stream: js_stream::Stream<()>,
    /// `None` once there is nothing to delete.
    name: Option<String>,
    /// Whether its making was answered.
    answered: bool,
}

impl Drop for Leave {
    fn drop(&mut self) {
        let Some(name) = self.name.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (stream, answered) = (self.stream.clone(), self.answered);
            runtime.spawn(async move { delete(&stream, &name, answered).await });
        }
    }
}

/// Deletes the consumer `name`, asking again after 1, 2, 4 and 8 s: the
/// request can go unanswered, or be refused, while the cluster recovers (and
/// goes unanswered for a consumer on a node that is down), and for a
/// consumer whose making was not `answered` a "not found" can come before
/// the making is applied.
async fn delete(stream: &js_stream::Stream<()>, name: &str, answered: bool) {
    let mut delay = Duration::from_secs(1);
    for attempt in 1..=DELETE_ATTEMPTS {
        match stream.delete_consumer(name).await {
            Ok(_) => return,
            Err(error) if answered && is_not_found(&error) => return,
            Err(error) if attempt == DELETE_ATTEMPTS => {
                tracing::debug!(%error, consumer = name, "a consumer the reader left is not deleted");
            }
            Err(_) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}

fn is_not_found(error: &js_stream::ConsumerError) -> bool {
    matches!(error.kind(), ConsumerErrorKind::JetStream(error)
        if error.error_code() == ErrorCode::CONSUMER_NOT_FOUND)
}

/// A consumer name from `inbox`, a new inbox subject of the client: its
/// last token (22 random letters and digits in async-nats's inboxes).
fn consumer_name(inbox: &str) -> String {
    let unique = inbox.rsplit('.').next().unwrap_or(inbox);
    format!("sse-feed-{unique}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_consumer_has_a_name_of_its_own() {
        assert_eq!(
            consumer_name("_INBOX.ayrVzTrDrjB4mRyz8e8mTu"),
            "sse-feed-ayrVzTrDrjB4mRyz8e8mTu"
        );
        assert_eq!(consumer_name("app.inbox.abc"), "sse-feed-abc");
    }
}
