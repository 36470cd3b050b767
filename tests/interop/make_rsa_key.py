"""Writes a fresh 2048-bit RSA private key as PKCS#8 PEM to the path given: the kind of key a
Google service account holds (ring can sign with RSA but cannot generate a key).

Usage: make_rsa_key.py KEY.pem
"""

import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption())
with open(sys.argv[1], "wb") as f:
    f.write(pem)
