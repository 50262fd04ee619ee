//! The server implementations under test, by name.

use std::fmt;
use std::str::FromStr;

/// One server implementation of the [wire](super::wire) interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Impl {
    /// Ours: sse-axum, with the sse-engine hub.
    OursAxum,
    /// Ours: sse-actix, with the sse-engine hub.
    OursActix,
    /// Peer: axum's `response::sse` over `tokio::sync::broadcast`.
    Axum,
    /// Peer: actix-web-lab's `sse` over `tokio::sync::broadcast`.
    ActixWebLab,
    /// The ceiling: plain hyper streaming pre-encoded bytes (`/flood` and
    /// `/hold` only).
    RawHyper,
}

impl Impl {
    /// Every implementation, ours first.
    pub const ALL: [Impl; 5] = [
        Impl::OursAxum,
        Impl::OursActix,
        Impl::Axum,
        Impl::ActixWebLab,
        Impl::RawHyper,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Impl::OursAxum => "ours-axum",
            Impl::OursActix => "ours-actix",
            Impl::Axum => "axum",
            Impl::ActixWebLab => "actix-web-lab",
            Impl::RawHyper => "raw-hyper",
        }
    }

    /// Whether this is one of ours.
    pub fn is_ours(self) -> bool {
        matches!(self, Impl::OursAxum | Impl::OursActix)
    }

    /// Whether it serves `/events` and `/publish` (all but the raw ceiling).
    pub fn publishes(self) -> bool {
        self != Impl::RawHyper
    }
}

impl fmt::Display for Impl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Impl {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Impl::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Impl::ALL.iter().map(|kind| kind.name()).collect();
                format!(
                    "unknown implementation {name:?}; one of {}",
                    names.join(", ")
                )
            })
    }
}

impl serde::Serialize for Impl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}
