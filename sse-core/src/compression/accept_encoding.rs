//! Reading a request's `Accept-Encoding` (RFC 9110, section 12.5.3) into
//! the weight the client gives each coding the server knows.
//!
//! Nothing here fails: an element that cannot be read is skipped, and a
//! header that cannot be read at all (too long) counts as absent, which
//! means identity.

use super::Codec;

/// The most bytes of `Accept-Encoding` (all its lines together) that are
/// read. Browsers send about 30 (`gzip, deflate, br, zstd`); a longer header
/// is junk or an attack, and is treated as absent.
pub(crate) const MAX_ACCEPT_ENCODING_BYTES: usize = 1024;

/// A weight in thousandths: `q=0.5` is 500, no `q` is 1000. `0` refuses.
pub(crate) type Weight = u16;

const FULL: Weight = 1000;

/// What a request's `Accept-Encoding` says of each coding the server knows,
/// and of `*` and `identity`; `None` where it says nothing.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AcceptEncoding {
    gzip: Option<Weight>,
    br: Option<Weight>,
    zstd: Option<Weight>,
    identity: Option<Weight>,
    any: Option<Weight>,
}

impl AcceptEncoding {
    /// Reads the header's lines (`values`, in order). `None` when there is no
    /// line, or when they are longer than [`MAX_ACCEPT_ENCODING_BYTES`]
    /// together: the client asked for nothing usable.
    pub(crate) fn parse<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<Self> {
        let mut parsed = Self::default();
        let mut seen_line = false;
        let mut total = 0usize;
        for value in values {
            seen_line = true;
            total += value.len();
            if total > MAX_ACCEPT_ENCODING_BYTES {
                return None;
            }
            for element in value.split(|&byte| byte == b',') {
                if let Some((coding, weight)) = parse_element(element) {
                    parsed.record(coding, weight);
                }
            }
        }
        seen_line.then_some(parsed)
    }

    /// A coding named twice keeps its lowest weight: a client that says
    /// both `gzip` and `gzip;q=0` is not sent gzip (identity always works).
    fn record(&mut self, coding: &[u8], weight: Weight) {
        let slot = if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip")
        {
            &mut self.gzip
        } else if coding.eq_ignore_ascii_case(b"br") {
            &mut self.br
        } else if coding.eq_ignore_ascii_case(b"zstd") {
            &mut self.zstd
        } else if coding.eq_ignore_ascii_case(b"identity") {
            &mut self.identity
        } else if coding == b"*" {
            &mut self.any
        } else {
            // `deflate`, `compress`, and codings nobody has heard of.
            return;
        };
        *slot = Some(slot.map_or(weight, |old| old.min(weight)));
    }

    /// The client's weight for `codec`: its own, else that of `*`, else 0.
    pub(crate) fn weight(&self, codec: Codec) -> Weight {
        let named = match codec {
            Codec::Gzip => self.gzip,
            Codec::Brotli => self.br,
            Codec::Zstd => self.zstd,
        };
        named.or(self.any).unwrap_or(0)
    }

    /// The weight the client gave `identity` by name, if it named it.
    /// (Unnamed, identity is acceptable but preferred to nothing.)
    pub(crate) fn identity_weight(&self) -> Option<Weight> {
        self.identity
    }
}

