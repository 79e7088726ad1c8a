//! Where a compute environment's `endpointUrl` may send this server's requests.
//!
//! A custom endpoint makes the server itself call an address someone typed, with the
//! environment's credentials; aimed inward it would reach the cloud metadata service
//! (169.254.169.254), the database or any internal service. So:
//! - an endpoint that matches the instance's allow-list (`STRONGROOM_ENDPOINT_ALLOW`) is allowed
//!   to anyone who manages compute;
//! - any other custom endpoint needs an instance administrator, and even then its host must
//!   resolve to public addresses only: loopback, link-local, private, CGNAT, unspecified and
//!   other special ranges are reached only through the allow-list;
//! - the check runs when an environment is saved and again whenever a store is opened (the
//!   address a name resolves to can change in between). Checking again at connect time is not
//!   done: the SDKs' HTTP clients resolve on their own.
//!
//! Allow-list entries: a URL prefix (`http://10.0.0.5:4566/`), a `host:port`, or a bare `host`
//! (any port).
//!
//! A cluster's SSH login node (`hostName`, `port`) follows the same list: a host that resolves to
//! public addresses only may be used by anyone who manages compute (the SSH handshake and the
//! pinned host key do the rest); one that reaches a loopback, private, link-local or other special
//! address (the Strongroom host itself, its internal network, a metadata service) only when an
//! instance administrator lists it as `host` or `host:port`, since a Check would otherwise let a
//! workspace probe what listens there. The address rules are written here by hand: the standard library's `is_global`
//! is not stable yet, and the ranges are few.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;
use url::{Host, Url};

/// The setting an instance administrator changes to allow an endpoint.
pub const ALLOW_SETTING: &str = "STRONGROOM_ENDPOINT_ALLOW";

const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
enum Entry {
    /// A URL prefix, normalised by `url` (`http://host:port/path`).
    Prefix(String),
    /// A host (lowercase, IPv6 in brackets) and, if given, the only port allowed.
    Host(String, Option<u16>),
}

/// The instance's endpoint rules, from the configuration.
#[derive(Debug, Clone, Default)]
pub struct EndpointPolicy {
    allow: Vec<Entry>,
}

impl EndpointPolicy {
    pub fn new(entries: &[String]) -> EndpointPolicy {
        let allow = entries
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .filter_map(|entry| {
                if entry.contains("://") {
                    return Url::parse(entry).ok().map(|u| Entry::Prefix(u.as_str().to_string()));
                }
                let url = Url::parse(&format!("http://{entry}")).ok()?;
                // `url` hides an explicit default port (":80"): read it from the text.
                let port = url.port().or_else(|| entry.ends_with(":80").then_some(80));
                Some(Entry::Host(url.host_str()?.to_ascii_lowercase(), port))
            })
            .collect();
        EndpointPolicy { allow }
    }

    /// Whether an instance administrator listed this endpoint.
    pub fn is_listed(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        self.allow.iter().any(|entry| match entry {
            Entry::Prefix(prefix) => url.as_str().starts_with(prefix.as_str()),
            Entry::Host(h, port) => *h == host && port.is_none_or(|p| url.port_or_known_default() == Some(p)),
        })
    }

    /// Checks an endpoint. `by_instance_admin`: whether whoever chose it may choose an unlisted
    /// one (at save: the actor; at open: true, since only an instance administrator could save
    /// one). Answers the refusal in words, naming the setting to change.
    pub async fn check(&self, raw: &str, by_instance_admin: bool) -> Result<(), String> {
        let url = parse(raw)?;
        if self.is_listed(&url) {
            return Ok(());
        }
        if !by_instance_admin {
            return Err(format!(
                "endpointUrl {} is not on this server's list of allowed endpoints. Only an instance \
                 administrator may set another endpoint, or list this one in {ALLOW_SETTING}.",
                origin(&url)
            ));
        }
        for address in resolve(&url).await? {
            if let Some(kind) = special_range(address) {
                return Err(format!(
                    "endpointUrl {} reaches {kind} address, which this server only calls when an \
                     instance administrator lists the endpoint in {ALLOW_SETTING}.",
                    origin(&url)
                ));
            }
        }
        Ok(())
    }
}

