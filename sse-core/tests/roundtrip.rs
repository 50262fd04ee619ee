//! Property tests: whatever the encoder writes, the decoder reads back; and
//! decoding does not depend on how the bytes are cut into chunks.

use std::convert::Infallible;
use std::time::Duration;

use futures_util::stream;
use http_body_util::BodyExt;
use proptest::prelude::*;
use sse_engine::decode::{DecodedEvent, Decoder, Limits};
use sse_engine::{Event, SseBody, Text};

/// Text rich in what matters to the wire format: every kind of line break,
/// spaces, colons, NUL, non-ASCII.
fn wire_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_owned()),
        Just("\r".to_owned()),
        Just("\r\n".to_owned()),
        Just(" ".to_owned()),
        Just(":".to_owned()),
        Just("\0".to_owned()),
        Just("data: x".to_owned()),
        Just("\u{feff}".to_owned()),
        any::<String>(),
        "[a-z é€😀]{0,8}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

fn single_line(text: &str, forbid_nul: bool) -> String {
    text.chars()
        .filter(|c| *c != '\r' && *c != '\n' && !(forbid_nul && *c == '\0'))
        .collect()
}

#[derive(Debug, Clone)]
struct Spec {
    data: String,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
    comment: Option<String>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        wire_text(),
        prop::option::of(wire_text()),
        prop::option::of(wire_text()),
        prop::option::of(any::<u32>()),
        prop::option::of(wire_text()),
    )
        .prop_map(|(data, event, id, retry, comment)| Spec {
            data,
            event: event.map(|e| single_line(&e, false)),
            id: id.map(|i| single_line(&i, true)),
            retry: retry.map(u64::from),
            comment,
        })
}

fn build(spec: &Spec) -> Event {
    let mut event = Event::new().data(spec.data.clone());
    if let Some(name) = &spec.event {
        event = event.try_event(name.clone()).unwrap();
    }
    if let Some(id) = &spec.id {
        event = event.try_id(id.clone()).unwrap();
    }
    if let Some(retry) = spec.retry {
        event = event.retry(Duration::from_millis(retry));
    }
    if let Some(comment) = &spec.comment {
        event = event.comment(Text::from(comment.clone()));
    }
    event
}

fn normalised(data: &str) -> String {
    data.replace("\r\n", "\n").replace('\r', "\n")
}

fn decode_all(chunks: &[&[u8]]) -> Vec<DecodedEvent> {
    let mut decoder = Decoder::with_limits(Limits::new());
    let mut events = Vec::new();
    for chunk in chunks {
        decoder.push(chunk).unwrap();
        events.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    decoder.finish();
    events
}

fn check_against(specs: &[Spec], decoded: &[DecodedEvent]) {
    assert_eq!(decoded.len(), specs.len());
    let mut last_id = String::new();
    for (spec, event) in specs.iter().zip(decoded) {
        if let Some(id) = &spec.id {
            last_id.clone_from(id);
        }
        let expected_type = match spec.event.as_deref() {
            None | Some("") => "message",
            Some(name) => name,
        };
        assert_eq!(event.event_type(), expected_type);
        assert_eq!(event.data(), normalised(&spec.data));
        assert_eq!(event.last_event_id(), last_id);
        assert_eq!(event.retry(), spec.retry.map(Duration::from_millis));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_gives_the_event_back(spec in spec()) {
        let bytes = build(&spec).encode().into_bytes();
        check_against(&[spec], &decode_all(&[&bytes]));
    }

    #[test]
    fn a_body_of_many_events_decodes_to_the_same_events(
        specs in prop::collection::vec(spec(), 0..12),
        max_frame in 1usize..256,
    ) {
        let events: Vec<_> = specs.iter().map(|s| Ok::<_, Infallible>(build(s))).collect();
        let body = SseBody::new(stream::iter(events)).max_frame_bytes(max_frame);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let bytes = runtime.block_on(body.collect()).unwrap().to_bytes();
        check_against(&specs, &decode_all(&[&bytes]));
    }

    #[test]
    fn chunking_does_not_change_what_is_decoded(
        input in prop::collection::vec(
            prop_oneof![
                Just(b'\n'), Just(b'\r'), Just(b':'), Just(b' '), Just(0xEF), Just(0xBB),
                Just(0xBF), Just(0xFF), Just(0xE2), Just(0x82), Just(b'd'), Just(b'a'),
                Just(b't'), Just(b'i'), any::<u8>(),
            ],
            0..300,
        ),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let whole = decode_all(&[&input]);
        let byte_by_byte: Vec<&[u8]> = input.chunks(1).collect();
        prop_assert_eq!(&decode_all(&byte_by_byte), &whole);

        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for point in points {
            chunks.push(&input[start..point]);
            start = point;
        }
        chunks.push(&input[start..]);
        prop_assert_eq!(&decode_all(&chunks), &whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_respect_the_limits(
        input in prop::collection::vec(any::<u8>(), 0..2000),
        max_line in 1usize..64,
        max_event in 1usize..128,
    ) {
        let mut decoder = Decoder::with_limits(Limits::new().max_line_bytes(max_line).max_event_bytes(max_event));
        for chunk in input.chunks(7) {
            if decoder.push(chunk).is_err() {
                prop_assert!(decoder.push(b"data: more\n\n").is_err(), "errors are final");
                break;
            }
        }
        while let Some(event) = decoder.next_event() {
            prop_assert!(event.data().len() <= max_event);
        }
    }
}