/// One list element: `coding *( OWS ";" OWS name=value )`, with its weight.
/// `None` for an empty element, a coding that is not a token, or a `q`
/// that is not a qvalue. Parameters other than `q` are ignored.
fn parse_element(element: &[u8]) -> Option<(&[u8], Weight)> {
    let mut parts = element.split(|&byte| byte == b';');
    let coding = trim(parts.next()?);
    if coding.is_empty() || !coding.iter().all(|&byte| is_tchar(byte)) {
        return None;
    }
    let mut weight = FULL;
    for param in parts {
        let param = trim(param);
        let Some(eq) = param.iter().position(|&byte| byte == b'=') else {
            // A parameter without a value: not from a real client.
            return None;
        };
        let (name, value) = (trim(&param[..eq]), trim(&param[eq + 1..]));
        if name.eq_ignore_ascii_case(b"q") {
            weight = parse_qvalue(value)?;
        }
    }
    Some((coding, weight))
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in
/// thousandths.
fn parse_qvalue(value: &[u8]) -> Option<Weight> {
    let (whole, fraction) = match value {
        [whole] => (*whole, &[][..]),
        [whole, b'.', fraction @ ..] if fraction.len() <= 3 => (*whole, fraction),
        _ => return None,
    };
    if !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: Weight = 0;
    for place in 0..3 {
        let digit = fraction
            .get(place)
            .map_or(0, |digit| Weight::from(digit - b'0'));
        thousandths = thousandths * 10 + digit;
    }
    match whole {
        b'0' => Some(thousandths),
        b'1' if thousandths == 0 => Some(FULL),
        _ => None,
    }
}

fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// RFC 9110's `tchar`: what a coding name may hold.
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(header: &str) -> AcceptEncoding {
        AcceptEncoding::parse([header.as_bytes()]).expect("one line")
    }

    #[test]
    fn qvalues_read_as_thousandths() {
        for (text, weight) in [
            ("0", 0),
            ("0.", 0),
            ("0.5", 500),
            ("0.05", 50),
            ("0.001", 1),
            ("0.999", 999),
            ("1", 1000),
            ("1.", 1000),
            ("1.000", 1000),
        ] {
            assert_eq!(parse_qvalue(text.as_bytes()), Some(weight), "{text}");
        }
        for junk in [
            "", "1.5", "1.001", "2", "0.1234", ".5", "-0", "0,5", "0.a", "q", "1e0",
        ] {
            assert_eq!(parse_qvalue(junk.as_bytes()), None, "{junk}");
        }
    }

    #[test]
    fn names_are_case_insensitive_and_whitespace_is_optional() {
        let parsed = parse(" GZip ;Q=0.5 ,\tBR\t, ZSTD;q = 0.25 ");
        assert_eq!(parsed.weight(Codec::Gzip), 500);
        assert_eq!(parsed.weight(Codec::Brotli), 1000);
        assert_eq!(parsed.weight(Codec::Zstd), 250);
    }

    #[test]
    fn x_gzip_is_gzip() {
        assert_eq!(parse("x-gzip").weight(Codec::Gzip), 1000);
    }

    #[test]
    fn star_covers_codings_not_named() {
        let parsed = parse("br;q=0, *;q=0.3");
        assert_eq!(parsed.weight(Codec::Brotli), 0);
        assert_eq!(parsed.weight(Codec::Gzip), 300);
        assert_eq!(parsed.weight(Codec::Zstd), 300);
    }

    #[test]
    fn duplicates_keep_the_lowest_weight() {
        let parsed = parse("gzip, br;q=0.8, gzip;q=0, br");
        assert_eq!(parsed.weight(Codec::Gzip), 0);
        assert_eq!(parsed.weight(Codec::Brotli), 800);
    }

    #[test]
    fn unknown_codings_and_junk_elements_are_skipped() {
        let parsed = parse(
            "deflate, compress, snappy;q=1, g zip, gzip;q=2, br;level, ,, zstd;q=0.1;foo=bar, @@",
        );
        assert_eq!(parsed.weight(Codec::Gzip), 0);
        assert_eq!(parsed.weight(Codec::Brotli), 0);
        assert_eq!(parsed.weight(Codec::Zstd), 100);
    }

    #[test]
    fn identity_is_read_by_name() {
        assert_eq!(parse("gzip").identity_weight(), None);
        assert_eq!(parse("gzip, identity;q=0").identity_weight(), Some(0));
    }

    #[test]
    fn lines_are_read_together() {
        let parsed = AcceptEncoding::parse([&b"gzip;q=0.2"[..], b"zstd"]).unwrap();
        assert_eq!(parsed.weight(Codec::Gzip), 200);
        assert_eq!(parsed.weight(Codec::Zstd), 1000);
    }

    #[test]
    fn no_line_or_an_oversized_header_is_nothing() {
        assert_eq!(AcceptEncoding::parse(std::iter::empty()), None);
        let long = format!("gzip, {}", "x, ".repeat(MAX_ACCEPT_ENCODING_BYTES));
        assert_eq!(AcceptEncoding::parse([long.as_bytes()]), None);
        let half = "x".repeat(MAX_ACCEPT_ENCODING_BYTES / 2 + 1);
        assert_eq!(
            AcceptEncoding::parse([half.as_bytes(), half.as_bytes()]),
            None
        );
    }

    #[test]
    fn an_empty_header_accepts_no_coding() {
        let parsed = parse("");
        assert_eq!(parsed, AcceptEncoding::default());
        assert_eq!(parsed.weight(Codec::Gzip), 0);
    }

    #[test]
    fn bytes_outside_ascii_are_junk() {
        let parsed = AcceptEncoding::parse([&b"gz\xffip, br"[..]]).unwrap();
        assert_eq!(parsed.weight(Codec::Gzip), 0);
        assert_eq!(parsed.weight(Codec::Brotli), 1000);
    }
}
