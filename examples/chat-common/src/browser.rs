//! The chat page in headless Chromium: its native `EventSource` receives
//! what is posted, whatever its event name (one never used before included,
//! on a page open before and on a page opened after), and after the server
//! ends the stream it reconnects with `Last-Event-ID` and receives exactly
//! what it missed, none twice.
//!
//! Chromium is driven through ChromeDriver's WebDriver HTTP interface (new
//! session, navigate, run a script, screenshot). Where `chromedriver` and
//! `chromium` are missing the check says it is skipped, unless
//! `SSE_REQUIRE_BROWSER=1` (CI sets it), which makes it fail instead.
#![allow(clippy::missing_panics_doc, clippy::print_stderr)]

use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use sse_engine::hub::Hub;
use tokio::process::{Child, Command};

use crate::suite::post_ok;

mod quit;

/// ChromeDriver: `SSE_CHROMEDRIVER`, or Debian's.
fn chromedriver() -> String {
    std::env::var("SSE_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned())
}

/// Chromium: `SSE_CHROMIUM`, or Debian's.
fn chromium() -> String {
    std::env::var("SSE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}
const WAIT: Duration = Duration::from_secs(20);

/// A WebDriver session on a ChromeDriver started for it; both end on drop.
pub(crate) struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: Client<HttpConnector, Full<Bytes>>,
    profile: TempDir,
}

/// A directory removed on drop: the browser's fresh profile.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium, or says why it cannot.
    async fn start() -> Result<Self, String> {
        let (chromedriver, chromium) = (chromedriver(), chromium());
        if !Path::new(&chromedriver).exists() || !Path::new(&chromium).exists() {
            return Err(format!(
                "{chromedriver} or {chromium} is not installed (SSE_CHROMEDRIVER and SSE_CHROMIUM name others)"
            ));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| format!("no free port: {error}"))?
            .port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("cannot start chromedriver: {error}"))?;
        let profile = TempDir(std::env::temp_dir().join(format!("sse-chat-browser-{port}")));
        let mut browser = Self {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            http: Client::builder(TokioExecutor::new()).build_http(),
            profile,
        };
        let deadline = tokio::time::Instant::now() + WAIT;
        while browser.call("GET", "/status", None).await.is_err() {
            if tokio::time::Instant::now() > deadline {
                return Err("chromedriver did not start".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                // The network's events, for the headers each request sent
                // and each response had (`performance_log`).
                "goog:loggingPrefs": { "performance": "ALL" },
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--window-size=900,700",
                        format!("--user-data-dir={}", browser.profile.0.display()),
                    ]
                }
            }}
        });
        let session = browser.call("POST", "/session", Some(capabilities)).await?;
        browser.session = session["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session: {session}"))?
            .to_owned();
        Ok(browser)
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body
            .map(|body| Bytes::from(body.to_string()))
            .unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(Full::new(body))
            .map_err(|error| error.to_string())?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(|error| error.to_string())?;
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|error| error.to_string())?
            .to_bytes();
        let answer: Value = serde_json::from_slice(&bytes).map_err(|error| error.to_string())?;
        if answer["value"]["error"].is_string() {
            return Err(answer["value"].to_string());
        }
        Ok(answer["value"].clone())
    }

    async fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body)
            .await
            .unwrap_or_else(|error| panic!("webdriver {path}: {error}"))
    }

    pub(crate) async fn open(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })))
            .await;
    }

    pub(crate) async fn eval(&self, script: &str) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Runs the Chrome DevTools Protocol command `command` with `params`.
    pub(crate) async fn devtools(&self, command: &str, params: Value) -> Value {
        self.session_call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({ "cmd": command, "params": params })),
        )
        .await
    }

    /// The DevTools events logged since the last call (each
    /// `{"method": ..., "params": ...}`): the network's requests and
    /// responses with their headers.
    pub(crate) async fn performance_log(&self) -> Vec<Value> {
        let entries = self
            .session_call("POST", "/se/log", Some(json!({ "type": "performance" })))
            .await;
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry["message"].as_str())
            .filter_map(|message| serde_json::from_str::<Value>(message).ok())
            .map(|message| message["message"].clone())
            .collect()
    }

    /// Runs `script` until it returns something truthy.
    pub(crate) async fn wait_for(&self, script: &str, what: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let value = self.eval(script).await;
            if value.as_bool() != Some(false) && !value.is_null() {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Opens a new window and makes it the current one; the window that was
    /// current goes on running. Returns the handle of the one that was.
    async fn new_window(&self) -> String {
        let previous = self.session_call("GET", "/window", None).await;
        let opened = self
            .session_call("POST", "/window/new", Some(json!({ "type": "window" })))
            .await;
        self.switch_to(opened["handle"].as_str().expect("a window handle"))
            .await;
        previous.as_str().expect("a window handle").to_owned()
    }

    /// Makes the window `handle` the current one.
    async fn switch_to(&self, handle: &str) {
        self.session_call("POST", "/window", Some(json!({ "handle": handle })))
            .await;
    }

    async fn screenshot(&self, path: &str) {
        let png = self.session_call("GET", "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("a base64 PNG");
        std::fs::write(path, bytes).expect("write the screenshot");
    }
}

/// Starts the browser, or skips (`None`) with a clear message, or fails when
/// `SSE_REQUIRE_BROWSER=1` says the browser must be there.
pub(crate) async fn browser_or_skip(test: &str) -> Option<Browser> {
    match Browser::start().await {
        Ok(browser) => Some(browser),
        Err(reason) => {
            sse_interop::skip_or_fail(
                test,
                &reason,
                "SSE_REQUIRE_BROWSER",
                "install Debian's chromium and chromium-driver",
            );
            None
        }
    }
}

/// (type, data, lastEventId) of everything the page received.
async fn received(browser: &Browser) -> Vec<(String, String, String)> {
    let value = browser.eval("return window.received").await;
    value
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| {
                    let field = |name: &str| e[name].as_str().unwrap_or_default().to_owned();
                    (field("type"), field("data"), field("lastEventId"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Opens the chat page in the current window and waits until it is
/// connected.
async fn open_page(browser: &Browser, url: &str) {
    browser.open(url).await;
    browser
        .wait_for(
            "return document.getElementById('status').textContent === 'connected'",
            "the page to connect",
        )
        .await;
}

/// Posts `messages` (data, event name) as another client would; adds them
/// to each list of `expected` as pages show them.
async fn post_all(
    base: &str,
    messages: &[(&str, Option<&str>)],
    expected: &mut [&mut Vec<(String, String, String)>],
) {
    for (data, event) in messages {
        let id = post_ok(base, data, *event).await;
        for list in expected.iter_mut() {
            list.push((
                event.unwrap_or("message").to_owned(),
                (*data).to_owned(),
                id.clone(),
            ));
        }
    }
}

/// Waits until the page in the current window has received `expected.len()`
/// messages, then checks them.
async fn shows_exactly(browser: &Browser, expected: &[(String, String, String)], what: &str) {
    browser
        .wait_for(
            &format!("return window.received.length >= {}", expected.len()),
            what,
        )
        .await;
    assert_eq!(received(browser).await, expected, "{what}");
}

/// The page's `EventSource` receives posted messages with their data, event
/// name and id, including a name no page knew, posted by another client:
/// on the page open before it and on one opened after; after the server
/// ends the stream, it reconnects with `Last-Event-ID` and receives exactly
/// the messages it missed (one with a name never used before among them),
/// none twice.
pub async fn the_browser_receives_and_resumes_exactly(base: &str, hub: &Hub, server: &str) {
    let test = format!("browser test against {server}");
    let Some(browser) = browser_or_skip(&test).await else {
        return;
    };
    open_page(&browser, &format!("{base}/")).await;
    // Empty, it says what to do.
    let hint = browser
        .eval("return document.getElementById('hint')?.textContent ?? ''")
        .await;
    assert!(
        hint.as_str().unwrap_or_default().contains("press Send"),
        "the empty page explains itself: {hint}"
    );

    // `note` is a name the page has never heard of.
    let mut expected = Vec::new();
    post_all(
        base,
        &[
            ("hello", None),
            ("two\nlines", Some("note")),
            ("  spaced é 😀", None),
        ],
        &mut [&mut expected],
    )
    .await;
    shows_exactly(&browser, &expected, "the messages, the new name's included").await;

    // A page opened after `note` was first used shows it; a name new to
    // both pages shows on both.
    let first = browser.new_window().await;
    open_page(&browser, &format!("{base}/")).await;
    let mut on_second = Vec::new();
    post_all(
        base,
        &[
            ("noted again", Some("note")),
            ("a name no page knew", Some("shout")),
        ],
        &mut [&mut expected, &mut on_second],
    )
    .await;
    shows_exactly(&browser, &on_second, "on the page opened later").await;
    browser.switch_to(&first).await;
    shows_exactly(&browser, &expected, "on the page open before").await;

    // The server ends the stream mid-session; messages are posted while the
    // page is away; it comes back by itself and gets exactly those.
    // One of them has a name never used before: the replay announces it.
    hub.close_topic(crate::TOPIC);
    post_all(
        base,
        &[
            ("while away 1", None),
            ("while away 2", Some("note")),
            ("while away 3", Some("whisper")),
        ],
        &mut [&mut expected],
    )
    .await;
    browser
        .wait_for("return window.reconnects >= 1", "the page to reconnect")
        .await;
    browser
        .wait_for(
            &format!("return window.received.length >= {}", expected.len()),
            "the missed messages",
        )
        .await;
    let live = post_ok(base, "after the reconnect", None).await;
    expected.push(("message".to_owned(), "after the reconnect".to_owned(), live));
    browser
        .wait_for(
            &format!("return window.received.length >= {}", expected.len()),
            "the live message",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        received(&browser).await,
        expected,
        "every message exactly once, in order"
    );

    assert!(
        browser
            .eval("return document.getElementById('hint') === null")
            .await
            .as_bool()
            .unwrap_or(false),
        "the hint is gone once messages arrive"
    );

    if let Ok(path) = std::env::var("CHAT_SCREENSHOT") {
        // Tall enough for every message, from the top, so the header covers
        // none of them.
        browser
            .session_call(
                "POST",
                "/window/rect",
                Some(json!({ "width": 900, "height": 1100 })),
            )
            .await;
        browser.eval("window.scrollTo(0, 0); return true").await;
        browser.screenshot(&path).await;
    }

    // A cursor the server never gave: the gap is told in words.
    browser
        .open(&format!("{base}/?lastEventId=never-given"))
        .await;
    browser
        .wait_for(
            "return [...document.querySelectorAll('#log li.gap')].some((li) => li.textContent.includes('does not know'))",
            "the gap in words",
        )
        .await;
    // The page asks for the names again and goes on after the gap.
    browser
        .wait_for(
            "return document.getElementById('status').textContent === 'connected'",
            "the page to connect again after the gap",
        )
        .await;

    // The server stops: the page shows its last event in words.
    hub.close(Some(crate::final_event()));
    browser
        .wait_for(
            "return [...document.querySelectorAll('#log li.notice')].some((li) => li.textContent.includes('server restarting'))",
            "the final event on the page",
        )
        .await;

    // No browser outlives its test.
    let profile = browser.profile.0.clone();
    drop(browser);
    assert_eq!(
        quit::processes_using(&profile),
        Vec::<String>::new(),
        "Chromium still running after the test's browser was dropped"
    );
}
