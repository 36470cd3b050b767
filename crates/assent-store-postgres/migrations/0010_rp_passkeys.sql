-- Passkeys at relying parties' origins: each application's WebAuthn identity, its users'
-- passkeys, and the ceremonies between their start and their finish.

CREATE TABLE app_webauthn (
    app_id      text COLLATE "C" PRIMARY KEY REFERENCES apps(id),
    rp_id       text NOT NULL,
    rp_name     text NOT NULL,
    origin      text NOT NULL
);

CREATE TABLE webauthn_ceremonies (
    id          text COLLATE "C" PRIMARY KEY,
    app_id      text COLLATE "C" NOT NULL REFERENCES apps(id),
    user_id     text COLLATE "C" NOT NULL REFERENCES users(id),
    kind        text NOT NULL CHECK (kind IN ('registration', 'authentication')),
    state       text NOT NULL,  -- webauthn-rs's state, JSON, with the challenge
    expires_at  bigint NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies(expires_at);

CREATE TABLE rp_passkeys (
    app_id        text COLLATE "C" NOT NULL REFERENCES apps(id),
    id            text COLLATE "C" NOT NULL,  -- the credential id, base64url
    user_id       text COLLATE "C" NOT NULL REFERENCES users(id),
    passkey       text NOT NULL,  -- webauthn-rs's Passkey, JSON
    counter       bigint NOT NULL,
    created_at    bigint NOT NULL,
    last_used_at  bigint,
    PRIMARY KEY (app_id, id)
);
CREATE INDEX rp_passkeys_user ON rp_passkeys(app_id, user_id, created_at);
