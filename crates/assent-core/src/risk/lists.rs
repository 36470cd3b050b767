//! The address lists an operator maintains for the risk engine: a deny list of networks and the
//! Tor exit nodes, read from files at start and on reload.

use std::collections::HashSet;
use std::net::IpAddr;

/// Address lists an operator maintains: a deny list of networks and the Tor exit nodes.
#[derive(Debug, Clone, Default)]
pub struct RiskLists {
    deny: Vec<ipnet::IpNet>,
    pub(crate) tor: HashSet<IpAddr>,
}

impl RiskLists {
    /// Parses a deny list (one address or CIDR per line) and a Tor exit list (one address per
    /// line); `#` starts a comment. An error names the line.
    pub fn parse(deny_list: &str, tor_exits: &str) -> Result<Self, String> {
        let entries = |text: &str| {
            text.lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim().to_owned()))
                .filter(|(_, l)| !l.is_empty())
                .collect::<Vec<_>>()
        };
        let mut deny = Vec::new();
        for (line, entry) in entries(deny_list) {
            let net = entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    format!("deny list line {line}: {entry:?} is not an address or CIDR")
                })?;
            deny.push(net);
        }
        let mut tor = HashSet::new();
        for (line, entry) in entries(tor_exits) {
            let ip = entry
                .parse::<IpAddr>()
                .map_err(|_| format!("Tor exit list line {line}: {entry:?} is not an address"))?;
            tor.insert(ip);
        }
        Ok(RiskLists { deny, tor })
    }

    /// Whether `ip` falls in a network of the deny list.
    pub fn deny_listed(&self, ip: IpAddr) -> bool {
        self.deny.iter().any(|n| n.contains(&ip))
    }

    /// Whether `ip` is a listed Tor exit node.
    pub fn tor_exit(&self, ip: IpAddr) -> bool {
        self.tor.contains(&ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_with_comments_and_name_bad_lines() {
        let lists = RiskLists::parse(
            "# bad actors\n198.51.100.0/24\n2001:db8::1 # one host\n",
            "203.0.113.9\n",
        )
        .unwrap();
        assert!(lists.deny_listed("198.51.100.77".parse().unwrap()));
        assert!(lists.deny_listed("2001:db8::1".parse().unwrap()));
        assert!(!lists.deny_listed("198.51.101.1".parse().unwrap()));
        assert!(lists.tor.contains(&"203.0.113.9".parse().unwrap()));
        let err = RiskLists::parse("10.0.0.0/8\nnot-an-ip\n", "").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }
}
