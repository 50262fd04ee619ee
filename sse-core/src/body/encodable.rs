//! [`Encodable`]: what a body's stream may yield.

use crate::encode::FrameBuf;
use crate::event::encode_encoded;
use crate::{EncodedEvent, Event, EventId};

/// An item an [`SseBody`](crate::SseBody) can write: an [`Event`], or an
/// [`EncodedEvent`] that is shared with other clients and is not encoded again.
///
/// This trait is sealed.
pub trait Encodable: sealed::Sealed {}

impl Encodable for Event {}
impl Encodable for EncodedEvent {}

// The trait is sealed: nobody outside the crate can name it, so its methods
// may use the crate's private frame buffer.
#[allow(private_interfaces)]
pub(crate) mod sealed {
    use super::{EventId, FrameBuf};

    pub trait Sealed {
        fn event_id(&self) -> Option<&EventId>;
        /// Clients dispatch it (it has data), so it takes a sequence id.
        fn dispatches(&self) -> bool;
        fn encode_into(self, fallback_id: Option<&EventId>, out: &mut FrameBuf);
        /// Its stream had nothing more ready when it yielded it.
        fn last_ready(&self) -> bool {
            false
        }
    }
}

#[allow(private_interfaces)]
impl sealed::Sealed for Event {
    fn event_id(&self) -> Option<&EventId> {
        self.get_id()
    }

    fn dispatches(&self) -> bool {
        Event::dispatches(self)
    }

    fn encode_into(self, fallback_id: Option<&EventId>, out: &mut FrameBuf) {
        Event::encode_into(self, fallback_id, out);
    }
}

#[allow(private_interfaces)]
impl sealed::Sealed for EncodedEvent {
    fn event_id(&self) -> Option<&EventId> {
        self.id()
    }

    fn dispatches(&self) -> bool {
        EncodedEvent::dispatches(self)
    }

    fn encode_into(self, fallback_id: Option<&EventId>, out: &mut FrameBuf) {
        encode_encoded(self, fallback_id, out);
    }

    fn last_ready(&self) -> bool {
        self.is_last_ready()
    }
}
