//! The deny list and the Tor exit list an operator maintains: files built line by line from
//! addresses, networks, comments and arbitrary text. Lists of valid lines parse, and then every
//! probe is deny-listed exactly when a listed network holds it, and a Tor exit exactly when it is
//! listed; a refused file names a line that exists.
#![no_main]

use arbitrary::Arbitrary;
use assent_core::risk::lists::RiskLists;
use ipnet::IpNet;
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Arbitrary, Debug, Clone)]
enum Entry {
    V4([u8; 4]),
    V6([u16; 8]),
    Net4([u8; 4], u8),
    Net6([u16; 8], u8),
    Text(String),
}

#[derive(Arbitrary, Debug, Clone)]
struct Line {
    entry: Option<Entry>,
    indent: bool,
    comment: Option<String>,
    crlf: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    deny: Vec<Line>,
    tor: Vec<Line>,
    probes: Vec<Entry>,
}

fn ip(entry: &Entry) -> Option<IpAddr> {
    match entry {
        Entry::V4(a) | Entry::Net4(a, _) => Some(IpAddr::V4(Ipv4Addr::from(*a))),
        Entry::V6(a) | Entry::Net6(a, _) => Some(IpAddr::V6(Ipv6Addr::from(*a))),
        Entry::Text(_) => None,
    }
}

/// The line's text, and what it means if the parser must accept it (`Err` if it may refuse it).
fn render(line: &Line, networks: bool) -> (String, Result<Option<IpNet>, ()>) {
    let mut text = String::new();
    if line.indent {
        text.push_str(" \t");
    }
    let meaning = match &line.entry {
        None => Ok(None),
        Some(entry) => {
            let address = ip(entry);
            match entry {
                Entry::V4(_) | Entry::V6(_) => {
                    let address = address.expect("an address");
                    text.push_str(&address.to_string());
                    Ok(Some(IpNet::from(address)))
                }
                Entry::Net4(_, len) | Entry::Net6(_, len) => {
                    let address = address.expect("an address");
                    text.push_str(&format!("{address}/{len}"));
                    match IpNet::new(address, *len) {
                        Ok(net) if networks => Ok(Some(net)),
                        _ => Err(()),
                    }
                }
                Entry::Text(t) => {
                    let t: String = t
                        .chars()
                        .filter(|c| !matches!(c, '\n' | '\r' | '#'))
                        .collect();
                    text.push_str(&t);
                    match t.trim() {
                        "" => Ok(None),
                        _ => Err(()),
                    }
                }
            }
        }
    };
    if let Some(comment) = &line.comment {
        text.push_str(" # ");
        text.extend(comment.chars().filter(|c| !matches!(c, '\n' | '\r')));
    }
    text.push_str(if line.crlf { "\r\n" } else { "\n" });
    (text, meaning)
}

fuzz_target!(|input: Input| {
    let mut files = [String::new(), String::new()];
    let mut listed: [Vec<IpNet>; 2] = [Vec::new(), Vec::new()];
    let mut all_valid = true;
    for (i, lines) in [&input.deny, &input.tor].into_iter().enumerate() {
        for line in lines {
            let (text, meaning) = render(line, i == 0);
            files[i].push_str(&text);
            match meaning {
                Ok(Some(net)) => listed[i].push(net),
                Ok(None) => {}
                Err(()) => all_valid = false,
            }
        }
    }
    let parsed = RiskLists::parse(&files[0], &files[1]);
    match &parsed {
        Err(message) => {
            assert!(!all_valid, "a valid list was refused: {message}");
            let (list, text) = if message.starts_with("deny list") {
                (0, &files[0])
            } else {
                assert!(message.starts_with("Tor exit list"), "{message}");
                (1, &files[1])
            };
            let line: usize = message
                .split("line ")
                .nth(1)
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.parse().ok())
                .expect("the message names a line");
            assert!(
                line >= 1 && line <= text.lines().count(),
                "{message} of list {list}"
            );
        }
        Ok(lists) => {
            let mut probes: Vec<IpAddr> = input.probes.iter().filter_map(ip).collect();
            probes.extend(listed.iter().flatten().map(|n| n.addr()));
            if all_valid {
                for probe in probes {
                    assert_eq!(
                        lists.deny_listed(probe),
                        listed[0].iter().any(|n| n.contains(&probe)),
                        "{probe}"
                    );
                    assert_eq!(
                        lists.tor_exit(probe),
                        listed[1].iter().any(|n| n.addr() == probe),
                        "{probe}"
                    );
                }
            }
        }
    }
});
