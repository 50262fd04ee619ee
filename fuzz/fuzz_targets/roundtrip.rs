//! Any event the builder accepts is read back by the decoder as it was built,
//! with line breaks in the data normalised to LF.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sse_engine::Event;
use sse_engine::decode::Decoder;

#[derive(Debug, Arbitrary)]
struct Input {
    data: String,
    event: Option<String>,
    id: Option<String>,
    comment: Option<String>,
}

fuzz_target!(|input: Input| {
    let mut event = Event::new().data(input.data.clone());
    if let Some(name) = &input.event {
        match event.clone().try_event(name.clone()) {
            Ok(named) => event = named,
            Err(_) => {
                assert!(name.contains(['\r', '\n']));
                return;
            }
        }
    }
    if let Some(id) = &input.id {
        match event.clone().try_id(id.clone()) {
            Ok(with_id) => event = with_id,
            Err(_) => {
                assert!(id.contains(['\r', '\n', '\0']));
                return;
            }
        }
    }
    if let Some(comment) = input.comment {
        event = event.comment(comment);
    }
    let bytes = event.encode().into_bytes();

    let mut decoder = Decoder::new();
    decoder.push(&bytes).expect("within the default limits");
    let decoded = decoder.next_event().expect("an event with data is dispatched");
    assert!(decoder.next_event().is_none());
    assert_eq!(decoded.data(), input.data.replace("\r\n", "\n").replace('\r', "\n"));
    let expected_type = match input.event.as_deref() {
        None | Some("") => "message",
        Some(name) => name,
    };
    assert_eq!(decoded.event_type(), expected_type);
    assert_eq!(decoded.last_event_id(), input.id.as_deref().unwrap_or(""));
});
