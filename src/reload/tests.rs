//! Reload tests: failures reported once, and a half-written file never served.

use super::*;

const POLICY: &str = "version: 1\nprofiles:\n  p: {role_arn: \"arn:aws:iam::111122223333:role/P\"}\nrules:\n  - name: r\n    effect: allow\n    accounts: [\"111122223333\"]\n";

fn errors(m: &Metrics) -> u64 {
    m.policy_reloads.with_label_values(&["error"]).get()
}

#[test]
fn a_failure_is_reported_once_until_the_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, POLICY).unwrap();
    let metrics = Metrics::new();
    let store = PolicyStore::load(&file, metrics.clone())
        .unwrap()
        .with_settle_interval(Duration::ZERO);
    assert!(
        !store.reload(false).unwrap(),
        "unchanged file: nothing to do"
    );

    std::fs::write(&file, "version: 2\n").unwrap();
    assert!(store.reload(false).is_err());
    assert!(
        !store.reload(false).unwrap(),
        "same bad file: reported once"
    );
    assert_eq!(errors(&metrics), 1);

    std::fs::remove_file(&file).unwrap();
    assert!(store.reload(false).is_err());
    assert!(
        !store.reload(false).unwrap(),
        "still missing: reported once"
    );
    assert_eq!(errors(&metrics), 2);
    // SIGHUP forces a new attempt, which fails again and says so.
    assert!(store.reload(true).is_err());
    assert_eq!(errors(&metrics), 3);
    assert_eq!(
        store.current().rules().len(),
        1,
        "the last good policy serves"
    );

    std::fs::write(&file, POLICY.replace("name: r", "name: r2")).unwrap();
    assert!(store.reload(false).unwrap());
    assert_eq!(store.current().rules()[0].name(), "r2");
}

/// A rule that needs `users: [nobody]`, and the same file cut just before
/// that line: still a valid policy, one that lets anyone in the account in.
const NARROW: &str = "version: 1\nprofiles:\n  p: {role_arn: \"arn:aws:iam::111122223333:role/P\"}\nrules:\n  - name: r\n    effect: allow\n    accounts: [\"111122223333\"]\n    users: [nobody]\n";

fn broad_prefix() -> &'static str {
    let cut = NARROW.find("    users:").unwrap();
    &NARROW[..cut]
}

fn users_bound(store: &PolicyStore) -> bool {
    store.current().rules()[0].describe().contains("users")
}

/// Writes the prefix in place, reloads (`force`: as on SIGHUP) while the rest
/// is written within the settle interval, then checks what is served.
fn race_an_in_place_write(force: bool) {
    use std::io::Write;
    let settle = Duration::from_millis(400);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, NARROW.replace("name: r\n", "name: old\n")).unwrap();
    let store = Arc::new(
        PolicyStore::load(&file, Metrics::new())
            .unwrap()
            .with_settle_interval(settle),
    );
    Policy::from_yaml(broad_prefix()).expect("the prefix alone is a valid, broader policy");

    // Written in place: truncate, the prefix, a pause, the rest.
    let mut w = std::fs::File::create(&file).unwrap();
    w.write_all(broad_prefix().as_bytes()).unwrap();
    let reloading = std::thread::spawn({
        let store = Arc::clone(&store);
        move || store.reload(force)
    });
    std::thread::sleep(settle / 4);
    w.write_all(&NARROW.as_bytes()[broad_prefix().len()..])
        .unwrap();
    drop(w);
    let outcome = reloading.join().unwrap();
    assert!(
        users_bound(&store),
        "force={force}: the prefix was served ({outcome:?})"
    );

    // Settled, the whole file loads (here, or already above if that reload
    // only ever saw the whole file).
    store.reload(false).unwrap();
    assert_eq!(store.current().rules()[0].name(), "r");
    assert!(users_bound(&store));
    assert!(store.reload(true).unwrap(), "SIGHUP settles and loads");
    assert!(users_bound(&store));
}

#[test]
fn a_file_caught_half_written_is_never_served() {
    race_an_in_place_write(false);
}

#[test]
fn sighup_waits_for_a_half_written_file_too() {
    race_an_in_place_write(true);
}
