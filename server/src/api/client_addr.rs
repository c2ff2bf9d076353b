//! The address of the client behind a request, for per-client limits.
//!
//! Directly connected clients are who the socket says. Behind a reverse proxy
//! (Caddy in deploy/) every socket is the proxy's, and the client is in
//! `X-Forwarded-For`; that header is believed only when the socket belongs to
//! a configured trusted proxy, because anyone else can write anything in it.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::config::IpRange;

const FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address: `peer` itself, or, when `peer` is a trusted proxy,
/// the nearest address in `X-Forwarded-For` that is not one of our proxies.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |addr: IpAddr| trusted.iter().any(|range| range.contains(addr));
    if !is_trusted(peer) {
        return peer;
    }
    // Each proxy appends the address it received from, so read from the
    // right: the first untrusted hop is the client (anything further left
    // was written by the client and may be forged).
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(addr) => {
                client = addr;
                if !is_trusted(addr) {
                    break;
                }
            }
            // An unreadable hop: stop at the last address we could trust.
            None => break,
        }
    }
    client
}

/// `1.2.3.4`, `2001:db8::1`, `[2001:db8::1]:443` or `1.2.3.4:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(addr) = hop.parse() {
        return Some(addr);
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|socket| socket.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append(FORWARDED_FOR, value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let forged = headers(&["203.0.113.9"]);
        assert_eq!(
            client_ip(ip("198.51.100.1"), &forged, &[]),
            ip("198.51.100.1")
        );
        let proxies = ["10.0.0.2".parse().unwrap()];
        assert_eq!(
            client_ip(ip("198.51.100.1"), &forged, &proxies),
            ip("198.51.100.1"),
            "an untrusted peer cannot choose its address"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &forged, &proxies),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let proxies = ["10.0.0.0/8".parse().unwrap()];
        // The client forged a first hop; Caddy appended the real address,
        // then an inner proxy appended Caddy's.
        let chain = headers(&["1.1.1.1, 203.0.113.9", "10.0.0.3"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &chain, &proxies),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers(&["[2001:db8::7]:4711"]), &proxies),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers(&[]), &proxies),
            ip("10.0.0.2"),
            "no header: the proxy itself"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers(&["garbage, 10.0.0.4"]), &proxies),
            ip("10.0.0.4"),
            "stops at what it cannot read"
        );
    }
}
