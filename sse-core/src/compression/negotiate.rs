//! [`Codecs`], what a server offers, and [`Compression`], what one response
//! is sent with.

use http::HeaderMap;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, HeaderValue, VARY};

use super::Codec;
use super::accept_encoding::AcceptEncoding;

/// The codecs a server offers, in its order of preference; see the
/// [module docs](super#negotiation).
///
/// ```
/// use http::HeaderMap;
/// use sse_engine::compression::{Codec, Codecs};
///
/// let mut request_headers = HeaderMap::new();
/// request_headers.insert("accept-encoding", "gzip, br".parse().unwrap());
///
/// // Only gzip and Brotli, gzip first (for those compiled in).
/// let offer = Codecs::prefer([Codec::Gzip, Codec::Brotli]);
/// let compression = offer.negotiate(&request_headers);
/// # #[cfg(feature = "gzip")]
/// assert_eq!(compression.codec(), Some(Codec::Gzip));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codecs {
    // The first `len` are offered, most preferred first; no duplicates.
    order: [Codec; 3],
    len: u8,
}

impl Codecs {
    /// Every codec compiled in, in the default order: gzip, zstd, br.
    pub fn new() -> Self {
        Self::prefer(Codec::ALL)
    }

    /// No codec: every response is identity (and still says
    /// `Vary: Accept-Encoding`, so a cache keeps it apart from compressed
    /// ones).
    pub fn none() -> Self {
        Self {
            order: Codec::ALL,
            len: 0,
        }
    }

    /// `order`, most preferred first. Codecs not compiled in, and repeats,
    /// are left out.
    pub fn prefer(order: impl IntoIterator<Item = Codec>) -> Self {
        let mut codecs = Self::none();
        for codec in order {
            if codec.is_compiled_in() && !codecs.contains(codec) {
                codecs.order[usize::from(codecs.len)] = codec;
                codecs.len += 1;
            }
        }
        codecs
    }

    /// The codecs offered, most preferred first.
    pub fn iter(&self) -> impl Iterator<Item = Codec> + '_ {
        self.order[..usize::from(self.len)].iter().copied()
    }

    /// Whether `codec` is offered.
    pub fn contains(&self, codec: Codec) -> bool {
        self.iter().any(|offered| offered == codec)
    }

    /// The compression for a request with these headers.
    pub fn negotiate(&self, request_headers: &HeaderMap) -> Compression {
        self.negotiate_accept_encoding(
            request_headers
                .get_all(ACCEPT_ENCODING)
                .iter()
                .map(HeaderValue::as_bytes),
        )
    }

    /// The compression for a request whose `Accept-Encoding` lines are
    /// `lines` (for servers with header types of their own, as actix-web).
    pub fn negotiate_accept_encoding<'a>(
        &self,
        lines: impl IntoIterator<Item = &'a [u8]>,
    ) -> Compression {
        let codec = AcceptEncoding::parse(lines).and_then(|accepted| self.choose(&accepted));
        Compression {
            codec,
            negotiated: true,
        }
    }

    fn choose(&self, accepted: &AcceptEncoding) -> Option<Codec> {
        let mut best: Option<(Codec, u16)> = None;
        for codec in self.iter() {
            let weight = accepted.weight(codec);
            // Strictly heavier: the server's order breaks ties.
            if weight > 0 && best.is_none_or(|(_, top)| weight > top) {
                best = Some((codec, weight));
            }
        }
        let (codec, weight) = best?;
        match accepted.identity_weight() {
            Some(identity) if identity > weight => None,
            _ => Some(codec),
        }
    }
}

impl Default for Codecs {
    fn default() -> Self {
        Self::new()
    }
}

/// What one response is compressed with: the outcome of negotiation, given
/// to [`SseBody::compression`](crate::SseBody::compression); see the
/// [module docs](super).
///
/// ```
/// use http::HeaderMap;
/// use sse_engine::compression::Compression;
///
/// let mut request_headers = HeaderMap::new();
/// request_headers.insert("accept-encoding", "identity".parse().unwrap());
/// let compression = Compression::from_accept_encoding(&request_headers);
/// assert_eq!(compression.codec(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compression {
    codec: Option<Codec>,
    // Chosen from the request's headers: the response says
    // `Vary: Accept-Encoding` even when it is identity.
    negotiated: bool,
}

