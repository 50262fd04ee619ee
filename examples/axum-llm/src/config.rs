//! [`Config`]: the server's settings, from environment variables.

use std::str::FromStr;
use std::time::Duration;

/// The port when `PORT` is not set.
pub const DEFAULT_PORT: u16 = 3002;

/// The demo's pause between tokens when `TOKEN_DELAY_MS` is not set: slow
/// enough to watch the answer being typed.
pub const DEFAULT_TOKEN_DELAY: Duration = Duration::from_millis(40);

/// The model the page asks an upstream for when `UPSTREAM_MODEL` is not set.
pub const DEFAULT_UPSTREAM_MODEL: &str = "gpt-4o-mini";

/// How long a proxy waits for the next bytes of an upstream's answer when
/// `UPSTREAM_IDLE_TIMEOUT_MS` is not set: a model that thinks long before a
/// token still makes it, a hung one does not hold the client for ever.
pub const DEFAULT_UPSTREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// The keep-alive interval when `KEEP_ALIVE_MS` is not set: a comment on a
/// stream that has been quiet this long (an upstream that thinks before its
/// first token), well within the idle timeouts of common proxies (60 s and
/// more), so that they keep the connection.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How the server is set up.
///
/// | variable | meaning | default |
/// | --- | --- | --- |
/// | `PORT` | the port on 127.0.0.1 | 3002 |
/// | `TOKEN_DELAY_MS` | the demo model's pause between tokens | 40 |
/// | `KEEP_ALIVE_MS` | the quiet time after which a stream gets a keep-alive comment | 15000 |
/// | `RETRY_MS` | set, every stream opens with `retry:` this many milliseconds | unset: no `retry:` |
/// | `UPSTREAM_URL` | an OpenAI-compatible API's base URL (`https://api.openai.com/v1`); set, the server is a proxy to it | unset: the demo model |
/// | `UPSTREAM_API_KEY` | its key, sent as `Authorization: Bearer` | none (for local servers) |
/// | `UPSTREAM_MODEL` | the model the page asks for in proxy mode | `gpt-4o-mini` |
/// | `UPSTREAM_IDLE_TIMEOUT_MS` | the longest silence of an upstream mid-answer | 120000 |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The port to listen on.
    pub port: u16,
    /// The demo model's pause between tokens.
    pub token_delay: Duration,
    /// The keep-alive interval of the event streams.
    pub keep_alive: Duration,
    /// The `retry:` that opens every event stream, if any.
    pub retry: Option<Duration>,
    /// The upstream API to proxy, if any.
    pub upstream: Option<UpstreamConfig>,
}

/// Where a proxy sends its requests.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// The API's base URL; requests go to `<base_url>/chat/completions`.
    pub base_url: String,
    /// The API key, if the upstream wants one.
    pub api_key: Option<String>,
    /// The model the page asks for.
    pub model: String,
    /// The longest wait for the next bytes of an answer; after it the answer
    /// ends as an upstream timeout.
    pub idle_timeout: Duration,
}

// By hand, so that the key stays out of logs.
impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<hidden>"))
            .field("model", &self.model)
            .field("idle_timeout", &self.idle_timeout)
            .finish()
    }
}

impl Config {
    /// Reads the settings from the process's environment.
    ///
    /// # Errors
    ///
    /// When a variable is set to something it cannot be.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the settings from `var`, a lookup by variable name; empty values
    /// count as unset.
    ///
    /// ```
    /// use example_axum_llm::config::Config;
    ///
    /// let config = Config::from_vars(|name| match name {
    ///     "UPSTREAM_URL" => Some("http://127.0.0.1:11434/v1".to_owned()),
    ///     _ => None,
    /// })
    /// .unwrap();
    /// assert_eq!(config.port, 3002);
    /// assert_eq!(config.upstream.unwrap().model, "gpt-4o-mini");
    /// ```
    ///
    /// # Errors
    ///
    /// When a variable is set to something it cannot be.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |name: &str| var(name).filter(|value| !value.is_empty());
        let port = number(var("PORT"), "PORT", DEFAULT_PORT)?;
        let token_delay = match var("TOKEN_DELAY_MS") {
            None => DEFAULT_TOKEN_DELAY,
            delay_ms => Duration::from_millis(number(delay_ms, "TOKEN_DELAY_MS", 0)?),
        };
        let idle_timeout = match var("UPSTREAM_IDLE_TIMEOUT_MS") {
            None => DEFAULT_UPSTREAM_IDLE_TIMEOUT,
            idle_ms => Duration::from_millis(number(idle_ms, "UPSTREAM_IDLE_TIMEOUT_MS", 0)?),
        };
        let keep_alive = match var("KEEP_ALIVE_MS") {
            None => DEFAULT_KEEP_ALIVE,
            keep_alive_ms => Duration::from_millis(number(keep_alive_ms, "KEEP_ALIVE_MS", 0)?),
        };
        if keep_alive.is_zero() {
            // Zero would be a comment at every turn of the timer: a flood,
            // not a keep-alive.
            return Err("KEEP_ALIVE_MS must be at least 1".to_owned());
        }
        // Zero is a valid `retry:` (reconnect at once), so any number goes.
        let retry = match var("RETRY_MS") {
            None => None,
            retry_ms => Some(Duration::from_millis(number(retry_ms, "RETRY_MS", 0)?)),
        };
        if idle_timeout.is_zero() {
            // Zero would end every answer before its first byte.
            return Err("UPSTREAM_IDLE_TIMEOUT_MS must be at least 1".to_owned());
        }
        let upstream = var("UPSTREAM_URL").map(|base_url| UpstreamConfig {
            base_url,
            api_key: var("UPSTREAM_API_KEY"),
            model: var("UPSTREAM_MODEL").unwrap_or_else(|| DEFAULT_UPSTREAM_MODEL.to_owned()),
            idle_timeout,
        });
        Ok(Self {
            port,
            token_delay,
            keep_alive,
            retry,
            upstream,
        })
    }
}

