//! Opening the hub's stream: creating it when it is missing, bringing its
//! limits to the builder's, and reading its epoch and head.

use std::time::Duration;

use async_nats::jetstream::Context;
use async_nats::jetstream::context::{CreateStreamErrorKind, GetStreamErrorKind};
use async_nats::jetstream::stream::{self, DiscardPolicy, StorageType};
use sse_engine::hub::Epoch;

use crate::epoch;
use crate::error::ConnectError;
use crate::subject::Subjects;

/// The limits and placement the builder asks of the stream.
#[derive(Debug, Clone)]
pub(crate) struct StreamSettings {
    pub(crate) name: String,
    pub(crate) prefix: String,
    pub(crate) replicas: usize,
    pub(crate) max_messages: Option<u64>,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) duplicate_window: Duration,
    pub(crate) memory: bool,
}

impl StreamSettings {
    fn config(&self, epoch: Epoch) -> stream::Config {
        let limit = |value: Option<u64>| value.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX));
        stream::Config {
            name: self.name.clone(),
            description: Some(epoch::description(epoch)),
            subjects: vec![Subjects::new(&self.prefix, epoch).all()],
            num_replicas: self.replicas,
            max_messages: limit(self.max_messages),
            max_bytes: limit(self.max_bytes),
            max_age: self.max_age.unwrap_or_default(),
            // The oldest events go to make room: a log, not a queue.
            discard: DiscardPolicy::Old,
            // JetStream refuses a window longer than the age limit.
            duplicate_window: self
                .max_age
                .map_or(self.duplicate_window, |age| self.duplicate_window.min(age)),
            storage: if self.memory {
                StorageType::Memory
            } else {
                StorageType::File
            },
            ..stream::Config::default()
        }
    }

    /// Whether `config`'s limits are this builder's.
    fn same_limits(&self, config: &stream::Config) -> bool {
        let wanted = self.config(Epoch::from_bits(0));
        config.max_messages == wanted.max_messages
            && config.max_bytes == wanted.max_bytes
            && config.max_age == wanted.max_age
            && config.duplicate_window == wanted.duplicate_window
            && config.num_replicas == wanted.num_replicas
    }
}

/// What the store needs to know of the stream it opened.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) epoch: Epoch,
    pub(crate) head: u64,
}

/// Opens the stream, creating it (with a new random epoch) when missing.
pub(crate) async fn open(
    jetstream: &Context,
    settings: &StreamSettings,
) -> Result<Opened, ConnectError> {
    // Twice at most: another process may create it between our look and
    // our create.
    for _ in 0..2 {
        match jetstream.get_stream(&settings.name).await {
            Ok(mut stream) => {
                let info = stream.info().await.map_err(ConnectError::new)?.clone();
                return adopt(jetstream, settings, info).await;
            }
            Err(error) if is_missing(error.kind()) => {}
            Err(error) => return Err(ConnectError::new(error)),
        }
        let config = settings.config(Epoch::random());
        match jetstream.create_stream(config).await {
            Ok(mut stream) => {
                let info = stream.info().await.map_err(ConnectError::new)?.clone();
                tracing::info!(stream = settings.name, "created the JetStream stream");
                return opened(&info);
            }
            Err(error) if name_taken(&error.kind()) => continue,
            Err(error) => return Err(ConnectError::new(error)),
        }
    }
    Err(ConnectError::new(format!(
        "the stream {:?} is created and deleted under us",
        settings.name
    )))
}

/// An existing stream: checked to be one of ours, capturing our subjects,
/// and its limits brought to ours (keeping its description, so its epoch).
async fn adopt(
    jetstream: &Context,
    settings: &StreamSettings,
    info: stream::Info,
) -> Result<Opened, ConnectError> {
    let opened = opened(&info)?;
    let subjects = Subjects::new(&settings.prefix, opened.epoch).all();
    if !info.config.subjects.contains(&subjects) {
        return Err(ConnectError::new(format!(
            "the stream {:?} captures {:?}, not {subjects:?}",
            settings.name, info.config.subjects
        )));
    }
    if !settings.same_limits(&info.config) {
        let wanted = settings.config(opened.epoch);
        let config = stream::Config {
            max_messages: wanted.max_messages,
            max_bytes: wanted.max_bytes,
            max_age: wanted.max_age,
            duplicate_window: wanted.duplicate_window,
            num_replicas: wanted.num_replicas,
            ..info.config.clone()
        };
        jetstream
            .update_stream(config)
            .await
            .map_err(ConnectError::new)?;
        tracing::info!(
            stream = settings.name,
            "brought the stream's limits to the store's"
        );
    }
    Ok(opened)
}

/// The epoch a stream's description records, and how far it has gone.
fn opened(info: &stream::Info) -> Result<Opened, ConnectError> {
    let epoch = info
        .config
        .description
        .as_deref()
        .and_then(epoch::from_description)
        .ok_or_else(|| {
            ConnectError::new(format!(
                "the stream {:?} has no epoch in its description: it was not made by sse-nats",
                info.config.name
            ))
        })?;
    Ok(Opened {
        epoch,
        head: info.state.last_sequence,
    })
}

/// The stream as it is now: its epoch and last sequence number, to notice
/// one created again or rolled back. `None` when it does not exist.
pub(crate) async fn current(
    jetstream: &Context,
    name: &str,
) -> Result<Option<Opened>, ConnectError> {
    match jetstream.get_stream(name).await {
        Ok(mut stream) => {
            let info = stream.info().await.map_err(ConnectError::new)?;
            Ok(Some(opened(info)?))
        }
        Err(error) if is_missing(error.kind()) => Ok(None),
        Err(error) => Err(ConnectError::new(error)),
    }
}

fn is_missing(kind: GetStreamErrorKind) -> bool {
    matches!(kind, GetStreamErrorKind::JetStream(error)
        if error.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND)
}

fn name_taken(kind: &CreateStreamErrorKind) -> bool {
    matches!(kind, CreateStreamErrorKind::JetStream(error)
        if error.error_code() == async_nats::jetstream::ErrorCode::STREAM_NAME_EXIST)
}
