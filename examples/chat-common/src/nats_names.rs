//! The chat's names registry (see [`names`](crate::names)) in two NATS
//! JetStream streams that keep one message per name, so that the servers'
//! own clocks never meet: the server's expiry decides. `<stream>_NAMES_FRESH`
//! keeps each name for [`REANNOUNCE_AFTER`] after its last announcement (a
//! name in it is in use), `<stream>_NAMES_RECENT` for [`REMEMBERED`] (what a
//! page that loads is told). (Plain streams rather than key-value buckets,
//! which this client cannot create on the nats-server 2.9 of Debian.) A
//! name's subject token is its bytes in hex: a name may hold any character
//! but a line break, a subject token few.

use std::fmt::Write as _;
use std::time::Duration;

use async_nats::jetstream::stream::{self, LastRawMessageErrorKind, Stream};
use async_nats::jetstream::{self, Context};
use futures_util::TryStreamExt;

use crate::ChatError;
use crate::names::{MAX_EVENT_NAMES, REANNOUNCE_AFTER, REMEMBERED};
use crate::registry::Claim;

/// How long a `503` asks a client to wait.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A chat's names in NATS.
#[derive(Clone)]
pub(crate) struct NatsNames {
    jetstream: Context,
    fresh: Stream,
    recent: Stream,
    /// The subjects' common start: `<stream>_names`.
    base: String,
}

impl std::fmt::Debug for NatsNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsNames")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl NatsNames {
    /// The registry of the chat whose stream is `stream`, on the NATS
    /// servers at `servers`, its streams replicated `replicas` times.
    pub(crate) async fn connect(
        servers: &[String],
        stream: &str,
        replicas: usize,
    ) -> Result<Self, String> {
        let addresses = servers
            .iter()
            .map(|server| server.parse::<async_nats::ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| error.to_string())?;
        let client = async_nats::connect(addresses)
            .await
            .map_err(|error| error.to_string())?;
        let jetstream = jetstream::new(client);
        let base = format!("{stream}_names");
        let open = |kind: &str, max_age: Duration| stream::Config {
            name: format!("{stream}_NAMES_{}", kind.to_ascii_uppercase()),
            subjects: vec![format!("{base}.{kind}.*")],
            max_age,
            max_messages_per_subject: 1,
            num_replicas: replicas,
            ..stream::Config::default()
        };
        let fresh = jetstream
            .get_or_create_stream(open("fresh", REANNOUNCE_AFTER))
            .await
            .map_err(|error| error.to_string())?;
        let recent = jetstream
            .get_or_create_stream(open("recent", REMEMBERED))
            .await
            .map_err(|error| error.to_string())?;
        Ok(Self {
            jetstream,
            fresh,
            recent,
            base,
        })
    }

    pub(crate) async fn claim(&self, name: &str) -> Result<Claim, ChatError> {
        let subject = format!("{}.fresh.{}", self.base, key(name));
        match self.fresh.get_last_raw_message_by_subject(&subject).await {
            Ok(_) => return Ok(Claim::InUse),
            Err(error) if error.kind() == LastRawMessageErrorKind::NoMessageFound => {}
            Err(error) => return Err(unavailable(error)),
        }
        let mut fresh = self.fresh.clone();
        let in_use = fresh.info().await.map_err(unavailable)?.state.messages;
        Ok(
            if usize::try_from(in_use).unwrap_or(usize::MAX) >= MAX_EVENT_NAMES {
                Claim::Full
            } else {
                Claim::Announce
            },
        )
    }

    pub(crate) async fn record(&self, name: &str) -> Result<(), ChatError> {
        for kind in ["fresh", "recent"] {
            let subject = format!("{}.{kind}.{}", self.base, key(name));
            let payload = bytes::Bytes::copy_from_slice(name.as_bytes());
            self.jetstream
                .publish(subject, payload)
                .await
                .map_err(unavailable)?
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    pub(crate) async fn recent(&self) -> Result<Vec<String>, ChatError> {
        let prefix = format!("{}.recent.", self.base);
        let subjects = self
            .recent
            .info_with_subjects(format!("{prefix}*"))
            .await
            .map_err(unavailable)?;
        let subjects: Vec<(String, usize)> = subjects.try_collect().await.map_err(unavailable)?;
        Ok(subjects
            .iter()
            .filter_map(|(subject, _)| name_of(subject.strip_prefix(&prefix)?))
            .collect())
    }
}

/// The key of `name`: its bytes in hex.
fn key(name: &str) -> String {
    let mut key = String::with_capacity(name.len() * 2 + 1);
    // Never empty: a name is not, but a key must not be either.
    key.push('n');
    for byte in name.bytes() {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

/// The name a key holds, if it is one.
fn name_of(key: &str) -> Option<String> {
    let hex = key.strip_prefix('n')?;
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// A NATS failure as the chat answers it: its text stays in the log.
fn unavailable(error: impl std::fmt::Display) -> ChatError {
    tracing::warn!(%error, "the event names in NATS cannot be reached");
    ChatError::unavailable(RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::{key, name_of};

    #[test]
    fn any_name_is_a_key_and_back() {
        for name in ["note", "name 0", "é✓", "a.b*c>", "x"] {
            let key = key(name);
            assert!(
                key.bytes().all(|byte| byte.is_ascii_alphanumeric()),
                "{key}"
            );
            assert_eq!(name_of(&key).as_deref(), Some(name));
        }
        assert_eq!(name_of("nzz"), None);
        assert_eq!(name_of("other"), None);
    }
}
