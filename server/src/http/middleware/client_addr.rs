//! The client's address, for the sign-in limit and the audit trail.
//!
//! Behind a reverse proxy every request comes from the proxy, so the real client is in
//! `Forwarded` (RFC 7239) or `X-Forwarded-For`. Anyone can send those headers, so they are read
//! only when the peer is one of the configured trusted proxies, and then from the right: each
//! trusted proxy appends the address it saw, so the right-most address that is not itself a
//! trusted proxy is the first one no trusted party vouches for beyond: the client. Anything to its
//! left was written by the client and is ignored.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The reverse proxies whose forwarding headers are believed (`trusted_proxies`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads addresses and networks (`10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut nets = Vec::with_capacity(entries.len());
        for entry in entries.iter().map(|e| e.as_ref().trim()).filter(|e| !e.is_empty()) {
            let net = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("trusted_proxies: '{entry}' is not an IP address or network (CIDR)"))?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    fn trusts(&self, addr: &IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy, in which case the
    /// right-most forwarded address that is not a trusted proxy (or the left-most, if all are).
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> String {
        let peer = peer.to_canonical();
        if !self.trusts(&peer) {
            return peer.to_string();
        }
        let hops = forwarded_for(headers);
        let mut client = peer.to_string();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(addr) if self.trusts(&addr) => client = addr.to_canonical().to_string(),
                Ok(addr) => return addr.to_canonical().to_string(),
                // `unknown` or an obfuscated name (RFC 7239 §6.3): the last trusted proxy could
                // not say who its client was; that proxy's own address is the best we know.
                Err(_) => return client,
            }
        }
        client
    }
}

/// The forwarded-for chain, left (client) to right (nearest proxy): from `Forwarded` when present,
/// otherwise from `X-Forwarded-For`. Each header may come several times; order is kept.
fn forwarded_for(headers: &HeaderMap) -> Vec<String> {
    let forwarded: Vec<String> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| strip_node(value.trim()))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| strip_node(hop.trim()))
        .filter(|hop| !hop.is_empty())
        .collect()
}

/// `"[2001:db8::1]:4711"` → `2001:db8::1`, `192.0.2.1:80` → `192.0.2.1`, `unknown` stays.
fn strip_node(value: &str) -> String {
    let value = value.trim_matches('"');
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_string();
    }
    match value.rsplit_once(':') {
        // One colon: IPv4 with a port. More than one: a bare IPv6 address.
        Some((host, _port)) if !host.contains(':') => host.to_string(),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(proxies(&[]).client_address("203.0.113.9".parse().unwrap(), &h), "203.0.113.9");
        assert_eq!(
            proxies(&["10.0.0.0/8"]).client_address("203.0.113.9".parse().unwrap(), &h),
            "203.0.113.9"
        );
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.168.1.1"]);
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        // The client forged "6.6.6.6"; the proxies appended the real client and themselves.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7"), ("x-forwarded-for", "192.168.1.1")]);
        assert_eq!(trusted.client_address(peer, &h), "198.51.100.7");
        let h =
            headers(&[("forwarded", r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https, for=10.1.1.1"#)]);
        assert_eq!(trusted.client_address(peer, &h), "2001:db8::7");
        // Forwarded wins over X-Forwarded-For.
        let h = headers(&[("forwarded", "for=198.51.100.8:1234"), ("x-forwarded-for", "198.51.100.9")]);
        assert_eq!(trusted.client_address(peer, &h), "198.51.100.8");
    }

    #[test]
    fn a_chain_of_only_proxies_or_no_header_gives_the_nearest_known_address() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(trusted.client_address(peer, &HeaderMap::new()), "10.0.0.2");
        assert_eq!(trusted.client_address(peer, &headers(&[("x-forwarded-for", "10.9.9.9")])), "10.9.9.9");
        assert_eq!(trusted.client_address(peer, &headers(&[("forwarded", "for=unknown")])), "10.0.0.2");
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let trusted = proxies(&["127.0.0.1"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(trusted.client_address("::ffff:127.0.0.1".parse().unwrap(), &h), "198.51.100.7");
    }

    #[test]
    fn bad_entries_are_refused_with_the_entry_named() {
        let error = TrustedProxies::parse(&["10.0.0.0/8", "proxy.example"]).unwrap_err();
        assert!(error.contains("'proxy.example'"), "{error}");
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
    }
}
