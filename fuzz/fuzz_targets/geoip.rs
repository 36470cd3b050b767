//! The GeoIP reader over arbitrary MaxMind-format databases (the seed corpus holds real ones
//! written by mmdb-writer): opening and looking addresses up never panics, and a country found
//! is in upper case.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use assent_core::risk::geoip::GeoIp;
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The addresses the seed databases hold, looked up in every input.
const KNOWN: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)),
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)),
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
];

// Input: a flag and 16 bytes naming one more address, then the database.
fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((v6, octets)) = <(bool, [u8; 16])>::arbitrary(&mut u) else {
        return;
    };
    let database = u.take_rest().to_vec();
    let Ok(geoip) = GeoIp::from_bytes(database) else {
        return;
    };
    let extra = if v6 {
        IpAddr::V6(Ipv6Addr::from(octets))
    } else {
        IpAddr::V4(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]))
    };
    let _ = format!("{geoip:?}");
    for ip in KNOWN.into_iter().chain([extra]) {
        if let Some(place) = geoip.locate(ip) {
            if let Some(country) = &place.country {
                assert_eq!(country, &country.to_ascii_uppercase());
            }
        }
    }
});
