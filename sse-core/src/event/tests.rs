//! Tests of the event builder and its encoding.

use super::*;

fn wire(event: Event) -> Bytes {
    event.encode().into_bytes()
}

#[test]
fn data_only() {
    assert_eq!(wire(Event::new().data("hello")), "data: hello\n\n");
}

#[test]
fn empty_data_is_one_line() {
    assert_eq!(wire(Event::new().data("")), "data:\n\n");
}

#[test]
fn no_data_no_data_line() {
    // An id alone is still a block: conformant clients record it.
    assert_eq!(wire(Event::new().id(1u64)), "id: 1\n\n");
    assert_eq!(
        wire(Event::new().event("x").id(1u64)),
        "event: x\nid: 1\n\n"
    );
}

#[test]
fn no_data_and_no_id_ends_no_block() {
    // Nothing a client would dispatch: no blank line, and no event name
    // (which would otherwise name the next event).
    assert_eq!(wire(Event::new()), "");
    assert!(Event::new().encode().is_empty());
    assert_eq!(wire(Event::new().event("x")), "");
    assert_eq!(
        wire(
            Event::new()
                .event("x")
                .comment("c")
                .retry(Duration::from_secs(1))
        ),
        ": c\nretry: 1000\n"
    );
}

#[test]
fn only_events_with_data_take_a_fallback_id() {
    let fallback = EventId::from(9u64);
    let mut out = FrameBuf::default();
    Event::new()
        .comment("c")
        .encode_into(Some(&fallback), &mut out);
    Event::new()
        .data("x")
        .encode_into(Some(&fallback), &mut out);
    encode_encoded(
        Event::new().comment("d").encode(),
        Some(&fallback),
        &mut out,
    );
    encode_encoded(Event::new().data("y").encode(), Some(&fallback), &mut out);
    assert_eq!(
        out.take_all(),
        ": c\nid: 9\ndata: x\n\n: d\nid: 9\ndata: y\n\n"
    );
}

#[test]
fn crlf_in_data_is_one_break() {
    assert_eq!(
        wire(Event::new().data("a\r\nb\rc\nd")),
        "data: a\ndata: b\ndata: c\ndata: d\n\n"
    );
}

#[test]
fn leading_spaces_survive_in_every_field() {
    assert_eq!(
        wire(Event::new().event(" e").try_id(" i").unwrap().data("  d")),
        "event:  e\nid:  i\ndata:   d\n\n"
    );
}

#[test]
fn comments_are_per_line() {
    assert_eq!(
        wire(Event::new().comment("one\ntwo").comment("").data("x")),
        ": one\n: two\n:\ndata: x\n\n"
    );
}

#[test]
fn retry_is_whole_milliseconds() {
    assert_eq!(
        wire(Event::new().retry(Duration::from_micros(1_500_999))),
        "retry: 1500\n"
    );
    assert_eq!(
        wire(Event::new().retry(Duration::MAX)),
        format!("retry: {}\n", u64::MAX)
    );
    assert_eq!(
        wire(Event::new().retry(Duration::from_secs(2)).data("x")),
        "retry: 2000\ndata: x\n\n"
    );
}

#[test]
fn empty_id_resets() {
    assert_eq!(
        wire(Event::new().try_id("").unwrap().data("x")),
        "id:\ndata: x\n\n"
    );
}

#[test]
fn event_and_id_reject_injection() {
    for bad in ["a\nb", "a\rb", "a\r\nb", "\n"] {
        assert!(Event::new().try_event(Text::copy_from(bad)).is_err());
        assert!(Event::new().try_id(Text::copy_from(bad)).is_err());
    }
    assert!(Event::new().try_id("a\0b").is_err());
    assert!(Event::new().try_event("nul\0ok").is_ok());
}

#[test]
fn injection_is_caught_at_every_position_of_short_and_long_text() {
    // Short text is checked while it is copied; longer text by the scan.
    for len in 1..40 {
        for at in 0..len {
            for (byte, in_name, in_id) in [
                (b'\n', false, false),
                (b'\r', false, false),
                (0, true, false),
                (b'\t', true, true),
            ] {
                let mut value = vec![b'a'; len];
                value[at] = byte;
                let value = String::from_utf8(value).unwrap();
                assert_eq!(
                    Event::new().try_event(value.as_str()).is_ok(),
                    in_name,
                    "{value:?}"
                );
                assert_eq!(
                    Event::new().try_event(value.clone()).is_ok(),
                    in_name,
                    "{value:?}"
                );
                assert_eq!(
                    Event::new().try_id(value.as_str()).is_ok(),
                    in_id,
                    "{value:?}"
                );
                assert_eq!(
                    Event::new().try_id(value.clone()).is_ok(),
                    in_id,
                    "{value:?}"
                );
            }
        }
    }
}

#[test]
#[should_panic(expected = "the SSE `event` field must not contain a line break")]
fn event_panics_on_line_break() {
    let _ = Event::new().event("a\nb");
}

#[test]
fn fallback_id_only_when_missing() {
    let fallback = EventId::from(9u64);
    let mut out = FrameBuf::default();
    Event::new()
        .data("a")
        .encode_into(Some(&fallback), &mut out);
    Event::new()
        .id(3u64)
        .data("b")
        .encode_into(Some(&fallback), &mut out);
    encode_encoded(Event::new().data("c").encode(), Some(&fallback), &mut out);
    encode_encoded(
        Event::new().id(4u64).data("d").encode(),
        Some(&fallback),
        &mut out,
    );
    assert_eq!(
        out.take_all(),
        "id: 9\ndata: a\n\nid: 3\ndata: b\n\nid: 9\ndata: c\n\nid: 4\ndata: d\n\n"
    );
}

#[cfg(feature = "json")]
#[test]
fn pretty_json_is_split_into_lines() {
    let value = serde_json::json!({"a": [1, 2]});
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    let event = Event::new().data(pretty);
    assert_eq!(
        wire(event),
        "data: {\ndata:   \"a\": [\ndata:     1,\ndata:     2\ndata:   ]\ndata: }\n\n"
    );
    let compact = Event::new().json_data(&value).unwrap();
    assert_eq!(wire(compact), "data: {\"a\":[1,2]}\n\n");
}
