-- The passkey's signature counter as last seen: a later assertion must show a larger one
-- (WebAuthn's cloned-authenticator check); 0 until the authenticator reports one.
ALTER TABLE passkeys ADD COLUMN sign_count bigint NOT NULL DEFAULT 0;
