//! Scenario 6: clients that stop reading, against a stall timeout. Many
//! clients with small receive buffers send their request and never read,
//! one client reads slowly but steadily, and a publisher sends events at a
//! fixed rate. Measured: when the server releases each stalled connection
//! (its socket leaves the system's TCP table), the server's memory
//! meanwhile, its CPU per published event, and whether the slow reader was
//! cut. Ours run with the plan's stall timeout (none when it is zero); the
//! peers have none.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use super::{server_config, wait_subscribers};
use crate::load::Error;
use crate::load::child::ServerProcess;
use crate::load::client::publisher::{PublishPlan, publish};
use crate::load::client::spawn_runtime;
use crate::load::impls::Impl;
use crate::load::plan::Plan;

/// What one implementation did with the stalled clients.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StalledResult {
    /// The implementation.
    pub implementation: Option<Impl>,
    /// The stall timeout it ran with (ours), in seconds.
    pub stall_timeout_s: Option<f64>,
    /// Clients that stopped reading.
    pub stalled: usize,
    /// Of them, released by the server before publishing ended.
    pub released: usize,
    /// Seconds from the first publish until each release, sorted.
    pub release_s: Vec<f64>,
    /// Seconds publishing lasted.
    pub publish_s: f64,
    /// Server memory before the clients connected, in bytes.
    pub rss_before: u64,
    /// The most server memory seen while publishing, in bytes.
    pub rss_peak: u64,
    /// Server memory when publishing ended, in bytes.
    pub rss_after: u64,
    /// Server CPU time per published event, in microseconds.
    pub server_cpu_us_per_event: f64,
    /// Bytes the slow reader read.
    pub slow_reader_bytes: u64,
    /// Whether the slow reader's stream was cut (an error, or the end).
    pub slow_reader_cut: bool,
    /// The server's subscriber count when publishing ended (ours only).
    pub subscribers_after: Option<u64>,
    /// Why the step failed, if it did.
    pub error: Option<String>,
}

/// The stalled-client scenario of the plan against `kind`.
pub fn run(kind: Impl, plan: &Plan) -> StalledResult {
    let mut result = StalledResult {
        implementation: Some(kind),
        stalled: plan.stalled.clients,
        ..StalledResult::default()
    };
    if let Err(error) = measure(kind, plan, &mut result) {
        result.error = Some(error.to_string());
    }
    result
}

