"""Writes a throwaway CA and a server certificate for localhost and 127.0.0.1, made with trustme:
OUT/NAME-ca.pem (the CA to trust), OUT/NAME-chain.pem (the server's chain) and OUT/NAME-key.pem
(its private key). Used by crates/assent/tests/it/tls.rs."""

import sys

import trustme

out, name = sys.argv[1], sys.argv[2]
ca = trustme.CA()
cert = ca.issue_cert("localhost", "127.0.0.1")
ca.cert_pem.write_to_path(f"{out}/{name}-ca.pem")
cert.private_key_pem.write_to_path(f"{out}/{name}-key.pem")
with open(f"{out}/{name}-chain.pem", "wb") as chain:
    for blob in cert.cert_chain_pems:
        chain.write(blob.bytes())
