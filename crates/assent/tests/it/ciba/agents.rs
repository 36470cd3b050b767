//! Agents: a non-human identity asks its owner for one described action and receives a grant
//! bound to its own key (DPoP) that carries exactly the approved details.

use super::{Auth, Setup};
use assent_proto::jose::{SigningKey, random_token};
use assent_proto::oauth::dpop::dpop_proof;
use assent_proto::statement::Decision;
use assent_proto::states::ApprovalKind;
use serde_json::json;

const PAYMENT: &str = r#"[{"type":"payment_initiation","amount":"1250.00","currency":"EUR","creditor":"ACME GmbH","iban":"DE02120300000000202051"}]"#;

fn proof(setup: &Setup, key: &SigningKey) -> String {
    dpop_proof(
        key,
        "POST",
        &format!("{}/oauth2/token", setup.issuer()),
        setup.now(),
        &random_token(12).unwrap(),
        None,
    )
    .unwrap()
}

#[tokio::test]
async fn an_agent_gets_a_dpop_bound_grant_of_exactly_what_its_owner_approved() {
    let setup = Setup::new().await;
    let (id, key) = setup.agent().await;
    let auth = Auth::Key {
        id: id.clone(),
        key: key.clone(),
    };
    let started = setup
        .start(
            &auth,
            &[
                ("authorization_details", PAYMENT),
                ("access_token_lifetime", "120"),
            ],
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let req_id = started.body["auth_req_id"].as_str().unwrap().to_owned();

    // The owner's device shows the agent by name, as an agent action, with every detail.
    let shown = setup.device.pending().await.unwrap();
    assert_eq!(shown[0].kind, ApprovalKind::AgentAction);
    assert_eq!(shown[0].application.name, "Invoice assistant");
    assert_eq!(
        shown[0].authorization_details,
        serde_json::from_str::<Vec<serde_json::Value>>(PAYMENT).unwrap()
    );
    setup
        .answer(Decision::Approve, started.body["display_code"].as_str())
        .await;

    // Without a proof, or with a proof by a key the agent did not register: refused.
    let bare = setup.token(&auth, &req_id, None).await;
    assert_eq!((bare.status, bare.error()), (400, "invalid_dpop_proof"));
    let stranger = SigningKey::generate().unwrap();
    let foreign = setup
        .token(&auth, &req_id, Some(&proof(&setup, &stranger)))
        .await;
    assert_eq!(
        (foreign.status, foreign.error()),
        (400, "invalid_dpop_proof")
    );

    let dpop = proof(&setup, &key);
    let tokens = setup.token(&auth, &req_id, Some(&dpop)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.body["token_type"], "DPoP");
    assert_eq!(tokens.body["expires_in"], 120);
    let (_, claims) = setup
        .verified(tokens.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["cnf"]["jkt"], key.jwk().thumbprint());
    assert_eq!(
        claims["authorization_details"],
        serde_json::from_str::<serde_json::Value>(PAYMENT).unwrap()
    );
    assert_eq!(claims["client_id"], id.as_str());

    // The same proof again is a replay.
    let started = setup
        .start(&auth, &[("authorization_details", PAYMENT)])
        .await;
    let req_id = started.body["auth_req_id"].as_str().unwrap().to_owned();
    let replay = setup.token(&auth, &req_id, Some(&dpop)).await;
    assert_eq!((replay.status, replay.error()), (400, "invalid_dpop_proof"));
}

#[tokio::test]
async fn an_agent_asks_only_its_owner_only_for_its_types_and_never_for_nothing() {
    let setup = Setup::new().await;
    setup.server.user_with_device("bob").await;
    let (id, key) = setup.agent().await;
    let auth = Auth::Key { id, key };
    let other_user = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[
                ("scope", "openid"),
                ("login_hint", "bob"),
                ("authorization_details", PAYMENT),
            ],
            None,
        )
        .await;
    assert_eq!(
        (other_user.status, other_user.error()),
        (403, "access_denied")
    );
    // A name that is nobody's is refused the same way: an agent cannot probe for users.
    let nobody = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[
                ("scope", "openid"),
                ("login_hint", "mallory"),
                ("authorization_details", PAYMENT),
            ],
            None,
        )
        .await;
    assert_eq!((nobody.status, nobody.error()), (403, "access_denied"));
    assert_eq!(
        nobody.body["error_description"],
        other_user.body["error_description"]
    );
    let nothing = setup.start(&auth, &[]).await;
    assert_eq!(
        (nothing.status, nothing.error()),
        (400, "invalid_authorization_details")
    );
    let other_type = json!([{"type": "database_deletion", "database": "prod"}]).to_string();
    let refused = setup
        .start(&auth, &[("authorization_details", &other_type)])
        .await;
    assert_eq!(
        (refused.status, refused.error()),
        (400, "invalid_authorization_details")
    );
    assert!(
        setup.device.pending().await.unwrap().is_empty(),
        "nothing was asked"
    );
}
