//! Groups, members and application scopes: groups read back as written and created once,
//! listed in byte order of their names; a member added or removed once with its audit row (raced
//! too); a scope replaced whole with its audit row; nothing unknown referenced, nothing audited
//! for a refused write.

use crate::races::{assert_one_chain, winners};
use crate::support::{app, audit, audit_rows, now, user};
use assent_core::audit::AuditEvent;
use assent_core::groups::records::Group;
use assent_core::ids::{AppId, UserId};
use assent_core::{Store, StoreError};
use std::sync::Arc;
use time::Duration;

/// A group created `age_ms` milliseconds after a time with a millisecond part, so a store that
/// kept only seconds would not read it back equal.
fn group(name: &str, age_ms: i64) -> Group {
    let base = now().replace_millisecond(417).unwrap();
    Group {
        name: name.into(),
        created_at: base + Duration::milliseconds(age_ms),
    }
}

async fn create(store: &Arc<dyn Store>, group: &Group) -> Result<(), StoreError> {
    let created = AuditEvent::GroupCreated {
        name: group.name.clone(),
    };
    store.insert_group(group, audit(created)).await
}

async fn add(store: &Arc<dyn Store>, group: &str, user: &UserId) -> Result<bool, StoreError> {
    let added = AuditEvent::GroupMemberAdded {
        group: group.into(),
        user_id: user.to_string(),
    };
    store.add_group_member(group, user, audit(added)).await
}

async fn remove(store: &Arc<dyn Store>, group: &str, user: &UserId) -> Result<bool, StoreError> {
    let removed = AuditEvent::GroupMemberRemoved {
        group: group.into(),
        user_id: user.to_string(),
    };
    store.remove_group_member(group, user, audit(removed)).await
}

async fn set_scope(store: &Arc<dyn Store>, app: &AppId, groups: &[&str]) -> Result<(), StoreError> {
    let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
    let set = AuditEvent::AppScopeSet {
        app_id: app.to_string(),
        groups: groups.clone(),
    };
    store.set_app_scope(app, &groups, audit(set)).await
}

/// The last audit row's kind and subject.
async fn last_audit(store: &Arc<dyn Store>) -> (String, String) {
    let row = store.audit_page(0, 100_000).await.unwrap().pop().unwrap();
    (row.kind, row.subject)
}

pub(crate) async fn groups_round_trip_and_are_created_once(store: Arc<dyn Store>) {
    assert_eq!(store.list_groups().await.unwrap(), []);
    let ops = group("ops", 0);
    assert_eq!(store.group(&ops.name).await.unwrap(), None);
    let before = audit_rows(&store).await;
    create(&store, &ops).await.unwrap();
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    assert_eq!(
        last_audit(&store).await,
        ("group_created".into(), "group:ops".into())
    );
    assert_eq!(store.group("ops").await.unwrap().as_ref(), Some(&ops));
    assert_eq!(store.group("OPS").await.unwrap(), None, "names are exact");
    assert_eq!(store.group("op").await.unwrap(), None);

    // A second group with a taken name is refused whole: no change, no audit row.
    let usurper = group("ops", 5_000);
    let refused = create(&store, &usurper).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(store.group("ops").await.unwrap(), Some(ops.clone()));
    assert_eq!(audit_rows(&store).await, before + 1);

    // Listed by name in byte order, whatever the order of creation or the database's locale
    // (a locale's order would put `ops2` before the names that ignore their punctuation).
    let names = ["ops_eu", "admins", "ops2", "ops.eu", "ops-eu", "zeta"];
    for (age, name) in (1..).zip(names) {
        create(&store, &group(name, age)).await.unwrap();
    }
    let listed: Vec<String> = store
        .list_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(
        listed,
        [
            "admins", "ops", "ops-eu", "ops.eu", "ops2", "ops_eu", "zeta"
        ]
    );
    assert_eq!(store.list_groups().await.unwrap()[1], ops);
}

