//! The client address a role's address filter is checked against: the connection's peer, or,
//! behind proxies the operator trusts, the first untrusted address of the forwarding header
//! they write (`X-Forwarded-For` or `Forwarded`).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use http::{HeaderMap, Request};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::error::ManagedConfigError;

/// The client's address, for servers that do not run under axum's `ConnectInfo`: insert it in
/// the request extensions before the managed-access layer (it takes precedence over
/// `ConnectInfo`).
///
/// ```
/// use regards_auth::managed::ClientAddr;
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(ClientAddr("192.0.2.7".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

/// The proxies (load balancers, REGARDS' gateway) whose forwarding header is believed, and
/// which header that is.
///
/// With none (the default), the client address is the connection's peer and forwarding
/// headers are ignored: anyone can write them. When the peer is trusted, the one header the
/// proxies write ([`ForwardedHeader::XForwardedFor`] unless told otherwise, as nginx, HAProxy and
/// Tomcat's `RemoteIpValve` use it) is read from right to left (the order proxies append
/// entries in) and the first address that is not a trusted proxy is the client; the other
/// header is never read, since a proxy passes on whatever the client wrote in it. An entry that
/// is not an address (`unknown`, an obfuscated `_name`, bytes that are not text) leaves the
/// client address unknown, which no address filter lets through. A trusted peer that sends no
/// forwarding header is the client itself.
///
/// ```
/// use regards_auth::managed::{ForwardedHeader, TrustedProxies};
/// let proxies = TrustedProxies::new(["10.0.0.0/8", "fd00::1"])?.reading(ForwardedHeader::Forwarded);
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(!proxies.contains("192.0.2.7".parse().unwrap()));
/// # Ok::<(), regards_auth::managed::ManagedConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

/// The header trusted proxies name the client in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: <client>, <proxy1>, ...`.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=<client>, for=<proxy1>, ...`.
    Forwarded,
}

impl ForwardedHeader {
    fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }

    /// The address of one comma-separated entry of this header.
    fn entry_address(self, entry: &[u8]) -> Option<IpAddr> {
        let entry = std::str::from_utf8(entry).ok()?.trim();
        match self {
            ForwardedHeader::XForwardedFor => node_address(entry),
            ForwardedHeader::Forwarded => forwarded_for(entry),
        }
    }
}

/// How many forwarded entries are looked at, from the right: more hops than this between the
/// client and the service is not a deployment, it is a header someone filled.
const MAX_HOPS: usize = 32;

impl TrustedProxies {
    /// Trusts no proxy: the client address is the connection's peer.
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts these addresses and networks (`10.0.0.7`, `10.0.0.0/8`, `fd00::/8`), reading
    /// `X-Forwarded-For`.
    ///
    /// # Errors
    ///
    /// For the first entry to fix (named as given, trimmed):
    /// [`ManagedConfigError::InvalidTrustedProxy`] if it is neither an IP address nor a network
    /// in CIDR notation, [`ManagedConfigError::Ipv4CompatibleTrustedProxy`] if it is a
    /// deprecated IPv4-compatible IPv6 address or network (`::10.0.0.1`, `::/96`).
    pub fn new<I, S>(proxies: I) -> Result<Self, ManagedConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut networks = Vec::new();
        for proxy in proxies {
            let proxy = proxy.as_ref().trim();
            let network = proxy
                .parse::<IpNet>()
                .or_else(|_| proxy.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| ManagedConfigError::InvalidTrustedProxy(proxy.to_owned()))?
                .trunc();
            if ipv4_compatible(network) {
                return Err(ManagedConfigError::Ipv4CompatibleTrustedProxy(
                    proxy.to_owned(),
                ));
            }
            let canonical = canonical_networks(network);
            if canonical.contains(&IpNet::V4(Ipv4Net::default())) {
                tracing::warn!(
                    proxy,
                    "a trusted proxy network holds every IPv4 address: any IPv4 client can name its own address in the forwarding header"
                );
            }
            networks.extend(canonical);
        }
        Ok(TrustedProxies {
            networks,
            header: ForwardedHeader::default(),
        })
    }

    /// Reads `header` instead (the one the trusted proxies write).
    pub fn reading(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// Whether `address` is a trusted proxy.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.networks
            .iter()
            .any(|network| network.contains(&address))
    }

    /// The client address of `request`, if it can be told. Allocates nothing.
    pub(crate) fn client_address<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        let peer = peer_address(request)?;
        if !self.contains(peer) {
            return Some(peer);
        }
        self.forwarded_client(request.headers(), peer)
    }

    /// The client the trusted `peer` names in the forwarding header.
    fn forwarded_client(&self, headers: &HeaderMap, peer: IpAddr) -> Option<IpAddr> {
        let mut values = headers.get_all(self.header.name()).iter().rev().peekable();
        if values.peek().is_none() {
            return Some(peer);
        }
        // Every hop trusted so far: the leftmost one made the request.
        let mut leftmost_trusted = peer;
        let entries = values.flat_map(|value| value.as_bytes().rsplit(|&byte| byte == b','));
        for (hop, entry) in entries.enumerate() {
            if hop == MAX_HOPS {
                return None;
            }
            match self.header.entry_address(entry)? {
                address if self.contains(address) => leftmost_trusted = address,
                client => return Some(client),
            }
        }
        Some(leftmost_trusted)
    }
}

