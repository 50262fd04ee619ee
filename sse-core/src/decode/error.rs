//! Errors of the decoder and of streams decoded with it.

use std::error::Error;
use std::fmt;

/// The peer broke one of the decoder's [`Limits`](super::Limits). Final: the
/// decoder returns it again for every later chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// A line grew past the limit without ending.
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// An event's data and type grew past the limit before the event ended.
    EventTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { limit } => {
                write!(f, "event stream line longer than {limit} bytes")
            }
            Self::EventTooLarge { limit } => {
                write!(f, "event stream event larger than {limit} bytes")
            }
        }
    }
}

impl Error for DecodeError {}

/// An error of an [`EventStream`](super::EventStream): the bytes could not be
/// read, or they broke the decoder's limits.
#[derive(Debug)]
pub enum EventStreamError<E> {
    /// The underlying stream or body failed.
    Transport(E),
    /// The bytes broke a limit of the decoder.
    Decode(DecodeError),
}

impl<E: fmt::Display> fmt::Display for EventStreamError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(error) => write!(f, "reading the event stream failed: {error}"),
            Self::Decode(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl<E: Error + 'static> Error for EventStreamError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Transport(error) => Some(error),
            Self::Decode(error) => Some(error),
        }
    }
}
