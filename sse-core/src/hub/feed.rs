//! The task that appends what a shared store's [`Feed`] reports to the logs.

use std::sync::Weak;

use super::shared::Shared;
use super::topic::Entry;
use super::{FedEvent, Feed, FeedItem, Position};

/// Runs until the feed ends or the hub is dropped. Holds the hub weakly, so
/// that dropping every handle drops the hub (and its store, which ends the
/// feed).
pub(crate) async fn run(hub: Weak<Shared>, mut feed: Feed) {
    while let Some(item) = std::future::poll_fn(|cx| feed.as_mut().poll_next(cx)).await {
        let Some(hub) = hub.upgrade() else {
            return;
        };
        match item {
            FeedItem::Events { events, through } => append(&hub, events, through),
            FeedItem::Lost { topic, through } => {
                tracing::warn!(%topic, through, "the store lost events; subscribers behind are told of a gap");
                hub.mark_lost(&topic, through);
            }
        }
    }
    tracing::debug!("store feed ended");
}

/// Commits reported events in order, then lets readers go to `through`;
/// subscribers are woken once per batch.
fn append(hub: &Shared, events: Vec<FedEvent>, through: u64) {
    let mut commit = hub.commit();
    // One entry (and one copy of the bytes) per event and topic: each
    // topic's log is its own.
    for event in events {
        if let Some(topic) = hub.topic(&event.topic) {
            let position = Position::new(hub.epoch(), event.seq);
            commit.append_fed(&topic, Entry::new(position, &event.event));
        }
    }
    commit.publish_through(through).wake();
}
