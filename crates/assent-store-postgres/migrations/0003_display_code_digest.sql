-- Number-matching codes are kept as keyed digests (HMAC-SHA256 under a key derived from the data
-- key), never in clear; `code_length` is how many digits the device asks for.
ALTER TABLE approvals ADD COLUMN code_length smallint, ADD COLUMN code_digest bytea;
-- A request still pending at the upgrade keeps its length but gets an empty digest, which no
-- typed code matches: it can be denied, cancelled or left to expire, not approved with a code the
-- database held in clear.
UPDATE approvals SET code_length = length(display_code), code_digest = ''::bytea
    WHERE display_code IS NOT NULL;
ALTER TABLE approvals DROP COLUMN display_code;