pub(crate) async fn group_members_are_added_and_removed_once(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    for (age, name) in [(0, "zeta"), (1, "alpha"), (2, "empty")] {
        create(&store, &group(name, age)).await.unwrap();
    }
    assert_eq!(store.groups_of(&alice.id).await.unwrap(), [""; 0]);

    let before = audit_rows(&store).await;
    assert!(add(&store, "zeta", &alice.id).await.unwrap());
    assert_eq!(
        last_audit(&store).await,
        ("group_member_added".into(), format!("user:{}", alice.id))
    );
    assert!(
        !add(&store, "zeta", &alice.id).await.unwrap(),
        "a member already"
    );
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");

    assert!(add(&store, "alpha", &alice.id).await.unwrap());
    assert!(add(&store, "zeta", &bob.id).await.unwrap());
    assert_eq!(audit_rows(&store).await, before + 3);
    assert_eq!(store.groups_of(&alice.id).await.unwrap(), ["alpha", "zeta"]);
    assert_eq!(store.groups_of(&bob.id).await.unwrap(), ["zeta"]);
    let mut by_id = vec![alice.id.clone(), bob.id.clone()];
    by_id.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(store.group_members("zeta").await.unwrap(), by_id);
    assert_eq!(
        store.group_members("alpha").await.unwrap(),
        std::slice::from_ref(&alice.id)
    );
    assert_eq!(store.group_members("empty").await.unwrap(), []);
    assert_eq!(store.group_members("nobody").await.unwrap(), []);

    // A member of an unknown group, or an unknown member, is refused with nothing audited.
    let before = audit_rows(&store).await;
    let stranger = UserId::generate();
    for (name, member) in [("nobody", &alice.id), ("alpha", &stranger)] {
        let refused = add(&store, name, member).await;
        assert!(refused.is_err(), "{name}: {refused:?}");
    }
    assert_eq!(store.groups_of(&stranger).await.unwrap(), [""; 0]);
    assert_eq!(
        store.group_members("alpha").await.unwrap(),
        std::slice::from_ref(&alice.id)
    );
    assert_eq!(audit_rows(&store).await, before);

    assert!(remove(&store, "zeta", &alice.id).await.unwrap());
    assert_eq!(
        last_audit(&store).await,
        ("group_member_removed".into(), format!("user:{}", alice.id))
    );
    assert!(
        !remove(&store, "zeta", &alice.id).await.unwrap(),
        "not a member any more"
    );
    assert!(!remove(&store, "empty", &bob.id).await.unwrap());
    assert!(!remove(&store, "nobody", &bob.id).await.unwrap());
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    assert_eq!(store.groups_of(&alice.id).await.unwrap(), ["alpha"]);
    assert_eq!(
        store.group_members("zeta").await.unwrap(),
        std::slice::from_ref(&bob.id)
    );
}

/// Many admins adding (then removing) the same member at once, on one node or several: one
/// wins each time, and only its audit row joins the chain.
pub(crate) async fn concurrent_member_changes_have_one_winner(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    create(&store, &group("ops", 0)).await.unwrap();
    let before = audit_rows(&store).await;
    let race = |adding: bool| {
        let (store, member) = (store.clone(), alice.id.clone());
        move |_| {
            let (store, member) = (store.clone(), member.clone());
            async move {
                if adding {
                    add(&store, "ops", &member).await.unwrap()
                } else {
                    remove(&store, "ops", &member).await.unwrap()
                }
            }
        }
    };
    assert_eq!(winners(8, race(true)).await, 1, "added once");
    assert_eq!(
        store.group_members("ops").await.unwrap(),
        std::slice::from_ref(&alice.id)
    );
    assert_eq!(winners(8, race(false)).await, 1, "removed once");
    assert_eq!(store.group_members("ops").await.unwrap(), []);
    assert_one_chain(&store, before + 2).await;
}

pub(crate) async fn app_scopes_are_replaced_whole(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let globex = app(&store, "Globex").await;
    for (age, name) in [(0, "b"), (1, "a"), (2, "c")] {
        create(&store, &group(name, age)).await.unwrap();
    }
    assert_eq!(
        store.app_scope(&acme.id).await.unwrap(),
        [""; 0],
        "any user"
    );

    let before = audit_rows(&store).await;
    set_scope(&store, &globex.id, &["c"]).await.unwrap();
    let steps: [&[&str]; 4] = [&["b", "a"], &["b"], &[], &["c", "a"]];
    for (i, scope) in (1..).zip(steps) {
        set_scope(&store, &acme.id, scope).await.unwrap();
        let mut sorted = scope.to_vec();
        sorted.sort_unstable();
        assert_eq!(store.app_scope(&acme.id).await.unwrap(), sorted);
        assert_eq!(
            audit_rows(&store).await,
            before + 1 + i,
            "one audit row each"
        );
        assert_eq!(
            last_audit(&store).await,
            ("app_scope_set".into(), format!("app:{}", acme.id))
        );
    }
    assert_eq!(
        store.app_scope(&globex.id).await.unwrap(),
        ["c"],
        "untouched"
    );

    // A scope naming an unknown group, or of an unknown application, is refused whole: the
    // scope is unchanged and nothing is audited.
    let before = audit_rows(&store).await;
    let refused = set_scope(&store, &acme.id, &["b", "nobody"]).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(store.app_scope(&acme.id).await.unwrap(), ["a", "c"]);
    let stranger = AppId::generate();
    for scope in [&["a"][..], &[]] {
        let refused = set_scope(&store, &stranger, scope).await;
        assert!(refused.is_err(), "{scope:?}: {refused:?}");
    }
    assert_eq!(store.app_scope(&stranger).await.unwrap(), [""; 0]);
    assert_eq!(audit_rows(&store).await, before);
}