/// The connection's peer: [`ClientAddr`] if the server set one, else axum's `ConnectInfo`.
fn peer_address<B>(request: &Request<B>) -> Option<IpAddr> {
    let extensions = request.extensions();
    let peer = match extensions.get::<ClientAddr>() {
        Some(ClientAddr(address)) => *address,
        None => extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()?
            .0
            .ip(),
    };
    Some(canonical(peer))
}

/// IPv4-mapped IPv6 addresses are IPv4 clients (as Java's `InetAddress` reads them).
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `network` lies in the deprecated IPv4-compatible range (`::10.0.0.1`, RFC 4291
/// §2.5.5.1), which no peer is seen as (neither std nor Java maps it to IPv4): trusting it
/// would trust nobody, and every client behind that proxy would be seen as the proxy. `::` and
/// `::1` are not IPv4 addresses.
fn ipv4_compatible(network: IpNet) -> bool {
    let IpNet::V6(v6) = network else {
        return false;
    };
    let compatible = Ipv6Net::new(Ipv6Addr::UNSPECIFIED, 96).expect("a /96 is a valid prefix");
    let special = v6.prefix_len() == 128
        && (v6.network() == Ipv6Addr::UNSPECIFIED || v6.network() == Ipv6Addr::LOCALHOST);
    compatible.contains(&v6) && !special
}

/// `network` as the addresses checked against it are written ([`canonical`]): an IPv4-mapped
/// IPv6 network (`::ffff:10.0.0.1`, `::ffff:10.0.0.0/104`) is the IPv4 network it maps, and an
/// IPv6 network that holds the whole mapped range (`::/0`) holds every IPv4 address too.
fn canonical_networks(network: IpNet) -> Vec<IpNet> {
    let IpNet::V6(v6) = network else {
        return vec![network];
    };
    let mapped = Ipv6Net::new(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96)
        .expect("a /96 is a valid prefix");
    if mapped.contains(&v6) {
        let v4 = v6
            .network()
            .to_ipv4_mapped()
            .expect("inside the mapped range");
        let v4 = Ipv4Net::new(v4, v6.prefix_len() - 96).expect("a prefix of 32 bits at most");
        vec![IpNet::V4(v4)]
    } else if v6.contains(&mapped) {
        vec![network, IpNet::V4(Ipv4Net::default())]
    } else {
        vec![network]
    }
}

/// The address of an RFC 7239 element's `for` parameter.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|quoted| quoted.strip_suffix('"'))
            .unwrap_or(value);
        Some(node_address(value))
    })?
}

