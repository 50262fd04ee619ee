//! The decoder against the WHATWG standard's examples and the cases of the
//! web-platform-tests `eventsource/format-*` files, written from their
//! descriptions. Every case is decoded whole, byte by byte, and split in two at
//! every position: the result must not depend on how the bytes arrive.

use std::time::Duration;

use sse_engine::decode::{DecodedEvent, Decoder};

/// (event type, data, last event id) of each dispatched event.
type Expected<'a> = &'a [(&'a str, &'a str, &'a str)];

fn decode_in(chunks: &[&[u8]]) -> (Vec<DecodedEvent>, Decoder) {
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    for chunk in chunks {
        decoder.push(chunk).unwrap();
        events.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    decoder.finish();
    events.extend(std::iter::from_fn(|| decoder.next_event()));
    (events, decoder)
}

fn check(input: &[u8], expected: Expected<'_>) -> Decoder {
    let (whole, decoder) = decode_in(&[input]);
    let got: Vec<_> = whole
        .iter()
        .map(|e| (e.event_type(), e.data(), e.last_event_id()))
        .collect();
    assert_eq!(got, expected, "input {:?}", String::from_utf8_lossy(input));

    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(decode_in(&bytes).0, whole, "byte by byte");
    for split in 0..=input.len() {
        let (head, tail) = input.split_at(split);
        assert_eq!(decode_in(&[head, tail]).0, whole, "split at {split}");
    }
    decoder
}

#[test]
fn spec_example_messages() {
    check(
        b"data: This is the first message.\n\ndata: This is the second message, it\ndata: has two lines.\n\ndata: This is the third message.\n\n",
        &[
            ("message", "This is the first message.", ""),
            ("message", "This is the second message, it\nhas two lines.", ""),
            ("message", "This is the third message.", ""),
        ],
    );
}

#[test]
fn spec_example_event_types() {
    check(
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n",
        &[
            ("add", "73857293", ""),
            ("remove", "2153", ""),
            ("add", "113411", ""),
        ],
    );
}

#[test]
fn spec_example_ids_and_unfinished_last_event() {
    check(
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n",
        &[("message", "first event", "1"), ("message", "second event", "")],
    );
}

#[test]
fn spec_example_empty_data() {
    check(
        b"data\n\ndata\ndata\n\ndata:",
        &[("message", "", ""), ("message", "\n", "")],
    );
}

#[test]
fn spec_example_one_space_removed() {
    check(
        b"data:test\n\ndata: test\n\n",
        &[("message", "test", ""), ("message", "test", "")],
    );
}

#[test]
fn wpt_format_bom() {
    check(
        "\u{feff}data:1\n\n\u{feff}data:2\n\ndata:3\n\n".as_bytes(),
        &[("message", "1", ""), ("message", "3", "")],
    );
}

#[test]
fn wpt_format_bom_2() {
    check(
        "\u{feff}\u{feff}data:1\n\ndata:2\n\ndata:3\n\n".as_bytes(),
        &[("message", "2", ""), ("message", "3", "")],
    );
}

#[test]
fn wpt_format_comments() {
    let long = "x".repeat(2049);
    let input =
        format!("data:1\r:\0\n:\r\ndata:2\n:{long}\rdata:3\n:data:fail\r:{long}\ndata:4\n\n");
    check(input.as_bytes(), &[("message", "1\n2\n3\n4", "")]);
}

#[test]
fn wpt_format_data_before_final_empty_line() {
    let decoder = check(
        b"retry:1000\ndata:test1\n\nid:test\ndata:test2",
        &[("message", "test1", "")],
    );
    // The unfinished event is dropped, and with it its id: a client that
    // reconnects must not skip the event it never received.
    assert_eq!(decoder.last_event_id(), "");
}

#[test]
fn wpt_format_field_data() {
    check(
        b"data:\n\ndata\ndata\n\ndata:test\n\n",
        &[
            ("message", "", ""),
            ("message", "\n", ""),
            ("message", "test", ""),
        ],
    );
}

#[test]
fn wpt_format_field_event_empty() {
    check(b"event: \ndata:data\n\n", &[("message", "data", "")]);
}

#[test]
fn wpt_format_field_event() {
    check(
        b"event:test\ndata:x\n\ndata:x\n\n",
        &[("test", "x", ""), ("message", "x", "")],
    );
}

#[test]
fn wpt_format_field_id_is_sticky_and_resettable() {
    check(
        b"id: 1\ndata: a\n\ndata: b\n\nid:\ndata: c\n\n",
        &[
            ("message", "a", "1"),
            ("message", "b", "1"),
            ("message", "c", ""),
        ],
    );
}

#[test]
fn wpt_format_field_id_null_is_ignored() {
    check(
        b"id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n",
        &[("message", "a", "1"), ("message", "b", "1")],
    );
}

#[test]
fn wpt_format_field_parsing() {
    check(
        b"data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n",
        &[("message", "\0\n 2\n1\n3\n\n4", "")],
    );
}

#[test]
fn wpt_format_field_retry() {
    let decoder = check(b"retry:03000\ndata:x\n\n", &[("message", "x", "")]);
    assert_eq!(
        decoder.reconnection_time(),
        Some(Duration::from_millis(3000))
    );
}

#[test]
fn wpt_format_field_retry_bogus() {
    let decoder = check(
        b"retry:3000\nretry:1000x\nretry:  5\nretry:-1\ndata:x\n\n",
        &[("message", "x", "")],
    );
    assert_eq!(
        decoder.reconnection_time(),
        Some(Duration::from_millis(3000))
    );
}

#[test]
fn wpt_format_field_retry_empty() {
    let decoder = check(b"retry\ndata:test\n\n", &[("message", "test", "")]);
    assert_eq!(decoder.reconnection_time(), None);
}

#[test]
fn wpt_format_field_unknown() {
    check(
        b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n",
        &[("message", "test\n\ntest", "")],
    );
}

#[test]
fn wpt_format_leading_space() {
    check(
        b"data:\ttest\rdata: \ndata:test\n\n",
        &[("message", "\ttest\n\ntest", "")],
    );
}

#[test]
fn wpt_format_newlines() {
    check(
        b"data:test\r\ndata\ndata:test\r\n\r",
        &[("message", "test\n\ntest", "")],
    );
}

#[test]
fn wpt_format_null_character() {
    check(b"data:\0\n\n\n\n", &[("message", "\0", "")]);
}

#[test]
fn wpt_format_utf_8() {
    check(
        "data:ok\u{20ac}\n\n".as_bytes(),
        &[("message", "ok\u{20ac}", "")],
    );
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    check(
        b"data: \xff\xfe ok\ndata: \xe2\x82\nid: \xc3\n\n",
        &[("message", "\u{fffd}\u{fffd} ok\n\u{fffd}", "\u{fffd}")],
    );
}

#[test]
fn cr_split_from_its_lf_is_one_line_break() {
    // "\r" ends a chunk and "\n" starts the next: one break, not an empty line
    // that would dispatch "a" early and lose nothing but order.
    let (events, _) = decode_in(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data(), "a\nb");
}

#[test]
fn retry_is_reported_on_the_next_event() {
    let (events, _) = decode_in(&[b"retry: 10\n\ndata: x\n\ndata: y\n\n"]);
    assert_eq!(events[0].retry(), Some(Duration::from_millis(10)));
    assert_eq!(events[1].retry(), None);
}

#[test]
fn default_decoder_skips_the_bom_too() {
    let mut decoder = Decoder::default();
    decoder.push(b"\xEF\xBB\xBFdata: x\n\n").unwrap();
    assert_eq!(decoder.next_event().unwrap().data(), "x");
}

#[test]
fn an_empty_chunk_between_cr_and_lf_changes_nothing() {
    let mut decoder = Decoder::new();
    decoder.push(b"data: x\r").unwrap();
    decoder.push(b"").unwrap();
    decoder.push(b"\n").unwrap();
    assert!(decoder.next_event().is_none(), "CRLF is one line break");
    decoder.push(b"\n").unwrap();
    assert_eq!(decoder.next_event().unwrap().data(), "x");
}

#[test]
fn last_event_id_changes_only_when_an_event_ends() {
    let mut decoder = Decoder::new();
    decoder.push(b"id: 1\ndata: a\n\nid: 2\ndata: b\n").unwrap();
    assert_eq!(decoder.last_event_id(), "1");
    decoder.finish();
    assert_eq!(decoder.last_event_id(), "1");
    // An id-only block (no data) still moves the id, as the standard says.
    decoder.push(b"id: 3\n\n").unwrap();
    assert_eq!(decoder.last_event_id(), "3");
}

#[test]
fn a_long_id_is_shared_not_copied_into_every_event() {
    let mut decoder = Decoder::new();
    let mut id_line = b"id: ".to_vec();
    id_line.extend(std::iter::repeat_n(b'a', 512 * 1024));
    id_line.push(b'\n');
    decoder.push(&id_line).unwrap();
    decoder.push(&b"data:\n\n".repeat(2048)).unwrap();
    let first = decoder.next_event().unwrap();
    let mut events = 1;
    while let Some(event) = decoder.next_event() {
        assert_eq!(
            event.last_event_id().as_ptr(),
            first.last_event_id().as_ptr()
        );
        events += 1;
    }
    assert_eq!(events, 2048);
}
