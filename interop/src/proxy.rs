//! [`CutProxy`]: a TCP proxy on loopback that drops every connection on
//! demand, as a load balancer or a network blip does.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards connections to a server; [`cut`](CutProxy::cut) drops them all
/// and refuses new ones (closing them at once) until
/// [`resume`](CutProxy::resume). Clients then reconnect as they do after a
/// network failure.
#[derive(Debug)]
pub struct CutProxy {
    address: SocketAddr,
    upstream: Arc<Mutex<SocketAddr>>,
    refusing: Arc<AtomicBool>,
    /// Bumped by every cut: each connection ends when it changes.
    cuts: watch::Sender<u64>,
    accept: tokio::task::JoinHandle<()>,
}

impl CutProxy {
    /// A proxy on a free loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("an address");
        let refusing = Arc::new(AtomicBool::new(false));
        let upstream = Arc::new(Mutex::new(upstream));
        let (cuts, _) = watch::channel(0);
        let accept = tokio::spawn(accept_loop(
            listener,
            upstream.clone(),
            refusing.clone(),
            cuts.clone(),
        ));
        Self {
            address,
            upstream,
            refusing,
            cuts,
            accept,
        }
    }

    /// Where clients connect.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Drops every open connection; new ones are closed at once.
    pub fn cut(&self) {
        self.refusing.store(true, Ordering::SeqCst);
        self.cuts.send_modify(|cuts| *cuts += 1);
    }

    /// Sends new connections to `upstream` from now on (a server started
    /// again on another port, as behind a load balancer).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self.upstream.lock().unwrap_or_else(PoisonError::into_inner) = upstream;
    }

    /// Forwards new connections again.
    pub fn resume(&self) {
        self.refusing.store(false, Ordering::SeqCst);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: Arc<Mutex<SocketAddr>>,
    refusing: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
) {
    loop {
        // An accept error (out of file descriptors) is passing: try again.
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        // Subscribed first: a cut after this point ends the connection.
        let mut cut = cuts.subscribe();
        if refusing.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let upstream = *upstream.lock().unwrap_or_else(PoisonError::into_inner);
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let mut client = client;
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = cut.changed() => {}
            }
        });
    }
}
