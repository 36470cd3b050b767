-- Version 18: the Duo Auth API. Integrations an admin creates, each bound to one application
-- and never changed afterwards; the secret key is kept sealed with the data key, since Duo's
-- clients sign with it (HMAC) and a hash could not check their signatures.

CREATE TABLE duo_integrations (
    ikey                  TEXT PRIMARY KEY,
    app_id                TEXT NOT NULL REFERENCES apps(id),
    skey_sealed           BLOB NOT NULL,
    api_host              TEXT NOT NULL,
    allow_unmatched_push  INTEGER NOT NULL,
    allow_legacy_v1       INTEGER NOT NULL,
    created_at            INTEGER NOT NULL
);
