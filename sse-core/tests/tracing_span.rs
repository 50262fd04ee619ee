//! A hub stream's `tracing` span: its topics, how its cursor was resolved,
//! and why it ended. A test binary of its own: `tracing` caches whether a
//! call site is enabled process-wide, so a subscriber set for one test
//! thread is best alone in its process.
#![allow(missing_docs)]
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use sse_engine::LastEventId;
use sse_engine::hub::Hub;

/// Every span's and event's fields, as `name: field=value ...` lines.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Subscriber for Lines {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields(format!("span {}:", span.metadata().name()));
        span.record(&mut fields);
        let mut lines = self.0.lock().unwrap();
        lines.push(fields.0);
        Id::from_u64(lines.len() as u64)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(format!("event {:?}:", event.parent()));
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn a_span_per_stream_says_how_it_resumed_and_why_it_ended() {
    let lines = Lines::default();
    let _default = tracing::subscriber::set_default(lines.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let hub = Hub::new();
        let fresh = hub.subscribe(&["a", "b"], None).unwrap();
        let first = hub
            .publish("a", sse_engine::Event::new().data("1"))
            .await
            .unwrap();
        let cursor = LastEventId::parse(first.to_string().as_bytes()).unwrap();
        let resumed = hub.subscribe(&["a"], cursor).unwrap();
        let foreign = LastEventId::parse(b"000000000001-1").unwrap();
        let mut gapped = hub.subscribe(&["a"], foreign).unwrap();
        drop((fresh, resumed));
        gapped.next().await.unwrap();
        hub.close_topic("a");
        assert!(gapped.next().await.is_none());
    });
    let lines = lines.0.lock().unwrap().join("\n");
    let spans: Vec<&str> = lines.lines().filter(|l| l.starts_with("span")).collect();
    assert_eq!(spans.len(), 3, "{lines}");
    assert!(
        spans[0].contains(r#"topics=["a", "b"] cursor="fresh""#),
        "{lines}"
    );
    assert!(spans[1].contains(r#"cursor="resumed""#), "{lines}");
    assert!(
        spans[2].contains(r#"cursor="gap" gap="foreign""#),
        "{lines}"
    );
    let ends: Vec<&str> = lines
        .lines()
        .filter(|l| l.contains("stream ended"))
        .collect();
    assert_eq!(ends.len(), 3, "{lines}");
    assert!(
        ends[0].starts_with("event Some(Id(1))") && ends[0].contains(r#"reason="client_gone""#),
        "{lines}"
    );
    assert!(
        ends[2].starts_with("event Some(Id(") && ends[2].contains(r#"reason="shutdown""#),
        "{lines}"
    );
}
