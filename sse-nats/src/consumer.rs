//! The consumers this store makes, the reader's and each replay scan's,
//! deleted once left, whatever made them leave.
//!
//! A consumer nobody reads any more (the reader failed, the hub went away,
//! the reader's task was aborted; a replay's client went away halfway)
//! would stay until its inactive threshold: a process would hold more than
//! its one reader's consumer on the stream, and clients that leave during
//! their replays (a deploy that reconnects every client) would leave one
//! each, counted against the stream's consumer limit. So each is deleted,
//! in a task of its own so that neither the reader's next attempt nor the
//! replay's answer waits.
//!
//! Making a consumer can go unanswered while the cluster recovers (see the
//! reader's docs in `feed.rs`): the consumer may still be made late, or be
//! placed on a node that is down and made when it comes back. The reader's
//! is named before it is made, so that one not answered is deleted too. A
//! replay's is named by the server: with a name, async-nats puts the
//! filter, a topic's subject of up to 768 characters, into the request's
//! subject (`CONSUMER.CREATE.<stream>.<name>.<filter>`), and a subject
//! longer than the server's control line (4 KiB unless set lower) makes it
//! close the connection, the one publishing and the reader use too. One not
//! answered is left to its inactive threshold, 30 s: a recovering cluster
//! is not sent a delete for every client that tried to resume.

use std::time::Duration;

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::stream::{self as js_stream, ConsumerErrorKind};

use crate::shared::Shared;

/// What a consumer is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Role {
    /// The feed's reader: every subject, for as long as the hub lives.
    Reader,
    /// One replay's scan of one subject, for a moment.
    Replay,
}

impl Role {
    /// How many times a delete is asked: the reader's again and again, 1,
    /// 2, 4 and 8 s apart, for it would otherwise hold a consumer on the
    /// stream for a minute; a replay's once (its consumer goes after 30 s
    /// anyway, and replays are as many as clients).
    fn delete_attempts(self) -> u32 {
        match self {
            Self::Reader => 5,
            Self::Replay => 1,
        }
    }

    /// How long a consumer nobody pulls from is kept by the server: the
    /// bound on one that could not be deleted (counted on the node it is
    /// placed on, so one on a node that is down goes once that node is
    /// back). A replay pulls without pause, and is done in a moment.
    fn inactive_threshold(self) -> Duration {
        match self {
            Self::Reader => Duration::from_secs(60),
            Self::Replay => Duration::from_secs(30),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A consumer made by [`make`]: deleted when this is dropped.
pub(crate) struct Made {
    consumer: PullConsumer,
    _leave: Leave,
}

impl Made {
    pub(crate) fn consumer(&mut self) -> &mut PullConsumer {
        &mut self.consumer
    }
}

/// A new consumer for `role` of the messages on `filter` (a wildcard for
/// every subject), from the sequence number `start` on, not acknowledged,
/// deleted once dropped. The reader's is deleted even when its making was
/// not answered (or was given up, the future dropped).
pub(crate) async fn make(
    shared: &Shared,
    stream: &js_stream::Stream<()>,
    role: Role,
    filter: String,
    start: u64,
) -> Result<Made, BoxError> {
    let name = match role {
        Role::Reader => Some(reader_name(&shared.jetstream.client().new_inbox())),
        Role::Replay => None,
    };
    let mut leave = Leave {
        stream: stream.clone(),
        name: name.clone(),
        answered: false,
        attempts: role.delete_attempts(),
    };
    let made = stream
        .create_consumer(pull::Config {
            name: name.clone(),
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            filter_subject: filter,
            ack_policy: AckPolicy::None,
            // Ours alone, and gone soon even if it cannot be deleted.
            memory_storage: true,
            num_replicas: 1,
            inactive_threshold: role.inactive_threshold(),
            ..pull::Config::default()
        })
        .await;
    match made {
        Ok(consumer) => {
            leave.name = Some(consumer.cached_info().name.clone());
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
        // Dropping `leave` deletes the reader's.
        Err(error) => match name {
            Some(name) => Err(format!("making the consumer {name}: {error}").into()),
            None => Err(format!("making a consumer: {error}").into()),
        },
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
    /// How many times the delete is asked.
    attempts: u32,
}

impl Drop for Leave {
    fn drop(&mut self) {
        let Some(name) = self.name.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (stream, answered, attempts) = (self.stream.clone(), self.answered, self.attempts);
            runtime.spawn(async move { delete(&stream, &name, answered, attempts).await });
        }
    }
}

/// Deletes the consumer `name`, asking up to `attempts` times, 1, 2, 4 and
/// 8 s apart: the
/// request can go unanswered, or be refused, while the cluster recovers (and
/// goes unanswered for a consumer on a node that is down), and for a
/// consumer whose making was not `answered` a "not found" can come before
/// the making is applied.
async fn delete(stream: &js_stream::Stream<()>, name: &str, answered: bool, attempts: u32) {
    let mut delay = Duration::from_secs(1);
    for attempt in 1..=attempts {
        match stream.delete_consumer(name).await {
            Ok(_) => return,
            Err(error) if answered && is_not_found(&error) => return,
            Err(error) if attempt == attempts => {
                tracing::debug!(%error, consumer = name, "a consumer left behind is not deleted");
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

/// The reader's consumer's name from `inbox`, a new inbox subject of the
/// client: its last token (22 random letters and digits in async-nats's
/// inboxes).
fn reader_name(inbox: &str) -> String {
    let unique = inbox.rsplit('.').next().unwrap_or(inbox);
    format!("sse-feed-{unique}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reader_has_a_name_of_its_own() {
        assert_eq!(
            reader_name("_INBOX.ayrVzTrDrjB4mRyz8e8mTu"),
            "sse-feed-ayrVzTrDrjB4mRyz8e8mTu"
        );
        assert_eq!(reader_name("app.inbox.abc"), "sse-feed-abc");
    }
}
