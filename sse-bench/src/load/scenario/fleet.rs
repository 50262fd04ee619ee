//! Many clients at once: opened on one client thread, then each receiving
//! (or just holding its stream) until told to stop.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, watch};

use crate::load::Error;
use crate::load::client::spawn_runtime;
use crate::load::client::subscriber::{Delivery, Subscriber};

/// Which clients to open.
#[derive(Debug, Clone)]
pub struct FleetPlan {
    /// The server.
    pub server: SocketAddr,
    /// The path every client requests.
    pub path: &'static str,
    /// Clients.
    pub clients: usize,
    /// Source addresses, used in turn.
    pub sources: Vec<IpAddr>,
    /// Connections opened at once.
    pub concurrency: usize,
    /// Events each client expects, numbered from 0; `None` to just hold
    /// the stream open, reading whatever comes.
    pub expected: Option<u64>,
    /// Opens, before the others, one more client that sends its request
    /// and never reads a byte.
    pub slow_client: bool,
}

/// Clients running on their own thread.
#[derive(Debug)]
pub struct Fleet {
    ready: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    first_error: Arc<Mutex<Option<String>>>,
    stop: watch::Sender<bool>,
    thread: JoinHandle<std::io::Result<Vec<Delivery>>>,
    clients: usize,
}

impl Fleet {
    /// Starts opening the clients.
    ///
    /// # Errors
    ///
    /// When the client thread cannot start.
    pub fn start(plan: FleetPlan) -> Result<Self, Error> {
        let ready = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let first_error = Arc::new(Mutex::new(None));
        let (stop, stopped) = watch::channel(false);
        let clients = plan.clients;
        let thread = {
            let (ready, failed, first_error) = (ready.clone(), failed.clone(), first_error.clone());
            spawn_runtime("sse-load clients", move || {
                run(plan, ready, failed, first_error, stopped)
            })?
        };
        Ok(Self {
            ready,
            failed,
            first_error,
            stop,
            thread,
            clients,
        })
    }

    /// Waits until every client has its response head; how long that took.
    ///
    /// # Errors
    ///
    /// When a client could not connect (the first error), or `timeout`
    /// passed first.
    pub fn wait_connected(&self, timeout: Duration) -> Result<Duration, Error> {
        let start = Instant::now();
        loop {
            let failed = self.failed.load(Ordering::Acquire);
            if failed > 0 {
                let error = self
                    .first_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                return Err(format!(
                    "{failed} of {} clients could not connect: {}",
                    self.clients,
                    error.unwrap_or_default()
                )
                .into());
            }
            if self.ready.load(Ordering::Acquire) == self.clients {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout || self.thread.is_finished() {
                return Err(format!(
                    "only {} of {} clients connected within {timeout:?}",
                    self.ready.load(Ordering::Acquire),
                    self.clients
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits up to `grace` for every client to have what it expected, then
    /// stops them all; what each received.
    ///
    /// # Errors
    ///
    /// When the client thread failed.
    pub fn finish(self, grace: Duration) -> Result<Vec<Delivery>, Error> {
        let deadline = Instant::now() + grace;
        while !self.thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.stop.send(true);
        match self.thread.join() {
            Ok(result) => Ok(result?),
            Err(_) => Err("the client thread panicked".into()),
        }
    }
}

async fn run(
    plan: FleetPlan,
    ready: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    first_error: Arc<Mutex<Option<String>>>,
    stop: watch::Receiver<bool>,
) -> Vec<Delivery> {
    let slow = if plan.slow_client {
        match open_slow(plan.server, plan.path).await {
            Ok(stream) => Some(stream),
            Err(error) => {
                failed.fetch_add(1, Ordering::AcqRel);
                *first_error.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(format!("slow client: {error}"));
                None
            }
        }
    } else {
        None
    };
    let permits = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let mut clients = Vec::with_capacity(plan.clients);
    for index in 0..plan.clients {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let source = plan.sources.get(index % plan.sources.len().max(1)).copied();
        let (ready, failed, first_error, stop) = (
            ready.clone(),
            failed.clone(),
            first_error.clone(),
            stop.clone(),
        );
        let (server, path, expected) = (plan.server, plan.path, plan.expected);
        clients.push(tokio::spawn(async move {
            let opened = Subscriber::open(server, source, path).await;
            drop(permit);
            match opened {
                Ok(subscriber) => {
                    ready.fetch_add(1, Ordering::AcqRel);
                    subscriber.receive(expected, stop).await
                }
                Err(error) => {
                    failed.fetch_add(1, Ordering::AcqRel);
                    first_error
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert_with(|| error.to_string());
                    Delivery {
                        error: Some(error.to_string()),
                        lost: expected.unwrap_or(0),
                        ..Delivery::default()
                    }
                }
            }
        }));
    }
    let mut deliveries = Vec::with_capacity(clients.len());
    for client in clients {
        deliveries.push(client.await.unwrap_or_else(|error| Delivery {
            error: Some(error.to_string()),
            ..Delivery::default()
        }));
    }
    drop(slow);
    deliveries
}

/// A client that sends `GET path` and never reads: its receive buffer is as
/// small as the system allows, so the server soon has to hold what it
/// cannot send.
async fn open_slow(server: SocketAddr, path: &str) -> Result<tokio::net::TcpStream, Error> {
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let mut stream = socket.connect(server).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    Ok(stream)
}