impl EndpointPolicy {
    /// Whether an instance administrator listed this SSH login node (`host` or `host:port`).
    fn lists_host(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        self.allow.iter().any(|entry| match entry {
            Entry::Host(h, allowed) => {
                h.trim_start_matches('[').trim_end_matches(']') == host && allowed.is_none_or(|p| p == port)
            }
            Entry::Prefix(_) => false,
        })
    }

    /// Checks a cluster's SSH login node (see the module doc). The refusal names the setting.
    /// `must_resolve`: when connecting, a name that does not resolve is refused; when saving, it
    /// is accepted (the name may not exist yet, or only on the cluster's network) and checked
    /// again at every connection.
    pub async fn check_ssh_host(&self, host: &str, port: u16, must_resolve: bool) -> Result<(), String> {
        if self.lists_host(host, port) {
            return Ok(());
        }
        let lookup = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await;
        let addresses: Vec<IpAddr> = match lookup {
            Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
            _ => Vec::new(),
        };
        if addresses.is_empty() {
            return match must_resolve {
                true => Err(format!("hostName {host}: the host name cannot be resolved.")),
                false => Ok(()),
            };
        }
        for address in addresses {
            if let Some(kind) = special_range(address) {
                return Err(format!(
                    "hostName {host} (port {port}) reaches {kind} address, which this server only connects \
                     to when an instance administrator lists the login node in {ALLOW_SETTING} (as \
                     {host} or {host}:{port})."
                ));
            }
        }
        Ok(())
    }
}

/// Whether a URL is one of Google's own API hosts, the only unlisted place a Google
/// environment's bearer token may go.
pub fn is_google_api(url: &Url) -> bool {
    url.scheme() == "https"
        && url.host_str().is_some_and(|h| h == "googleapis.com" || h.ends_with(".googleapis.com"))
}

/// Whether a URL is one of AWS's own service hosts, whose error codes and messages are AWS's.
pub fn is_aws_api(url: &Url) -> bool {
    url.scheme() == "https"
        && url.host_str().is_some_and(|h| h.ends_with(".amazonaws.com") || h.ends_with(".amazonaws.com.cn"))
}

pub fn parse(raw: &str) -> Result<Url, String> {
    match Url::parse(raw.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        _ => Err("endpointUrl must be an http:// or https:// URL.".into()),
    }
}

/// scheme://host[:port], without any path, user or query (which are not ours to repeat).
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

async fn resolve(url: &Url) -> Result<Vec<IpAddr>, String> {
    let port = url.port_or_known_default().unwrap_or(443);
    match url.host() {
        Some(Host::Ipv4(ip)) => Ok(vec![IpAddr::V4(ip)]),
        Some(Host::Ipv6(ip)) => Ok(vec![IpAddr::V6(ip)]),
        Some(Host::Domain(name)) => {
            let lookup = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port))).await;
            let cannot = || format!("endpointUrl {}: the host name cannot be resolved.", origin(url));
            let addresses: Vec<IpAddr> =
                lookup.map_err(|_| cannot())?.map_err(|_| cannot())?.map(|a| a.ip()).collect();
            if addresses.is_empty() {
                return Err(cannot());
            }
            Ok(addresses)
        }
        None => Err("endpointUrl must be an http:// or https:// URL.".into()),
    }
}

