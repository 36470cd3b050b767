//! Locations of addresses from a MaxMind-format database (GeoLite2 City, GeoIP2 City, or any
//! database with the same `country.iso_code` and `location` fields), for requests whose relying
//! party gave an address but no location, and for the devices' own addresses.

use serde::Deserialize;
use std::net::IpAddr;
use std::path::Path;

/// Where an address is.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub country: Option<String>,
    pub city: Option<String>,
    pub lat_lon: Option<(f64, f64)>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(default)]
    country: Option<Country>,
    #[serde(default)]
    city: Option<City>,
    #[serde(default)]
    location: Option<Location>,
}

#[derive(Deserialize)]
struct Country {
    #[serde(default)]
    iso_code: Option<String>,
}

#[derive(Deserialize)]
struct City {
    #[serde(default)]
    names: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
}

/// An open database.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("type", &self.reader.metadata().database_type)
            .finish()
    }
}

impl GeoIp {
    /// Opens a database file.
    pub fn open(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_bytes(bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads a database already in memory: the file's bytes, trusted no more than any input
    /// (the `geoip` fuzz target feeds it arbitrary ones).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, String> {
        let reader = maxminddb::Reader::from_source(bytes).map_err(|e| e.to_string())?;
        Ok(GeoIp { reader })
    }

    /// The place of an address, if the database knows it.
    pub fn locate(&self, ip: IpAddr) -> Option<Place> {
        let found = self.reader.lookup(ip).ok()?;
        let record: Record = found.decode().ok()??;
        let lat_lon = record
            .location
            .and_then(|l| Some((l.latitude?, l.longitude?)));
        Some(Place {
            country: record
                .country
                .and_then(|c| c.iso_code)
                .map(|c| c.to_ascii_uppercase()),
            city: record.city.and_then(|c| c.names.get("en").cloned()),
            lat_lon,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_database_is_refused() {
        assert!(GeoIp::from_bytes(Vec::new()).is_err());
        assert!(GeoIp::from_bytes(b"\xab\xcd\xefMaxMind.com".to_vec()).is_err());
        let err = GeoIp::open(Path::new("/nonexistent/cities.mmdb")).unwrap_err();
        assert!(err.starts_with("/nonexistent/cities.mmdb: "), "{err}");
    }
}