impl Compression {
    /// No compression, and no negotiation (no `Vary`).
    pub const fn identity() -> Self {
        Self {
            codec: None,
            negotiated: false,
        }
    }

    /// Negotiated with every codec compiled in, in the default order
    /// ([`Codecs::new`]).
    pub fn from_accept_encoding(request_headers: &HeaderMap) -> Self {
        Codecs::new().negotiate(request_headers)
    }

    /// `codec` whatever the client asked, when it is compiled in (identity
    /// otherwise). For a server that negotiated on its own, and for tests:
    /// a client that did not ask for it may not decode it.
    pub const fn forced(codec: Codec) -> Self {
        Self {
            codec: if codec.is_compiled_in() {
                Some(codec)
            } else {
                None
            },
            negotiated: false,
        }
    }

    /// The same outcome with identity instead of its codec, keeping `Vary`
    /// when it was negotiated: for a stream whose compressor could not be
    /// set up.
    ///
    /// ```
    /// use sse_engine::compression::{Codec, Compression};
    ///
    /// assert_eq!(Compression::forced(Codec::Gzip).to_identity(), Compression::identity());
    /// ```
    #[must_use]
    pub const fn to_identity(self) -> Self {
        Self {
            codec: None,
            negotiated: self.negotiated,
        }
    }

    /// The codec, `None` for identity.
    pub const fn codec(&self) -> Option<Codec> {
        self.codec
    }

    /// Whether it was chosen from the request, so that the response must say
    /// `Vary: Accept-Encoding`.
    pub const fn is_negotiated(&self) -> bool {
        self.negotiated
    }