/// The kind of a non-public address ("a loopback"), or `None` for a public one.
pub fn special_range(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback")
    } else if ip.is_link_local() {
        Some("a link-local")
    } else if ip.is_private() {
        Some("a private")
    } else if a == 0 {
        Some("an unspecified")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a carrier-grade NAT (shared)")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved")
    } else if (a == 192 && b == 0 && c == 0) || (a == 198 && (b == 18 || b == 19)) {
        Some("a reserved")
    } else {
        None
    }
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return special_v4(v4);
    }
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that is the real target.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [_, _, _, _, _, _, hi, lo] = segments;
        return special_v4(Ipv4Addr::from(((hi as u32) << 16) | lo as u32));
    }
    if segments[0] == 0x2002 {
        return special_v4(Ipv4Addr::from(((segments[1] as u32) << 16) | segments[2] as u32));
    }
    if ip.is_loopback() {
        Some("a loopback")
    } else if ip.is_unspecified() {
        Some("an unspecified")
    } else if segments[0] & 0xffc0 == 0xfe80 || segments[0] & 0xffc0 == 0xfec0 {
        Some("a link-local")
    } else if segments[0] & 0xfe00 == 0xfc00 {
        Some("a private (unique local)")
    } else if ip.is_multicast() {
        Some("a multicast")
    } else if segments[..6] == [0, 0, 0, 0, 0, 0] {
        // IPv4-compatible (deprecated) ::a.b.c.d.
        Some("a reserved")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> EndpointPolicy {
        EndpointPolicy::new(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>())
    }

    fn url(raw: &str) -> Url {
        Url::parse(raw).unwrap()
    }

    #[test]
    fn entries_match_by_prefix_host_and_port() {
        let p = policy(&["127.0.0.2", "localhost:4566", "http://10.0.0.5:9000/aws/", "[::1]:8080"]);
        assert!(p.is_listed(&url("http://127.0.0.2:41234")));
        assert!(p.is_listed(&url("https://127.0.0.2/")));
        assert!(p.is_listed(&url("http://LOCALHOST:4566/")));
        assert!(!p.is_listed(&url("http://localhost:4567/")));
        assert!(p.is_listed(&url("http://10.0.0.5:9000/aws/x")));
        assert!(!p.is_listed(&url("http://10.0.0.5:9000/other")));
        assert!(!p.is_listed(&url("http://10.0.0.5/aws/")));
        assert!(p.is_listed(&url("http://[::1]:8080/")));
        assert!(!p.is_listed(&url("http://127.0.0.1:4566/")));
        assert!(!p.is_listed(&url("http://127.0.0.2.evil.example/")));
        assert!(!policy(&["http://host"]).is_listed(&url("http://host.evil.example/")));
        assert!(policy(&["host:80"]).is_listed(&url("http://host/")));
        assert!(!policy(&["host:80"]).is_listed(&url("https://host/")));
    }

    #[test]
    fn special_ranges_are_recognised_and_public_ones_pass() {
        for special in [
            "127.0.0.1",
            "127.9.9.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "100.127.255.254",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
        ] {
            let ip: IpAddr = special.parse().unwrap();
            assert!(special_range(ip).is_some(), "{special} must be refused");
        }
        for public in
            ["52.94.133.131", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2600:1f18::1", "::ffff:8.8.8.8"]
        {
            let ip: IpAddr = public.parse().unwrap();
            assert_eq!(special_range(ip), None, "{public} is public");
        }
    }

    #[tokio::test]
    async fn unlisted_endpoints_need_an_instance_admin_and_a_public_address() {
        let p = policy(&["127.0.0.2"]);
        assert!(p.check("http://127.0.0.2:5000", false).await.is_ok());
        let refused = p.check("http://127.0.0.1:5000/x?token=1", false).await.unwrap_err();
        assert!(refused.contains(ALLOW_SETTING) && refused.contains("instance administrator"), "{refused}");
        assert!(!refused.contains("token=1"), "{refused}");
        for inward in ["http://169.254.169.254/", "http://127.0.0.1:5000", "http://[::1]/", "http://10.0.0.1"]
        {
            let refused = p.check(inward, true).await.unwrap_err();
            assert!(refused.contains(ALLOW_SETTING), "{inward}: {refused}");
        }
        assert!(p.check("http://8.8.8.8/", true).await.is_ok());
        assert!(p.check("ftp://8.8.8.8/", true).await.is_err());
        // `localhost` is a name: it is resolved, and its loopback address refused.
        assert!(p.check("http://localhost:4566/", true).await.is_err());
    }

    #[test]
    fn only_real_google_and_aws_hosts_count_as_theirs() {
        assert!(is_google_api(&url("https://secretmanager.googleapis.com")));
        assert!(!is_google_api(&url("http://secretmanager.googleapis.com")));
        assert!(!is_google_api(&url("https://googleapis.com.evil.example")));
        assert!(is_aws_api(&url("https://secretsmanager.eu-west-1.amazonaws.com")));
        assert!(!is_aws_api(&url("https://amazonaws.com.evil.example")));
    }
}
