//! The client address a role's address filter is checked against: the connection's peer, or,
//! behind proxies the operator trusts, the first untrusted address of `Forwarded` /
//! `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, Request};
use ipnet::IpNet;

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

/// The proxies (load balancers, REGARDS' gateway) whose `Forwarded` and `X-Forwarded-For`
/// headers are believed.
///
/// With none (the default), the client address is the connection's peer and those headers
/// are ignored: anyone can write them. When the peer is trusted, the forwarded addresses are
/// read from right to left (the order proxies append them) and the first one that is not a
/// trusted proxy is the client. `Forwarded` (RFC 7239) is preferred to `X-Forwarded-For` when
/// both are present. An entry that is not an address (`unknown`, an obfuscated `_name`,
/// garbage) leaves the client address unknown, which no address filter lets through.
///
/// ```
/// use regards_auth::managed::TrustedProxies;
/// let proxies = TrustedProxies::new(["10.0.0.0/8", "fd00::1"])?;
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(!proxies.contains("192.0.2.7".parse().unwrap()));
/// # Ok::<(), regards_auth::managed::ManagedConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

/// How many forwarded entries are looked at, from the right: more hops than this between the
/// client and the service is not a deployment, it is a header someone filled.
const MAX_HOPS: usize = 32;

impl TrustedProxies {
    /// Trusts no proxy: the client address is the connection's peer.
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts these addresses and networks (`10.0.0.7`, `10.0.0.0/8`, `fd00::/8`).
    pub fn new<I, S>(proxies: I) -> Result<Self, ManagedConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let networks = proxies
            .into_iter()
            .map(|proxy| {
                let proxy = proxy.as_ref().trim();
                proxy
                    .parse::<IpNet>()
                    .or_else(|_| proxy.parse::<IpAddr>().map(IpNet::from))
                    .map(|network| network.trunc())
                    .map_err(|_| ManagedConfigError::InvalidTrustedProxy(proxy.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies { networks })
    }

    /// Whether `address` is a trusted proxy.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.networks
            .iter()
            .any(|network| network.contains(&address))
    }

    /// The client address of `request`, if it can be told.
    pub(crate) fn client_address<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        let peer = peer_address(request)?;
        if !self.contains(peer) {
            return Some(peer);
        }
        self.forwarded_client(request.headers())
            .unwrap_or(Some(peer))
    }

    /// The client named by the forwarding headers: `None` when there are none, `Some(None)`
    /// when they name no usable address.
    fn forwarded_client(&self, headers: &HeaderMap) -> Option<Option<IpAddr>> {
        let forwarded = joined(headers, "forwarded");
        let hops: Vec<Option<IpAddr>> = match forwarded {
            Some(value) => value
                .rsplit(',')
                .take(MAX_HOPS)
                .map(forwarded_for)
                .collect(),
            None => joined(headers, "x-forwarded-for")?
                .rsplit(',')
                .take(MAX_HOPS)
                .map(|entry| node_address(entry.trim()))
                .collect(),
        };
        let mut client = None;
        for hop in hops {
            match hop {
                Some(address) if self.contains(address) => client = Some(address),
                Some(address) => return Some(Some(address)),
                None => return Some(None),
            }
        }
        // Every hop is a trusted proxy: the leftmost one made the request.
        Some(client)
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

/// The values of every `name` header, joined with `,` (RFC 9110 §5.3), if they are text.
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?.to_str().ok()?.to_owned();
    values.try_fold(first, |mut all, value| {
        all.push(',');
        all.push_str(value.to_str().ok()?);
        Some(all)
    })
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
    use std::io::Write;
    let mut buffer = [0u8; 48];
    let mut text = |write: &dyn Fn(&mut &mut [u8]) -> std::io::Result<()>| {
        let mut rest = &mut buffer[..];
        let room = rest.len();
        if write(&mut rest).is_err() {
            return false;
        }
        let written = room - rest.len();
        std::str::from_utf8(&buffer[..written]).is_ok_and(&mut matches)
    };
    match address {
        IpAddr::V4(v4) => text(&|out| write!(out, "{v4}")),
        IpAddr::V6(v6) => {
            let [a, b, c, d, e, f, g, h] = v6.segments();
            text(&|out| write!(out, "{a:x}:{b:x}:{c:x}:{d:x}:{e:x}:{f:x}:{g:x}:{h:x}"))
                || text(&|out| write!(out, "{v6}"))
        }
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
    fn forwarded_is_preferred_and_reads_quoted_ipv6_with_ports() {
        let proxies = TrustedProxies::new(["10.0.0.1"]).unwrap();
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
        let proxies = TrustedProxies::new(["10.0.0.1"]).unwrap();
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

        /// Whatever a client or a proxy writes in the forwarding headers, the address is an
        /// address named there, the peer, or unknown; never a panic.
        #[test]
        fn any_forwarding_header_is_read_without_panic(
            forwarded in "[ -~]{0,80}",
            x_forwarded_for in "[ -~]{0,80}",
        ) {
            let proxies = TrustedProxies::new(["10.0.0.0/8", "::1"]).unwrap();
            let mut request = request("10.0.0.1", &[]);
            for (name, value) in [("forwarded", &forwarded), ("x-forwarded-for", &x_forwarded_for)] {
                if let Ok(value) = http::HeaderValue::from_str(value) {
                    request.headers_mut().insert(name, value);
                }
            }
            if let Some(address) = proxies.client_address(&request) {
                let named = forwarded.contains(&address.to_string())
                    || x_forwarded_for.contains(&address.to_string())
                    || address == ip("10.0.0.1")
                    || any_address_text(address, |text| forwarded.contains(text) || x_forwarded_for.contains(text));
                proptest::prop_assert!(named || proxies.contains(address), "{address}");
            }
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
}