    /// Sets the response headers it calls for: `Content-Encoding` when there
    /// is a codec, and `Accept-Encoding` in `Vary` when negotiated (added to
    /// a `Vary` already there).
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sse_engine::compression::Compression;
    ///
    /// let mut request_headers = HeaderMap::new();
    /// request_headers.insert("accept-encoding", "snappy".parse().unwrap());
    /// let mut response_headers = HeaderMap::new();
    /// Compression::from_accept_encoding(&request_headers).insert_headers(&mut response_headers);
    /// assert!(response_headers.get("content-encoding").is_none());
    /// assert_eq!(response_headers["vary"], "accept-encoding");
    /// ```
    pub fn insert_headers(&self, response_headers: &mut HeaderMap) {
        if let Some(codec) = self.codec {
            response_headers.insert(CONTENT_ENCODING, codec.header_value());
        }
        if self.negotiated && !varies_on_accept_encoding(response_headers) {
            response_headers.append(VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
}

fn varies_on_accept_encoding(headers: &HeaderMap) -> bool {
    headers.get_all(VARY).iter().any(|value| {
        value.as_bytes().split(|&byte| byte == b',').any(|name| {
            let name = name.trim_ascii();
            name == b"*" || name.eq_ignore_ascii_case(b"accept-encoding")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Codecs {
        // Whatever the features: negotiation itself does not compress.
        Codecs {
            order: Codec::ALL,
            len: 3,
        }
    }

    fn negotiate(codecs: Codecs, accept: &str) -> Option<Codec> {
        codecs
            .negotiate_accept_encoding([accept.as_bytes()])
            .codec()
    }

    #[test]
    fn browsers_get_the_server_s_first_choice() {
        assert_eq!(
            negotiate(all(), "gzip, deflate, br, zstd"),
            Some(Codec::Gzip)
        );
        assert_eq!(negotiate(all(), "deflate, br, zstd"), Some(Codec::Zstd));
        assert_eq!(negotiate(all(), "deflate, br"), Some(Codec::Brotli));
    }

    #[test]
    fn the_server_s_order_is_configurable() {
        let order = Codecs {
            order: [Codec::Gzip, Codec::Brotli, Codec::Zstd],
            len: 2,
        };
        assert_eq!(negotiate(order, "gzip, br, zstd"), Some(Codec::Gzip));
        assert_eq!(negotiate(order, "zstd"), None);
    }

    #[test]
    fn client_weights_come_before_the_server_s_order() {
        assert_eq!(negotiate(all(), "gzip;q=0.5, zstd"), Some(Codec::Zstd));
        assert_eq!(
            negotiate(all(), "br;q=0.5, zstd;q=0.5, gzip;q=0.4"),
            Some(Codec::Zstd)
        );
    }

    #[test]
    fn star_accepts_what_is_not_named() {
        assert_eq!(negotiate(all(), "*"), Some(Codec::Gzip));
        assert_eq!(negotiate(all(), "gzip;q=0, *"), Some(Codec::Zstd));
        assert_eq!(negotiate(all(), "*;q=0"), None);
        assert_eq!(negotiate(all(), "*;q=0, gzip"), Some(Codec::Gzip));
    }

    #[test]
    fn identity_wins_only_when_weighed_higher() {
        assert_eq!(negotiate(all(), "identity, gzip;q=0.5"), None);
        assert_eq!(negotiate(all(), "identity;q=0.5, gzip"), Some(Codec::Gzip));
        assert_eq!(negotiate(all(), "identity, gzip"), Some(Codec::Gzip));
        // Nothing else acceptable: identity all the same, never an error.
        assert_eq!(negotiate(all(), "identity;q=0"), None);
        assert_eq!(negotiate(all(), "identity;q=0, deflate"), None);
    }

    #[test]
    fn a_client_that_did_not_ask_gets_identity() {
        let absent = all().negotiate(&HeaderMap::new());
        assert_eq!(absent.codec(), None);
        assert!(absent.is_negotiated());
        for accept in [
            "",
            " ",
            ",",
            "deflate",
            "compress, snappy",
            "identity",
            "gzip;q=0",
        ] {
            assert_eq!(negotiate(all(), accept), None, "{accept:?}");
        }
    }

    #[test]
    fn junk_duplicates_and_oversized_headers_mean_identity_or_are_skipped() {
        assert_eq!(
            negotiate(all(), ";;;, =, gzip;q=x, br;q=0.9"),
            Some(Codec::Brotli)
        );
        assert_eq!(negotiate(all(), "zstd, zstd;q=0, gzip"), Some(Codec::Gzip));
        let oversized = format!("{}gzip", " ".repeat(2000));
        assert_eq!(negotiate(all(), &oversized), None);
    }

    #[test]
    fn several_header_lines_are_read_together() {
        let mut headers = HeaderMap::new();
        headers.append(ACCEPT_ENCODING, HeaderValue::from_static("zstd;q=0"));
        headers.append(ACCEPT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(all().negotiate(&headers).codec(), Some(Codec::Brotli));
    }

    #[test]
    fn codecs_not_compiled_in_are_not_offered() {
        let offered: Vec<Codec> = Codecs::new().iter().collect();
        let compiled: Vec<Codec> = Codec::ALL
            .into_iter()
            .filter(|c| c.is_compiled_in())
            .collect();
        assert_eq!(offered, compiled);
        let repeated = Codecs::prefer([Codec::Gzip, Codec::Gzip]);
        assert!(repeated.iter().count() <= 1);
    }

    #[test]
    fn headers_say_the_coding_and_vary() {
        let mut headers = HeaderMap::new();
        headers.insert(VARY, HeaderValue::from_static("origin"));
        let compression = Compression {
            codec: Some(Codec::Zstd),
            negotiated: true,
        };
        compression.insert_headers(&mut headers);
        assert_eq!(headers[CONTENT_ENCODING], "zstd");
        let vary: Vec<_> = headers.get_all(VARY).iter().collect();
        assert_eq!(vary, ["origin", "accept-encoding"]);
        // Not twice.
        compression.insert_headers(&mut headers);
        assert_eq!(headers.get_all(VARY).iter().count(), 2);

        let mut headers = HeaderMap::new();
        Compression::identity().insert_headers(&mut headers);
        assert!(headers.is_empty());
    }
}
