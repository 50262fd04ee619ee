//! [`ConnectError`]: why a store could not be opened.

use std::error::Error;
use std::fmt;

/// Why [`NatsStoreBuilder::connect`](crate::NatsStoreBuilder::connect)
/// failed: no server could be reached, JetStream is not enabled, or the
/// stream could not be created or does not fit the store's settings.
#[derive(Debug)]
pub struct ConnectError(Box<dyn Error + Send + Sync>);

impl ConnectError {
    pub(crate) fn new(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self(cause.into())
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot open the JetStream store: {}", self.0)
    }
}

impl Error for ConnectError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.0)
    }
}