fn measure(kind: Impl, plan: &Plan, result: &mut StalledResult) -> Result<(), Error> {
    let stalled_plan = plan.stalled;
    let mut config = server_config(plan);
    if kind.is_ours() && !stalled_plan.stall_timeout.is_zero() {
        config.stall_timeout = Some(stalled_plan.stall_timeout);
        result.stall_timeout_s = Some(stalled_plan.stall_timeout.as_secs_f64());
    }
    let server = ServerProcess::start(kind, config)?;
    let address = server.address();
    result.rss_before = server.rss()?;

    // The clients, on a runtime of their own: the stalled ones are held
    // open (never read), the slow one reads on until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    // However the step ends (an error included), the clients stop and let
    // their sockets go: the next implementation does not run beside them.
    let _stop_on_return = StopOnDrop(stop.clone());
    let slow_bytes = Arc::new(AtomicU64::new(0));
    let slow_cut = Arc::new(AtomicBool::new(false));
    let (ports_sender, ports) = std::sync::mpsc::channel();
    let clients = {
        let (stop, slow_bytes, slow_cut) = (stop.clone(), slow_bytes.clone(), slow_cut.clone());
        spawn_runtime("sse-load stalled clients", move || async move {
            let mut held = Vec::new();
            let mut local_ports = Vec::new();
            for _ in 0..stalled_plan.clients {
                let stream = open_stalled(address).await?;
                local_ports.push(stream.local_addr()?.port());
                held.push(stream);
            }
            let _ = ports_sender.send(local_ports);
            let slow = tokio::spawn(read_slowly(
                address,
                stalled_plan.slow_reader_rate,
                stop.clone(),
                slow_bytes,
            ));
            while !stop.load(Ordering::Acquire) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if !matches!(slow.await, Ok(Ok(()))) {
                slow_cut.store(true, Ordering::Release);
            }
            drop(held);
            Ok::<(), Error>(())
        })?
    };
    let stalled_ports: HashSet<u16> = ports
        .recv_timeout(plan.connect_timeout)
        .map_err(|_| "the stalled clients did not connect")?
        .into_iter()
        .collect();
    let want = (stalled_plan.clients + 1) as u64;
    if let Some(count) = wait_subscribers(address, |count| count >= want, Duration::from_secs(30))?
        && count < want
    {
        return Err(format!("the server counts {count} of {want} subscribers").into());
    }

    let publish_plan = PublishPlan {
        events: (stalled_plan.rate * stalled_plan.duration.as_secs_f64()) as u64,
        rate: stalled_plan.rate,
        size: stalled_plan.size,
    };
    let cpu_before = server.cpu_seconds()?;
    let started = Instant::now();
    let publisher = spawn_runtime("sse-load publisher", move || publish(address, publish_plan))?;
    let mut released: HashMap<u16, f64> = HashMap::new();
    // Absent in two reads in a row: one read of the table is not atomic.
    let mut absent_once: HashSet<u16> = HashSet::new();
    result.rss_peak = result.rss_before;
    let limit = started + stalled_plan.duration * 3 + Duration::from_secs(10);
    while !publisher.is_finished() && Instant::now() < limit {
        result.rss_peak = result.rss_peak.max(server.rss()?);
        let open = established_to(address.port())?;
        for &port in &stalled_ports {
            if open.contains(&port) {
                absent_once.remove(&port);
            } else if !absent_once.insert(port) {
                released
                    .entry(port)
                    .or_insert_with(|| started.elapsed().as_secs_f64());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !publisher.is_finished() {
        return Err("publishing did not finish in time".into());
    }
    publisher.join().map_err(|_| "the publisher panicked")???;
    result.publish_s = started.elapsed().as_secs_f64();
    result.server_cpu_us_per_event =
        1e6 * (server.cpu_seconds()? - cpu_before) / publish_plan.events.max(1) as f64;
    result.rss_after = server.rss()?;
    result.rss_peak = result.rss_peak.max(result.rss_after);
    result.subscribers_after = wait_subscribers(address, |_| true, Duration::from_secs(5))?;
    stop.store(true, Ordering::Release);
    clients.join().map_err(|_| "the clients panicked")???;
    result.slow_reader_bytes = slow_bytes.load(Ordering::Acquire);
    result.slow_reader_cut = slow_cut.load(Ordering::Acquire);
    result.release_s = released.into_values().collect();
    result.release_s.sort_by(f64::total_cmp);
    result.released = result.release_s.len();
    Ok(())
}

/// Sets the flag when dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A client that sends `GET /events` and never reads, with as small a
/// receive buffer as the system allows.
async fn open_stalled(server: SocketAddr) -> Result<tokio::net::TcpStream, Error> {
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let mut stream = socket.connect(server).await?;
    let request = format!("GET /events HTTP/1.1\r\nHost: {server}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    Ok(stream)
}

/// A client on a thin link: `GET /events`, then `rate` bytes per second,
/// read every 100 ms, until `stop`. An error or the end of the stream
/// before that is a cut.
async fn read_slowly(
    server: SocketAddr,
    rate: u64,
    stop: Arc<AtomicBool>,
    read: Arc<AtomicU64>,
) -> Result<(), Error> {
    // A small receive buffer: what it has not read waits in the server's
    // socket, as a thin link's would, not in a large buffer here.
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(16 * 1024)?;
    let mut stream = socket.connect(server).await?;
    let request = format!("GET /events HTTP/1.1\r\nHost: {server}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let chunk = usize::try_from(rate / 10).unwrap_or(usize::MAX).max(1);
    let mut buffer = vec![0; chunk];
    while !stop.load(Ordering::Acquire) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // A stream with nothing to read for a while is not cut: `stop` is
        // looked at again.
        let Ok(read_now) =
            tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buffer)).await
        else {
            continue;
        };
        let n = read_now?;
        if n == 0 {
            return Err("the stream ended".into());
        }
        read.fetch_add(n as u64, Ordering::AcqRel);
    }
    Ok(())
}

/// The remote ports of the established TCP connections whose local port is
/// `port`, from `/proc/net/tcp`: the server's side of its clients'
/// connections. A connection the server released is not among them.
fn established_to(port: u16) -> Result<HashSet<u16>, Error> {
    let table = std::fs::read_to_string("/proc/net/tcp")?;
    let hex_port = |address: &str| {
        address
            .rsplit_once(':')
            .and_then(|(_, port)| u16::from_str_radix(port, 16).ok())
    };
    Ok(table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local, remote, state (01: established).
            let (local, remote, state) = (fields.get(1)?, fields.get(2)?, fields.get(3)?);
            (*state == "01" && hex_port(local)? == port).then(|| hex_port(remote))?
        })
        .collect())
}
