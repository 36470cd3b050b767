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
        let reader = maxminddb::Reader::open_readfile(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
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
