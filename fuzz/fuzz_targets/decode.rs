//! Any bytes, cut into chunks anywhere: the decoder never panics, keeps to its
//! limits, and decodes the same events however the bytes are cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_engine::decode::{DecodedEvent, Decoder, Limits};

fn decode(chunks: &[&[u8]], limits: Limits) -> (Vec<DecodedEvent>, bool) {
    let mut decoder = Decoder::with_limits(limits);
    let mut events = Vec::new();
    let mut failed = false;
    for chunk in chunks {
        if decoder.push(chunk).is_err() {
            failed = true;
            break;
        }
    }
    decoder.finish();
    while let Some(event) = decoder.next_event() {
        assert!(event.data().len() <= limits.get_max_event_bytes());
        events.push(event);
    }
    (events, failed)
}

fuzz_target!(|input: (u8, Vec<u8>)| {
    let (cut_every, bytes) = input;
    let limits = Limits::new().max_line_bytes(512).max_event_bytes(1024);
    let (whole, whole_failed) = decode(&[&bytes], limits);
    let chunks: Vec<&[u8]> = bytes.chunks(usize::from(cut_every.max(1))).collect();
    let (cut, cut_failed) = decode(&chunks, limits);
    if !whole_failed && !cut_failed {
        assert_eq!(whole, cut);
    }
});
