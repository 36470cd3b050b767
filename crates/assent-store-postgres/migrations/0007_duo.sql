-- The Duo Auth API. Integrations an admin creates, each bound to one application and never
-- changed afterwards; the secret key is kept sealed with the data key, since Duo's clients sign
-- with it (HMAC) and a hash could not check their signatures.

CREATE TABLE duo_integrations (
    ikey                  text COLLATE "C" PRIMARY KEY,
    app_id                text COLLATE "C" NOT NULL REFERENCES apps(id),
    skey_sealed           bytea NOT NULL,
    api_host              text NOT NULL,
    allow_unmatched_push  boolean NOT NULL,
    allow_legacy_v1       boolean NOT NULL,
    created_at            bigint NOT NULL
);
