//! The accept loop against real loopback sockets; distinct 127.0.0.x source
//! addresses stand for distinct clients, and timeouts are shortened.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use super::*;
use crate::metrics::Metrics;

fn options(slots: SlotLimits) -> ServeOptions {
    ServeOptions {
        listener: "admin",
        slots,
        first_byte_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        trusted_proxies: TrustedProxies::default(),
        metrics: Metrics::new(),
        tls: None,
    }
}

fn limits(max: usize, per_address: usize, reserved: usize) -> SlotLimits {
    SlotLimits {
        max,
        per_address,
        reserved,
    }
}

async fn start(options: ServeOptions) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().route(
        "/",
        axum::routing::get(
            |axum::Extension(c): axum::Extension<ClientAddr>| async move {
                format!("{} {} {}", c.peer.ip(), c.ip, c.via_trusted_proxy)
            },
        ),
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, router, options, async move {
        let _ = rx.await;
    }));
    (addr, tx)
}

/// A connection from 127.0.0.`n`.
async fn connect_from(n: u8, addr: SocketAddr) -> tokio::net::TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from(([127, 0, 0, n], 0))).unwrap();
    socket.connect(addr).await.unwrap()
}

async fn get_with(stream: &mut tokio::net::TcpStream, extra: &str) -> String {
    let req = format!("GET / HTTP/1.1\r\nhost: x\r\n{extra}\r\n");
    if stream.write_all(req.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an answer or a close, not silence")
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

async fn get(stream: &mut tokio::net::TcpStream) -> String {
    get_with(stream, "").await
}

/// Whether the server closed `stream` (within 5 s).
async fn closed(stream: &mut tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

fn refused(m: &Metrics, reason: &str) -> u64 {
    m.connections_refused
        .with_label_values(&["admin", reason])
        .get()
}

#[tokio::test]
async fn requests_carry_the_tcp_peer() {
    let (addr, _stop) = start(options(limits(4, 4, 0))).await;
    let mut s = connect_from(5, addr).await;
    assert!(get(&mut s).await.ends_with("127.0.0.5 127.0.0.5 false"));
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let mut opts = options(limits(8, 8, 0));
    opts.trusted_proxies = TrustedProxies::new(vec!["127.0.0.7/32".parse().unwrap()]);
    let (addr, _stop) = start(opts).await;
    let xff = "x-forwarded-for: 6.6.6.6, 198.51.100.4\r\n";
    let mut proxy = connect_from(7, addr).await;
    assert!(get_with(&mut proxy, xff)
        .await
        .ends_with("127.0.0.7 198.51.100.4 true"),);
    let mut direct = connect_from(8, addr).await;
    assert!(get_with(&mut direct, xff)
        .await
        .ends_with("127.0.0.8 127.0.0.8 false"));
}

#[tokio::test]
async fn connections_over_the_limit_are_closed_at_once() {
    let opts = options(limits(1, 1, 0));
    let metrics = opts.metrics.clone();
    let (addr, _stop) = start(opts).await;
    let mut first = connect_from(1, addr).await;
    assert!(get(&mut first).await.starts_with("HTTP/1.1 200"));
    // The first connection is kept alive and holds the only slot.
    let mut second = connect_from(2, addr).await;
    let _ = second.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(closed(&mut second).await, "closed without an answer");
    assert_eq!(refused(&metrics, "limit"), 1);
}

#[tokio::test]
async fn one_address_cannot_take_every_slot() {
    let opts = options(limits(16, 3, 0));
    let metrics = opts.metrics.clone();
    let (addr, _stop) = start(opts).await;
    // 127.0.0.2 opens idle sockets as fast as it can.
    let mut hog = Vec::new();
    for _ in 0..3 {
        hog.push(connect_from(2, addr).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fourth = connect_from(2, addr).await;
    assert!(closed(&mut fourth).await);
    // Another client is served all the same.
    let mut other = connect_from(3, addr).await;
    assert!(get(&mut other).await.starts_with("HTTP/1.1 200"));
    assert_eq!(refused(&metrics, "per_address"), 1);
}

#[tokio::test]
async fn the_reserve_keeps_probes_in_when_a_few_addresses_fill_the_pool() {
    // The admin listener's shape: 64 slots, 4 per address, 16 reserved.
    let opts = options(limits(64, 4, 16));
    let metrics = opts.metrics.clone();
    let (addr, _stop) = start(opts).await;
    let mut attack = Vec::new();
    // 20 attacking addresses, each trying to hold 8 idle sockets.
    for n in 10..30u8 {
        for _ in 0..8 {
            attack.push(connect_from(n, addr).await);
        }
    }
    // A probe from a fresh address (the kubelet) still gets in. To shut it out,
    // an attacker needs 48 / 4 + 16 = 28 addresses, each re-opening within the
    // first-byte timeout. (Accepted after the attack: its counts are final.)
    let mut probe = connect_from(200, addr).await;
    assert!(get(&mut probe).await.starts_with("HTTP/1.1 200"));
    // 12 addresses fill the 48 general slots, the other 8 get one reserved slot
    // each, and everything else is closed at once: 56 held, 104 refused.
    let count = |r| refused(&metrics, r);
    assert_eq!(count("per_address"), 12 * 4);
    assert_eq!(count("reserved"), 8 * 7);
    assert_eq!(count("limit"), 0);
    drop(attack);
}

#[tokio::test]
async fn a_silent_new_connection_is_closed_after_the_first_byte_timeout() {
    let mut opts = options(limits(4, 4, 0));
    opts.first_byte_timeout = Duration::from_millis(300);
    let metrics = opts.metrics.clone();
    let (addr, _stop) = start(opts).await;
    let mut silent = connect_from(2, addr).await;
    let started = std::time::Instant::now();
    assert!(closed(&mut silent).await);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(refused(&metrics, "first_byte_timeout"), 1);
    // A client that speaks in time is served.
    let mut s = connect_from(2, addr).await;
    assert!(get(&mut s).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_but_a_busy_one_is_not() {
    let mut opts = options(limits(4, 4, 0));
    opts.idle_timeout = Duration::from_millis(400);
    let (addr, _stop) = start(opts).await;
    let mut busy = connect_from(2, addr).await;
    for _ in 0..8 {
        assert!(get(&mut busy).await.starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // Quiet for longer than the idle timeout: closed.
    let started = std::time::Instant::now();
    assert!(closed(&mut busy).await);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn shutdown_waits_for_connections_then_returns() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        listener,
        router,
        options(limits(4, 4, 0)),
        async move {
            let _ = rx.await;
        },
    ));
    let mut s = connect_from(2, addr).await;
    assert!(get(&mut s).await.starts_with("HTTP/1.1 200"));
    let _ = tx.send(());
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("idle connections are closed on shutdown")
        .unwrap()
        .unwrap();
}