fn number<T: FromStr>(value: Option<String>, name: &str, default: T) -> Result<T, String> {
    match value {
        None => Ok(default),
        Some(value) => value
            .parse()
            .map_err(|_| format!("{name} must be a whole number, not {value:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, String> {
        Config::from_vars(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn defaults_and_settings() {
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.port, DEFAULT_PORT);
        assert_eq!(defaults.token_delay, DEFAULT_TOKEN_DELAY);
        assert!(defaults.upstream.is_none());
        let proxy = config(&[("UPSTREAM_URL", "http://127.0.0.1:1/v1")]).unwrap();
        assert_eq!(
            proxy.upstream.unwrap().idle_timeout,
            DEFAULT_UPSTREAM_IDLE_TIMEOUT
        );

        let set = config(&[
            ("PORT", "8080"),
            ("TOKEN_DELAY_MS", "0"),
            ("UPSTREAM_URL", "https://api.openai.com/v1"),
            ("UPSTREAM_API_KEY", "sk-secret"),
            ("UPSTREAM_MODEL", "gpt-4.1-nano"),
            ("UPSTREAM_IDLE_TIMEOUT_MS", "1500"),
        ])
        .unwrap();
        assert_eq!(set.port, 8080);
        assert_eq!(set.token_delay, Duration::ZERO);
        let upstream = set.upstream.unwrap();
        assert_eq!(upstream.api_key.as_deref(), Some("sk-secret"));
        assert_eq!(upstream.model, "gpt-4.1-nano");
        assert_eq!(upstream.idle_timeout, Duration::from_millis(1500));
        assert!(!format!("{upstream:?}").contains("sk-secret"));
    }

    #[test]
    fn stream_settings() {
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.keep_alive, DEFAULT_KEEP_ALIVE);
        assert_eq!(defaults.retry, None);
        // Empty counts as unset, as for every variable.
        let empty = config(&[("KEEP_ALIVE_MS", ""), ("RETRY_MS", "")]).unwrap();
        assert_eq!((empty.keep_alive, empty.retry), (DEFAULT_KEEP_ALIVE, None));

        let set = config(&[("KEEP_ALIVE_MS", "20"), ("RETRY_MS", "1500")]).unwrap();
        assert_eq!(set.keep_alive, Duration::from_millis(20));
        assert_eq!(set.retry, Some(Duration::from_millis(1500)));
        let at_once = config(&[("RETRY_MS", "0")]).unwrap();
        assert_eq!(at_once.retry, Some(Duration::ZERO));
    }

    #[test]
    fn bad_stream_settings_are_refused() {
        let refused = |name: &str, value: &str| config(&[(name, value)]).unwrap_err();
        assert!(refused("KEEP_ALIVE_MS", "0").contains("at least 1"));
        for name in ["KEEP_ALIVE_MS", "RETRY_MS"] {
            for value in ["-1", "1.5", "2s", "soon"] {
                assert!(refused(name, value).contains(name), "{name}={value}");
            }
        }
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert!(config(&[("PORT", "http")]).unwrap_err().contains("PORT"));
        assert!(config(&[("PORT", "70000")]).is_err());
        assert!(config(&[("TOKEN_DELAY_MS", "-1")]).is_err());
        assert!(config(&[("UPSTREAM_IDLE_TIMEOUT_MS", "0")]).is_err());
    }
}
