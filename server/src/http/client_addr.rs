//! The client's real address behind trusted proxies.
//!
//! Only when the peer is a proxy the operator trusts
//! (`CLAVIS_TRUSTED_PROXIES`) are `Forwarded` (RFC 7239) or
//! `X-Forwarded-For` read, right to left, skipping the hops that are
//! themselves trusted: the first untrusted address is the client. Anyone
//! else's headers are ignored, so a client cannot choose its own address.
//! The result replaces the connection's peer address for every handler,
//! throttle and audit record.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    /// Parses a comma-separated list of CIDRs or single addresses.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is not an IP address or CIDR"))?;
            nets.push(net);
        }
        Ok(Self(Arc::new(nets)))
    }

    /// Whether no proxy is trusted (the default): the peer is the client.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn trusts(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client behind `peer` as the headers tell, or `peer` itself.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops = forwarded_for(headers);
        let mut client = peer;
        while self.trusts(client) {
            match hops.pop() {
                Some(hop) => client = hop,
                None => break,
            }
        }
        client
    }
}

/// An IPv4 address mapped into IPv6 is the IPv4 address.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// The forwarded-for chain, oldest hop first: RFC 7239 `Forwarded` when
/// present, else `X-Forwarded-For`. A hop that does not parse (an
/// obfuscated identifier, `unknown`) ends the chain there.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<&str> = headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()).collect();
    let raw: Vec<String> = if forwarded.is_empty() {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|hop| hop.trim().to_owned())
            .collect()
    } else {
        // RFC 7239 §4: `for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"`.
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"').to_owned())
                })
            })
            .collect()
    };
    let mut chain = Vec::with_capacity(raw.len());
    for hop in raw {
        match parse_hop(&hop) {
            Some(addr) => chain.push(canonical(addr)),
            // Everything to the left of an unreadable hop is unreliable.
            None => chain.clear(),
        }
    }
    chain
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(addr) = hop.parse::<IpAddr>() {
        return Some(addr);
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    let inner = hop.strip_prefix('[')?.split(']').next()?;
    inner.parse().ok()
}

/// Replaces the peer address of the request with the client's.
pub(super) async fn resolve(trusted: TrustedProxies, mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let client = trusted.client(peer.ip(), request.headers());
        if client != peer.ip() {
            request.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, peer.port())));
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn headers_count_only_from_trusted_proxies_read_right_to_left() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap();
        let xff = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.7")]);
        // From a stranger: its own address, whatever it claims.
        assert_eq!(trusted.client(ip("198.51.100.1"), &xff), ip("198.51.100.1"));
        // Through two trusted hops: the first untrusted address from the right.
        assert_eq!(trusted.client(ip("10.0.0.1"), &xff), ip("203.0.113.9"));
        let forwarded = headers(&[("forwarded", "for=192.0.2.60;proto=https, for=\"[2001:db8::17]:4711\"")]);
        assert_eq!(trusted.client(ip("192.168.1.1"), &forwarded), ip("2001:db8::17"));
        // Nothing forwarded: the proxy itself.
        assert_eq!(trusted.client(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
        // An unreadable hop hides what is left of it.
        let obfuscated = headers(&[("x-forwarded-for", "1.1.1.1, unknown, 10.0.0.9")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &obfuscated), ip("10.0.0.9"));
        assert_eq!(trusted.client(ip("::ffff:10.0.0.1"), &xff), ip("203.0.113.9"));
    }

    #[test]
    fn nothing_is_trusted_by_default_and_bad_lists_are_refused() {
        let xff = headers(&[("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(TrustedProxies::default().client(ip("127.0.0.1"), &xff), ip("127.0.0.1"));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert!(TrustedProxies::parse("").is_ok());
    }
}
