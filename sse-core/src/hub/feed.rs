//! The task that appends what a shared store's [`Feed`] reports to the logs.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use super::handle::{HubInner, lock};
use super::topic::{Entry, Topic};
use super::{FedEvent, Feed, FeedItem, Position};

/// Runs until the feed ends or the hub is dropped. Holds the hub weakly, so
/// that dropping every handle drops the hub (and its store, which ends the
/// feed).
pub(crate) async fn run(hub: Weak<HubInner>, mut feed: Feed) {
    while let Some(item) = std::future::poll_fn(|cx| feed.as_mut().poll_next(cx)).await {
        let Some(hub) = hub.upgrade() else {
            return;
        };
        match item {
            FeedItem::Events { events, through } => append(&hub, events, through),
            FeedItem::Lost { topic, through } => {
                tracing::warn!(%topic, through, "the store lost events; subscribers behind are told of a gap");
                let topic = lock(&hub.topics).get(&topic).cloned();
                if let Some(topic) = topic {
                    topic.lock().mark_lost(through);
                    hub.rereads.fetch_add(1, Ordering::AcqRel);
                    topic.wake_all();
                }
            }
        }
    }
    tracing::debug!("store feed ended");
}

/// Appends reported events in order, then lets readers go to `through`.
fn append(hub: &Arc<HubInner>, events: Vec<FedEvent>, through: u64) {
    // Woken once per batch, after the horizon moves.
    let mut appended: Vec<Arc<Topic>> = Vec::new();
    {
        let mut last_seq = lock(&hub.publish);
        // One entry (and one copy of the bytes) per event and topic: each
        // topic's log is its own.
        for event in events {
            let Some(topic) = lock(&hub.topics).get(&event.topic).cloned() else {
                continue;
            };
            let entry = Entry::new(Position::new(hub.epoch, event.seq), &event.event);
            let mut state = topic.lock();
            // Per topic, not against the hub's horizon: a topic followed a
            // moment ago catches up with events the others have passed.
            let is_new = state.newest_seq().is_none_or(|newest| event.seq > newest);
            if is_new && !state.closed {
                state.append(entry, &hub.limits);
                drop(state);
                if !appended.iter().any(|seen| Arc::ptr_eq(seen, &topic)) {
                    appended.push(topic);
                }
            }
        }
        if through > *last_seq {
            *last_seq = through;
            hub.published_through.store(through, Ordering::Release);
        }
    }
    for topic in appended {
        topic.wake_all();
    }
}
