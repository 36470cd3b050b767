//! WebAuthn assertions (the passkey check of user verification): clientDataJSON and the
//! authenticator data are built member by member from arbitrary values and signed with a fixed
//! passkey, so every check behind the signature is reached. An assertion verifies exactly when
//! every binding holds: credential, type, challenge, origin, not cross-origin, relying-party id
//! hash, user present and verified flags, and the passkey's signature.
#![no_main]

use arbitrary::Arbitrary;
use assent_fuzz::{AssertionSpec, Expectation, Key};
use assent_proto::webauthn::{Expected, verify};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    statement: String,
    origin: String,
    rp_id: String,
    credential_id: String,
    assertion: AssertionSpec,
}

fuzz_target!(|input: Input| {
    let want = Expectation {
        statement: &input.statement,
        origin: &input.origin,
        rp_id: &input.rp_id,
        credential_id: &input.credential_id,
        signer: Key::Passkey,
    };
    let (assertion, must_verify) = input.assertion.build(&want);
    let result = verify(
        &assertion,
        &Expected {
            statement: &input.statement,
            origin: &input.origin,
            rp_id: &input.rp_id,
            credential_id: &input.credential_id,
            public_key: Key::Passkey.point(),
        },
    );
    if let Some(ok) = must_verify {
        assert_eq!(result.is_ok(), ok, "{result:?} for {assertion:?}");
    }
});