/// An RFC 7239 node (`192.0.2.7`, `192.0.2.7:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`),
/// or a bare address as X-Forwarded-For writes them.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Some(bracketed) = node.strip_prefix('[') {
        let (v6, _port) = bracketed.split_once(']')?;
        return v6.parse().ok().map(canonical);
    }
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(canonical(address));
    }
    node.parse::<SocketAddr>()
        .ok()
        .map(|socket| canonical(socket.ip()))
}

/// Whether `matches` accepts one of the texts an address is matched as: the dotted IPv4 form,
/// or for IPv6 both Java's form (`0:0:0:0:0:0:0:1`, what `getRemoteAddr()` gives REGARDS'
/// filter, so patterns written for REGARDS keep working) and the RFC 5952 form (`::1`). The
/// texts are written on the stack.
pub(crate) fn any_address_text(address: IpAddr, mut matches: impl FnMut(&str) -> bool) -> bool {
    let mut text = Text::default();
    match address {
        IpAddr::V4(v4) => {
            for (index, octet) in v4.octets().into_iter().enumerate() {
                if index > 0 {
                    text.push(b'.');
                }
                text.decimal(octet);
            }
            matches(text.as_str())
        }
        IpAddr::V6(v6) => {
            for (index, segment) in v6.segments().into_iter().enumerate() {
                if index > 0 {
                    text.push(b':');
                }
                text.hex(segment);
            }
            if matches(text.as_str()) {
                return true;
            }
            // The compressed form is rarer in patterns written for REGARDS: std writes it.
            use std::io::Write;
            let mut buffer = [0u8; 48];
            let mut rest = &mut buffer[..];
            write!(rest, "{v6}").is_ok() && {
                let written = 48 - rest.len();
                std::str::from_utf8(&buffer[..written]).is_ok_and(matches)
            }
        }
    }
}

/// An address's text, written on the stack digit by digit (std's `Display` for addresses
/// goes through the formatting machinery: several times slower, on every filtered request).
struct Text {
    /// Java's IPv6 form is at most 39 characters.
    bytes: [u8; 40],
    len: usize,
}

impl Default for Text {
    fn default() -> Self {
        Text {
            bytes: [0; 40],
            len: 0,
        }
    }
}

impl Text {
    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    fn decimal(&mut self, value: u8) {
        if value >= 100 {
            self.push(b'0' + value / 100);
        }
        if value >= 10 {
            self.push(b'0' + value / 10 % 10);
        }
        self.push(b'0' + value % 10);
    }

