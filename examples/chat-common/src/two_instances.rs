//! Two processes of a chat server on one real Redis (or one real NATS
//! server), as behind a load balancer: what both chat examples must do when
//! `REDIS_URL` (or `NATS_URL`) is set.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::retried_posts::post_with_keys;
use crate::suite::{Stream, event_names, post_ok};

/// A chat server process, killed when dropped.
pub(crate) struct Instance {
    child: Child,
    pub(crate) base: String,
}

impl Instance {
    fn start(binary: &str, redis_url: &str) -> Self {
        Self::start_with(binary, redis_url, &[("REDIS_PREFIX", "two-instances:")])
    }

    /// Started with the variables `env` (besides `PORT` and `REDIS_URL`).
    fn start_with(binary: &str, redis_url: &str, env: &[(&str, &str)]) -> Self {
        let mut all = vec![("REDIS_URL", redis_url)];
        all.extend_from_slice(env);
        Self::start_env(binary, &all)
    }

    /// Started with the variables `env` (besides `PORT`).
    pub(crate) fn start_env(binary: &str, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(binary)
            .env("PORT", port.to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("the example starts");
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(address).is_err() {
            assert!(Instant::now() < deadline, "the example did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            base: format!("http://{address}"),
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts two instances of the chat server `binary` on the Redis at
/// `redis_url`: a client that reconnects to the other instance with its
/// `Last-Event-ID` gets exactly the messages it missed there, and an event
/// name first used through one instance is known to pages of the other.
///
/// # Panics
///
/// When either instance does not do so.
pub async fn a_client_moves_to_the_other_instance_and_misses_nothing(
    binary: &str,
    redis_url: &str,
) {
    let a = Instance::start(binary, redis_url);
    let b = Instance::start(binary, redis_url);
    moves_and_misses_nothing(&a, &b).await;
}

/// [`a_client_moves_to_the_other_instance_and_misses_nothing`], with both
/// instances on the NATS server at `nats_url` (`NATS_URL`): the same
/// stream, the same names registry.
///
/// # Panics
///
/// When either instance does not do so.
pub async fn on_nats_a_client_moves_to_the_other_instance_and_misses_nothing(
    binary: &str,
    nats_url: &str,
) {
    let env = [("NATS_URL", nats_url), ("NATS_STREAM", "TWO_INSTANCES")];
    let a = Instance::start_env(binary, &env);
    let b = Instance::start_env(binary, &env);
    moves_and_misses_nothing(&a, &b).await;
}

async fn moves_and_misses_nothing(a: &Instance, b: &Instance) {
    let mut on_a = Stream::open(&a.base, "", None).await;
    on_a.ready().await;
    post_ok(&a.base, "hello from a", None).await;
    let seen = on_a.next(1).await;
    assert_eq!(seen[0].data(), "hello from a");
    let last_id = seen[0].last_event_id().to_owned();
    drop(on_a);

    // Posted while the client is away, to either instance.
    post_ok(&b.base, "missed on b", None).await;
    post_ok(&a.base, "missed on a", None).await;

    let mut on_b = Stream::open(&b.base, "", Some(&last_id)).await;
    let resumed = on_b.next(2).await;
    assert_eq!(
        resumed.iter().map(|event| event.data()).collect::<Vec<_>>(),
        ["missed on b", "missed on a"]
    );
    post_ok(&a.base, "live", None).await;
    assert_eq!(on_b.next(1).await[0].data(), "live");

    // A name first used through b: a learns it from the shared log, so a
    // page that loads on a listens to it, and a, which does not announce it
    // again, loses that page nothing.
    let first_use = post_ok(&b.base, "named on b", Some("from-b")).await;
    let (names, through) = event_names(&a.base, Some(&first_use)).await;
    assert_eq!(names, ["from-b"]);
    let mut page_on_a = Stream::open(&a.base, &format!("?lastEventId={through}"), None).await;
    let id = post_ok(&a.base, "named on a", Some("from-b")).await;
    let events = page_on_a.next(1).await;
    assert_eq!(
        (
            events[0].event_type(),
            events[0].data(),
            events[0].last_event_id()
        ),
        ("from-b", "named on a", id.as_str())
    );

    // A post retried through the other instance under the same
    // Idempotency-Key: the first one's id, and one message.
    let mut fresh_on_b = Stream::open(&b.base, "", None).await;
    fresh_on_b.ready().await;
    let key = format!("moved-{:x}", crate::retried_posts::rand_suffix());
    let message = r#"{"data":"posted, retried on the other"}"#;
    let (status, first) = post_with_keys(&a.base, &[key.as_bytes()], message).await;
    assert_eq!(status, 200, "{first}");
    let (status, retried) = post_with_keys(&b.base, &[key.as_bytes()], message).await;
    assert_eq!((status, &retried), (200, &first), "the same id");
    let after = post_ok(&b.base, "after the retry", None).await;
    let events = fresh_on_b.next(2).await;
    assert_eq!(
        events.iter().map(|event| event.data()).collect::<Vec<_>>(),
        ["posted, retried on the other", "after the retry"],
        "once"
    );
    assert_eq!(events[1].last_event_id(), after);
}

/// Starts an instance of the chat server `binary` on the Redis at
/// `redis_url`, which keeps few messages; uses an event name, then posts
/// until Redis has trimmed the name's announcement, and starts a second
/// instance: a page that loads on it listens to the name (from the names
/// recorded in Redis), and shows the next message with it.
///
/// # Panics
///
/// When either instance does not do so.
pub async fn an_instance_started_late_knows_the_names_in_use(binary: &str, redis_url: &str) {
    // Redis trims approximately, by nodes of 100 entries: 250 messages
    // leave at least the first one out.
    let env = [("REDIS_PREFIX", "started-late:"), ("REDIS_MAX_LEN", "1")];
    let a = Instance::start_with(binary, redis_url, &env);
    let announced = post_ok(&a.base, "first", Some("early")).await;
    for n in 0..250 {
        post_ok(&a.base, &format!("filler {n}"), None).await;
    }
    let late = Instance::start_with(binary, redis_url, &env);
    let mut trimmed = Stream::open(&late.base, "", Some(&announced)).await;
    assert_eq!(
        trimmed.next(1).await[0].event_type(),
        "gap",
        "the announcement is trimmed"
    );
    let (names, through) = event_names(&late.base, None).await;
    assert_eq!(names, ["early"]);
    let mut page_on_late = Stream::open(&late.base, &format!("?lastEventId={through}"), None).await;
    let id = post_ok(&a.base, "later", Some("early")).await;
    let events = page_on_late.next(1).await;
    assert_eq!(
        (
            events[0].event_type(),
            events[0].data(),
            events[0].last_event_id()
        ),
        ("early", "later", id.as_str())
    );
}

/// Starts an instance of the chat server `binary` on the Redis at
/// `redis_url`, uses an event name, then empties Redis (a restart without
/// persistence, a `FLUSHALL`, an eviction of the names' key) and starts a
/// second instance: the first announces the name again, so a page that
/// loads on the second shows its next message. (Found by review: the
/// first once decided from its own reading of the log that the name was
/// known.)
///
/// # Panics
///
/// When a page on the second instance would drop the message, or
/// `redis-cli` cannot be run.
pub async fn names_survive_redis_losing_its_data(binary: &str, redis_url: &str) {
    let env = [("REDIS_PREFIX", "emptied:")];
    let a = Instance::start_with(binary, redis_url, &env);
    let first = post_ok(&a.base, "first", Some("early")).await;
    let _ = event_names(&a.base, Some(&first)).await;
    let port = redis_url
        .trim_start_matches("redis://127.0.0.1:")
        .trim_end_matches('/');
    let flushed = Command::new("redis-cli")
        .args(["-p", port, "FLUSHALL"])
        .stdout(Stdio::null())
        .status()
        .expect("redis-cli runs");
    assert!(flushed.success());
    let late = Instance::start_with(binary, redis_url, &env);
    let (names, through) = event_names(&late.base, None).await;
    let mut page_on_late = Stream::open(&late.base, &format!("?lastEventId={through}"), None).await;
    let id = post_ok(&a.base, "later", Some("early")).await;
    let mut known: Vec<String> = names;
    loop {
        let event = page_on_late.next(1).await.remove(0);
        if event.event_type() == crate::ANNOUNCEMENT {
            known.push(event.data().to_owned());
            continue;
        }
        assert_eq!(
            (event.event_type(), event.data(), event.last_event_id()),
            ("early", "later", id.as_str())
        );
        assert!(
            known.iter().any(|name| name == "early"),
            "the page on the late instance does not listen to `early`: {known:?}"
        );
        break;
    }
}

/// Starts two instances of the chat server `binary` on the Redis at
/// `redis_url` and stops Redis (`pause`, a `SIGSTOP`) under posts with an
/// `Idempotency-Key`:
/// - A post Redis does not answer in time is answered `503`, saying the
///   message may have been published; once Redis runs again (`resume`), the
///   same post sent to the other instance is answered `200` with the
///   message's id.
/// - A post retried through the other instance while the first is still
///   waiting for Redis (a client that gave up on its first request): once
///   Redis runs again, both are answered `200` with the same id.
///
/// A client of each instance receives each message once, with that id.
///
/// # Panics
///
/// When an answer or what a client receives differs.
pub async fn a_post_redis_did_not_answer_is_published_once_when_retried(
    binary: &str,
    redis_url: &str,
    pause: impl Fn(),
    resume: impl Fn(),
) {
    let env = [("REDIS_PREFIX", "unanswered:")];
    let a = Instance::start_with(binary, redis_url, &env);
    let b = Instance::start_with(binary, redis_url, &env);
    let mut on_a = Stream::open(&a.base, "", None).await;
    on_a.ready().await;
    let mut on_b = Stream::open(&b.base, "", None).await;
    on_b.ready().await;
    let key = format!("unanswered-{:x}", crate::retried_posts::rand_suffix());
    let message = r#"{"data":"unanswered"}"#;

    pause();
    let (status, answer) = post_with_keys(&a.base, &[key.as_bytes()], message).await;
    resume();
    assert_eq!(status, 503, "{answer}");
    assert!(answer.contains("may have been published"), "{answer}");

    let (status, answer) = post_with_keys(&b.base, &[key.as_bytes()], message).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer
        .strip_prefix(r#"{"id":""#)
        .and_then(|rest| rest.strip_suffix(r#""}"#))
        .unwrap_or_else(|| panic!("not an id answer: {answer}"))
        .to_owned();

    // Both in flight at once, through both instances: Redis runs them one
    // after the other once it runs again (within the command timeout).
    let key = format!("{key}-in-flight");
    let message = r#"{"data":"in flight twice"}"#;
    pause();
    let posts: Vec<_> = [a.base.clone(), b.base.clone()]
        .into_iter()
        .map(|base| {
            let key = key.clone();
            tokio::spawn(async move { post_with_keys(&base, &[key.as_bytes()], message).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    resume();
    let mut answers = Vec::new();
    for post in posts {
        answers.push(post.await.expect("the post task"));
    }
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert_eq!(answers[0], answers[1], "the same id for both");
    let in_flight_id = answers[0]
        .1
        .strip_prefix(r#"{"id":""#)
        .and_then(|rest| rest.strip_suffix(r#""}"#))
        .unwrap_or_else(|| panic!("not an id answer: {answers:?}"))
        .to_owned();

    let after = post_ok(&a.base, "after", None).await;
    for client in [&mut on_a, &mut on_b] {
        let got: Vec<(String, String)> = client
            .next(3)
            .await
            .iter()
            .map(|event| (event.data().to_owned(), event.last_event_id().to_owned()))
            .collect();
        assert_eq!(
            got,
            [
                ("unanswered".to_owned(), id.clone()),
                ("in flight twice".to_owned(), in_flight_id.clone()),
                ("after".to_owned(), after.clone())
            ],
            "each once, with the id its posts were answered"
        );
    }
}
