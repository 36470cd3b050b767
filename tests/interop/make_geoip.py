"""Writes a small MaxMind-format (GeoIP2 City layout) database for Assent's tests, with
mmdb-writer, an implementation Assent shares no code with.

Usage: make_geoip.py OUT.mmdb
"""

import sys

from mmdb_writer import MMDBWriter
from netaddr import IPSet

PLACES = {
    "127.0.0.0/8": ("FR", "Paris", 48.8566, 2.3522),
    "203.0.113.0/24": ("FR", "Paris", 48.8566, 2.3522),
    "198.51.100.0/24": ("AU", "Sydney", -33.8688, 151.2093),
    "192.0.2.0/24": ("BR", "Sao Paulo", -23.5505, -46.6333),
}

writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City", languages=["en"])
for network, (country, city, lat, lon) in PLACES.items():
    writer.insert_network(IPSet([network]), {
        "country": {"iso_code": country},
        "city": {"names": {"en": city}},
        "location": {"latitude": lat, "longitude": lon},
    })
writer.to_db_file(sys.argv[1])