    /// Lowercase hexadecimal without leading zeros, as Java's `Inet6Address` writes segments.
    fn hex(&mut self, value: u16) {
        let digits = (16 - value.leading_zeros()).div_ceil(4).max(1);
        for shift in (0..digits).rev() {
            let nibble = (value >> (shift * 4)) & 0xf;
            self.push(b"0123456789abcdef"[usize::from(nibble)]);
        }
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits, letters, `.` and `:` are pushed.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::ConnectInfo;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn request(peer: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::get("/");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder.body(()).unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip(peer), 40000)));
        request
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let request = request("192.0.2.7", &[("x-forwarded-for", "10.9.9.9")]);
        assert_eq!(
            TrustedProxies::none().client_address(&request),
            Some(ip("192.0.2.7"))
        );
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
        let proxies = TrustedProxies::new(["10.0.0.1"]).unwrap();
        let request = request(
            "192.0.2.66",
            &[
                ("x-forwarded-for", "127.0.0.1"),
                ("forwarded", "for=127.0.0.1"),
            ],
        );
        assert_eq!(proxies.client_address(&request), Some(ip("192.0.2.66")));
    }

    #[test]
    fn trusted_peer_x_forwarded_for_gives_the_first_untrusted_from_the_right() {
        let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
        let request = request(
            "10.0.0.1",
            &[("x-forwarded-for", "127.0.0.1, 192.0.2.7, 10.0.0.2")],
        );
        // 127.0.0.1 was written by the client itself: only the proxies' entries count.
        assert_eq!(proxies.client_address(&request), Some(ip("192.0.2.7")));
    }

    #[test]
    fn forwarded_is_read_when_the_proxies_write_it_with_quoted_ipv6_and_ports() {
        let proxies = TrustedProxies::new(["10.0.0.1"])
            .unwrap()
            .reading(ForwardedHeader::Forwarded);
        let request = request(
            "10.0.0.1",
            &[
                ("x-forwarded-for", "192.0.2.99"),
                (
                    "forwarded",
                    r#"for=192.0.2.1;proto=https, For="[2001:db8:cafe::17]:4711""#,
                ),
            ],
        );
        assert_eq!(
            proxies.client_address(&request),
            Some(ip("2001:db8:cafe::17"))
        );
    }

    #[test]
    fn the_header_the_proxies_do_not_write_is_never_read() {
        // An X-Forwarded-For proxy passes the client's own Forwarded header on untouched.
        let proxies = TrustedProxies::new(["10.0.0.1"]).unwrap();
        let request = request(
            "10.0.0.1",
            &[
                ("forwarded", "for=10.9.9.9"),
                ("x-forwarded-for", "203.0.113.9"),
            ],
        );
        assert_eq!(proxies.client_address(&request), Some(ip("203.0.113.9")));
        let forwarded = proxies.reading(ForwardedHeader::Forwarded);
        let request = request_with_xff("10.0.0.1", "for=203.0.113.9", "10.9.9.9");
        assert_eq!(forwarded.client_address(&request), Some(ip("203.0.113.9")));
    }

    fn request_with_xff(peer: &str, forwarded: &str, x_forwarded_for: &str) -> Request<()> {
        request(
            peer,
            &[
                ("forwarded", forwarded),
                ("x-forwarded-for", x_forwarded_for),
            ],
        )
    }

    #[test]
    fn entries_that_are_not_text_are_read_byte_wise() {
        // The client wrote a byte that is not text; the proxy appended the real address.
        let proxies = TrustedProxies::new(["10.0.0.1"]).unwrap();
        let mut with_garbage = request("10.0.0.1", &[]);
        with_garbage.headers_mut().insert(
            "x-forwarded-for",
            http::HeaderValue::from_bytes(b"\xff, 203.0.113.9").unwrap(),
        );
        assert_eq!(
            proxies.client_address(&with_garbage),
            Some(ip("203.0.113.9"))
        );
        // Garbage where the client address should be: unknown, never the proxy itself.
        let mut garbage_last = request("10.0.0.1", &[]);
        garbage_last.headers_mut().insert(
            "x-forwarded-for",
            http::HeaderValue::from_bytes(b"203.0.113.9, \xff").unwrap(),
        );
        assert_eq!(proxies.client_address(&garbage_last), None);
    }

    #[test]
    fn a_trusted_peer_without_the_header_is_the_client() {
        let proxies = TrustedProxies::new(["10.0.0.1"]).unwrap();
        assert_eq!(
            proxies.client_address(&request("10.0.0.1", &[])),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn more_hops_than_a_deployment_has_leave_the_client_unknown() {
        let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
        let hops = vec!["10.0.0.2"; MAX_HOPS + 1].join(", ");
        assert_eq!(
            proxies.client_address(&request("10.0.0.1", &[("x-forwarded-for", &hops)])),
            None
        );
    }

    #[test]
    fn several_header_lines_are_one_list() {
        let proxies = TrustedProxies::new(["10.0.0.1", "10.0.0.2"]).unwrap();
        let mut request = request("10.0.0.1", &[("x-forwarded-for", "192.0.2.5")]);
        request
            .headers_mut()
            .append("x-forwarded-for", "10.0.0.2".parse().unwrap());
        assert_eq!(proxies.client_address(&request), Some(ip("192.0.2.5")));
    }

    #[test]
    fn unknown_or_obfuscated_hops_leave_the_client_unknown() {
        let proxies = TrustedProxies::new(["10.0.0.1"])
            .unwrap()
            .reading(ForwardedHeader::Forwarded);
        for forwarded in ["for=unknown", "for=_hidden", "for=garbage", "proto=http"] {
            let request = request("10.0.0.1", &[("forwarded", forwarded)]);
            assert_eq!(proxies.client_address(&request), None, "{forwarded}");
        }
    }

    #[test]
    fn all_trusted_hops_give_the_leftmost() {
        let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
        let request = request("10.0.0.1", &[("x-forwarded-for", "10.0.0.3, 10.0.0.2")]);
        assert_eq!(proxies.client_address(&request), Some(ip("10.0.0.3")));
    }

    #[test]
    fn ipv4_mapped_peers_are_ipv4() {
        let request = request("::ffff:192.0.2.7", &[]);
        assert_eq!(
            TrustedProxies::none().client_address(&request),
            Some(ip("192.0.2.7"))
        );
    }

    #[test]
    fn client_addr_extension_wins_over_connect_info() {
        let mut request = request("192.0.2.7", &[]);
        request
            .extensions_mut()
            .insert(ClientAddr(ip("198.51.100.1")));
        assert_eq!(
            TrustedProxies::none().client_address(&request),
            Some(ip("198.51.100.1"))
        );
    }

    #[test]
    fn no_peer_means_no_address() {
        let request = Request::new(());
        assert_eq!(TrustedProxies::none().client_address(&request), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 512, ..Default::default() })]

        /// Whatever a client and the proxies write, the client address is the rightmost
        /// untrusted address of the header the proxies write, or unknown as soon as an entry
        /// on the way is not an address; the other header changes nothing; never a panic.
        #[test]
        fn the_client_is_the_rightmost_untrusted_entry(
            entries in proptest::collection::vec(entry(), 0..6),
            spoofed in "[ -~]{0,40}",
        ) {
            let proxies = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
            let mut request = request("10.0.0.1", &[]);
            if let Ok(value) = http::HeaderValue::from_str(&spoofed) {
                request.headers_mut().insert("forwarded", value);
            }
            if !entries.is_empty() {
                let joined = entries.join(&b", "[..]);
                request.headers_mut().insert(
                    "x-forwarded-for",
                    http::HeaderValue::from_bytes(&joined).unwrap(),
                );
            }
            // The oracle: right to left, skip trusted addresses, stop at anything else.
            let mut expected = Some(ip("10.0.0.1"));
            for entry in entries.iter().rev() {
                match std::str::from_utf8(entry).ok().and_then(|text| text.parse::<IpAddr>().ok()) {
                    Some(address) if proxies.contains(address) => expected = Some(address),
                    Some(address) => { expected = Some(address); break; }
                    None => { expected = None; break; }
                }
            }
            proptest::prop_assert_eq!(proxies.client_address(&request), expected);
        }
    }

    /// An X-Forwarded-For entry: a trusted proxy, another address, a word, or bytes that are
    /// not text.
    fn entry() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        prop_oneof![
            any::<[u8; 3]>().prop_map(|[a, b, c]| format!("10.{a}.{b}.{c}").into_bytes()),
            (11u8..=223, any::<[u8; 3]>())
                .prop_map(|(a, [b, c, d])| format!("{a}.{b}.{c}.{d}").into_bytes()),
            "[a-z_]{1,6}".prop_map(String::into_bytes),
            proptest::collection::vec(0x80u8..=0xff, 1..4),
        ]
    }

    #[test]
    fn ipv4_compatible_trusted_proxies_are_refused_at_configuration() {
        for entry in ["::10.0.0.1", "::a00:1", "::10.0.0.0/104", "::/96"] {
            assert_eq!(
                TrustedProxies::new([entry]),
                Err(ManagedConfigError::Ipv4CompatibleTrustedProxy(entry.into())),
                "{entry}"
            );
        }
        for entry in ["::1", "::", "::/0", "::ffff:10.0.0.1", "2001:db8::10.0.0.1"] {
            assert!(TrustedProxies::new([entry]).is_ok(), "{entry}");
        }
    }

    #[test]
    fn invalid_trusted_proxies_are_refused() {
        assert_eq!(
            TrustedProxies::new(["10.0.0.0/33"]),
            Err(ManagedConfigError::InvalidTrustedProxy(
                "10.0.0.0/33".into()
            ))
        );
        assert!(TrustedProxies::new(["gateway"]).is_err());
    }

    fn texts(address: &str) -> Vec<String> {
        let mut texts = Vec::new();
        any_address_text(ip(address), |text| {
            texts.push(text.to_owned());
            false
        });
        texts
    }

    proptest::proptest! {
        /// The stack-written texts are std's IPv4 text and Java's IPv6 text.
        #[test]
        fn address_texts_are_the_standard_ones(v4 in proptest::num::u32::ANY, v6 in proptest::num::u128::ANY) {
            let v4 = std::net::Ipv4Addr::from(v4);
            proptest::prop_assert_eq!(texts(&v4.to_string()), [v4.to_string()]);
            let v6 = std::net::Ipv6Addr::from(v6);
            if v6.to_ipv4_mapped().is_none() {
                let java: Vec<String> = v6.segments().iter().map(|s| format!("{s:x}")).collect();
                proptest::prop_assert_eq!(texts(&v6.to_string()), [java.join(":"), v6.to_string()]);
            }
        }
    }

    #[test]
    fn ipv6_is_matched_in_java_and_rfc5952_forms() {
        assert_eq!(texts("::1"), ["0:0:0:0:0:0:0:1", "::1"]);
        assert_eq!(
            texts("2001:db8::a:1"),
            ["2001:db8:0:0:0:0:a:1", "2001:db8::a:1"]
        );
        assert_eq!(
            texts("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            [
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
            ]
        );
        assert_eq!(texts("255.255.255.255"), ["255.255.255.255"]);
    }

    #[test]
    fn trusted_networks_match_peers_in_either_notation() {
        // Each trusted entry, written as IPv4 or as IPv4-mapped IPv6, against the peer written
        // both ways: the same verdict (an entry that never matched would make every client
        // behind that proxy look like the proxy, and escape the address filters).
        let inside = ["10.0.0.1", "::ffff:10.0.0.1"];
        let outside = ["203.0.113.9", "::ffff:203.0.113.9"];
        let entries = [
            ["10.0.0.1", "::ffff:10.0.0.1"],
            ["10.0.0.1/32", "::ffff:10.0.0.1/128"],
            ["10.0.0.0/8", "::ffff:10.0.0.0/104"],
            ["10.0.0.0/8", "::ffff:a00:0/104"],
        ];
        for notations in entries {
            for entry in notations {
                let proxies = TrustedProxies::new([entry]).unwrap();
                for peer in inside {
                    assert!(proxies.contains(ip(peer)), "{entry} holds {peer}");
                }
                for peer in outside {
                    assert!(!proxies.contains(ip(peer)), "{entry} does not hold {peer}");
                }
            }
        }
        // Networks that hold every IPv4 address, in either notation, and one that holds none.
        for entry in ["0.0.0.0/0", "::ffff:0.0.0.0/96", "::/0", "::/64"] {
            let proxies = TrustedProxies::new([entry]).unwrap();
            for peer in inside.iter().chain(&outside) {
                assert!(proxies.contains(ip(peer)), "{entry} holds {peer}");
            }
        }
        let native = TrustedProxies::new(["2001:db8::/32"]).unwrap();
        for peer in inside.iter().chain(&outside) {
            assert!(
                !native.contains(ip(peer)),
                "2001:db8::/32 does not hold {peer}"
            );
        }
        assert!(native.contains(ip("2001:db8::7")));
    }

    #[test]
    fn a_client_behind_a_proxy_written_as_mapped_ipv6_is_the_client() {
        for proxy in ["::ffff:10.0.0.1", "10.0.0.1"] {
            let proxies = TrustedProxies::new([proxy]).unwrap();
            for peer in ["10.0.0.1", "::ffff:10.0.0.1"] {
                let request = request(peer, &[("x-forwarded-for", "203.0.113.9")]);
                assert_eq!(
                    proxies.client_address(&request),
                    Some(ip("203.0.113.9")),
                    "proxy {proxy}, peer {peer}"
                );
            }
        }
    }
}
