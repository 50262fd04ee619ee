//! What `Event`'s fields accept: everything axum's `Event` accepts (any
//! `&str`, however briefly borrowed; ids as `String`), with the same bytes
//! on the wire whichever form a value came in.
// Passing references where a value would do is what these tests check.
#![allow(clippy::needless_borrows_for_generic_args)]

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use sse_engine::{Event, EventId, FieldName, InvalidFieldKind, Text};

fn wire(event: Event) -> Bytes {
    event.encode().into_bytes()
}

/// Every field from a borrowed `str` that does not outlive the call: this
/// is what failed to compile (E0521) when fields took `Into<Text>`.
fn from_borrowed(name: &str, data: &str, note: &str, id: &str) -> Event {
    Event::new().event(name).data(data).comment(note).id(id)
}

fn from_borrowed_checked(name: &str, id: &str) -> Result<Event, sse_engine::InvalidField> {
    Event::new().try_event(name)?.try_id(id)
}

#[test]
fn borrowed_text_is_copied_into_every_field() {
    let owned = String::from("delta");
    let event = from_borrowed(&owned, "{\"x\":1}", "note", "id-1");
    drop(owned);
    assert_eq!(
        wire(event),
        ": note\nevent: delta\nid: id-1\ndata: {\"x\":1}\n\n"
    );
    let checked = from_borrowed_checked(&String::from("e"), &7.to_string()).unwrap();
    assert_eq!(wire(checked.data("d")), "event: e\nid: 7\ndata: d\n\n");
}

#[test]
fn ids_come_in_every_form_axum_takes_and_more() {
    let n = 42u64;
    let string = n.to_string();
    let text = Text::from(n.to_string());
    let forms = [
        Event::new().id(n.to_string()),
        Event::new().id(&string),
        Event::new().id(string.as_str()),
        Event::new().id("42"),
        Event::new().id(text.clone()),
        Event::new().id(&text),
        Event::new().id(Cow::Borrowed("42")),
        Event::new().id(Arc::<str>::from("42")),
        Event::new().id(n),
        Event::new().id(42u8),
        Event::new().id(42i32),
        Event::new().id(EventId::from(n)),
        Event::new().id(&EventId::from(n)),
        Event::new().try_id(n.to_string()).unwrap(),
        Event::new().try_id(n).unwrap(),
    ];
    for event in forms {
        assert_eq!(wire(event.data("x")), "id: 42\ndata: x\n\n");
    }
}

#[test]
fn data_comes_in_every_form() {
    let value = String::from("payload");
    let forms = [
        Event::new().data(value.as_str()),
        Event::new().data(&value),
        Event::new().data(value.clone()),
        Event::new().data(value.clone().into_boxed_str()),
        Event::new().data(Cow::<str>::Owned(value.clone())),
        Event::new().data(Text::from(value.clone())),
        Event::new().data(&Text::from_static("payload")),
        Event::new().data("payload"),
    ];
    for event in forms {
        assert_eq!(wire(event), "data: payload\n\n");
    }
}

#[test]
#[should_panic(expected = "the SSE `id` field must not contain a line break")]
fn id_panics_on_a_line_break() {
    let forged = String::from("1\ndata: forged");
    let _ = Event::new().id(forged);
}

#[test]
#[should_panic(expected = "the SSE `id` field must not contain a NUL")]
fn id_panics_on_nul() {
    let _ = Event::new().id("a\0b");
}

#[test]
fn try_id_reports_what_id_would_panic_on() {
    for bad in ["a\nb", "a\rb", "\r\n", "x\0"] {
        for error in [
            Event::new().try_id(bad).unwrap_err(),
            Event::new().try_id(bad.to_owned()).unwrap_err(),
            Event::new().try_id(&bad.to_owned()).unwrap_err(),
            Event::new().try_id(Text::copy_from(bad)).unwrap_err(),
        ] {
            assert_eq!(error.field(), FieldName::Id);
            let kind = if bad.contains('\0') {
                InvalidFieldKind::Nul
            } else {
                InvalidFieldKind::LineBreak
            };
            assert_eq!(error.kind(), kind, "{bad:?}");
        }
    }
    let long = format!("{}\r", "x".repeat(200));
    assert!(Event::new().try_id(long.as_str()).is_err());
    assert!(Event::new().try_event(long.as_str()).is_err());
}

#[test]
fn values_either_side_of_the_inline_length_are_written_the_same() {
    for len in [0, 1, 22, 23, 24, 25, 64, 5000] {
        let value = "v".repeat(len);
        let expected = if len == 0 {
            "event:\nid:\ndata:\n\n".to_owned()
        } else {
            format!("event: {value}\nid: {value}\ndata: {value}\n\n")
        };
        let borrowed = Event::new()
            .event(value.as_str())
            .id(value.as_str())
            .data(value.as_str());
        let owned = Event::new()
            .event(value.clone())
            .id(value.clone())
            .data(value.clone());
        let shared = Text::from_utf8(Bytes::from(value.clone())).unwrap();
        let from_shared = Event::new().event(&shared).id(&shared).data(shared.clone());
        assert_eq!(wire(borrowed.clone()), expected, "{len}");
        assert_eq!(wire(owned.clone()), expected, "{len}");
        assert_eq!(wire(from_shared.clone()), expected, "{len}");
        // Equal however the values are held, and so hash alike.
        assert_eq!(borrowed, owned);
        assert_eq!(borrowed, from_shared);
        let ids: HashSet<EventId> = [&borrowed, &owned, &from_shared]
            .iter()
            .map(|event| event.get_id().unwrap().clone())
            .collect();
        assert_eq!(ids.len(), 1);
    }
}

#[test]
fn an_event_stays_small() {
    // 112 bytes when text was never held inline; short text inline costs
    // one word per optional field.
    assert!(size_of::<Event>() <= 128, "{}", size_of::<Event>());
}

/// Topic names borrowed for less than `'static` (from a config read at
/// start-up, say) name an endpoint's topics.
#[test]
fn an_endpoint_takes_borrowed_topic_names() {
    let names: Vec<String> = vec!["prices".to_owned(), "news".to_owned()];
    let endpoint = sse_engine::hub::Endpoint::new(
        sse_engine::hub::Hub::new(),
        names.iter().map(String::as_str),
    );
    drop(names);
    assert!(format!("{endpoint:?}").contains("prices"));
}

/// The rest of what axum's `impl AsRef<str>` takes: mutable borrows (what
/// a formatter writing into a stack buffer gives), `Rc<str>`, a borrowed
/// `Box<str>`; and a client's `Last-Event-ID`, carried back as an id.
#[test]
fn mutable_borrows_rc_and_a_last_event_id() {
    let mut buffer = *b"order-17";
    let id: &mut str = std::str::from_utf8_mut(&mut buffer).unwrap();
    let mut owned = String::from("delta");
    let boxed: Box<str> = "data".into();
    let shared: std::rc::Rc<str> = "note".into();
    let event = Event::new()
        .id(id)
        .event(&mut owned)
        .data(&boxed)
        .comment(shared.clone())
        .comment(&shared);
    assert_eq!(
        wire(event),
        ": note\n: note\nevent: delta\nid: order-17\ndata: data\n\n"
    );

    let cursor = sse_engine::LastEventId::parse(b"order-17")
        .unwrap()
        .unwrap();
    assert_eq!(
        wire(Event::new().id(&cursor).data("x")),
        "id: order-17\ndata: x\n\n"
    );
    assert_eq!(
        wire(Event::new().id(cursor).data("x")),
        "id: order-17\ndata: x\n\n"
    );
}
