//! Fail closed: the real `strongroom` binary, given no key, the wrong key, a key file others can
//! read, or a database it cannot read, exits non-zero with a plain message on stderr and never
//! listens on its port (watched the whole time it runs). Each case uses the database a test app
//! made (SQLite or PostgreSQL, whichever the suite runs on) with its key.

use crate::helpers::*;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

struct Refusal {
    stderr: String,
}

/// Starts the binary with exactly `env` (plus PATH and its address), optionally as another
/// user, and waits for it to stop, checking all along that nothing accepts connections on its
/// port. Panics if it keeps running or exits successfully.
async fn refused_start(env: &[(&str, String)], as_user: Option<(u32, u32)>) -> Refusal {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = tokio::process::Command::new(binary_for(as_user));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("STRONGROOM_ADDR", format!("127.0.0.1:{port}"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some((uid, gid)) = as_user {
        command.uid(uid).gid(gid);
    }
    let mut child = command.spawn().expect("the strongroom binary runs");
    let deadline = Instant::now() + Duration::from_secs(15);
    let listening =
        || std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(50));
    let status = loop {
        assert!(listening().is_err(), "the refused server accepted a connection on its port");
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop: it must refuse to start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(listening().is_err(), "something listens on the refused server's port");
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!status.success(), "the server exited successfully; stderr: {stderr}");
    assert!(status.code().is_some_and(|code| code != 0), "{status}");
    // A plain message: the binary's own one-line error, no panic or backtrace.
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("strongroom: "), "not a plain message on stderr: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{stderr}");
    Refusal { stderr }
}

/// The app's database with the key given by the key file at `key_file`, in a data directory of
/// its own (so no other file of the test app is used).
fn with_key_file(app: &TestApp, data_dir: &Path, key_file: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", app.database_url.clone()),
        ("STRONGROOM_DATA_DIR", data_dir.display().to_string()),
        ("STRONGROOM_KEY_FILE", key_file.display().to_string()),
    ]
}

fn write_key(path: &Path, bytes: &[u8], mode: u32) {
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, PermissionsExt::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn no_key_the_wrong_key_or_a_key_others_can_read_stops_the_start() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let key = std::fs::read(app.key_file()).unwrap();

    // No key: the key file is not where the settings say.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("strongroom.key");
    let refusal = refused_start(&with_key_file(&app, dir.path(), &missing), None).await;
    assert!(refusal.stderr.contains("STRONGROOM_KEY_FILE"), "says which setting to fix: {}", refusal.stderr);
    println!("no key: {}", refusal.stderr.trim());
    println!("no key: a key file was left at the missing path: {}", missing.exists());

    // The wrong key: 32 random bytes the database was not made with.
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.key");
    write_key(&other, &rand::random::<[u8; 32]>(), 0o600);
    let refusal = refused_start(&with_key_file(&app, dir.path(), &other), None).await;
    assert!(refusal.stderr.contains("not the key this database is encrypted with"), "{}", refusal.stderr);

    // The right key, in a file others can read.
    let dir = tempfile::tempdir().unwrap();
    let loose = dir.path().join("loose.key");
    write_key(&loose, &key, 0o644);
    let refusal = refused_start(&with_key_file(&app, dir.path(), &loose), None).await;
    assert!(refusal.stderr.contains("readable by other users"), "{}", refusal.stderr);
    assert!(refusal.stderr.contains("chmod 600"), "the message says what to do: {}", refusal.stderr);

    // The control: the same right key, mode 0600, starts (and is stopped by the drop).
    std::fs::set_permissions(&loose, PermissionsExt::from_mode(0o600)).unwrap();
    let control = started_and_listening(&with_key_file(&app, dir.path(), &loose), None).await;
    assert!(control, "the server did not start with the right key: the refusals above prove nothing");
}

/// The server binary another account can run: the build's own lies under root's home when the
/// target directory is `~/.cache/…` (the test command's), which no other account may enter, so a
/// copy is made once in a directory everyone can read.
fn binary_for(as_user: Option<(u32, u32)>) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    static SHARED: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let built = std::path::PathBuf::from(env!("CARGO_BIN_EXE_strongroom"));
    if as_user.is_none() {
        return built;
    }
    SHARED
        .get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("strongroom-bin-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            let copy = dir.join("strongroom");
            // A hard link takes no space (the build's file is already 0755); a copy if the temp
            // directory is on another file system.
            let _ = std::fs::remove_file(&copy);
            if std::fs::hard_link(&built, &copy).is_err() {
                std::fs::copy(&built, &copy).unwrap();
            }
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
            copy
        })
        .clone()
}

/// Whether the binary with `env` comes up and accepts connections (within 15 s).
async fn started_and_listening(env: &[(&str, String)], as_user: Option<(u32, u32)>) -> bool {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = tokio::process::Command::new(binary_for(as_user));
    if let Some((uid, gid)) = as_user {
        command.uid(uid).gid(gid);
    }
    let mut child = command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("STRONGROOM_ADDR", format!("127.0.0.1:{port}"))
        .env("STRONGROOM_WORKERS", "0")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_database_the_server_cannot_read_stops_the_start() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let key = std::fs::read(app.key_file()).unwrap();
    if is_postgres() {
        return unreadable_postgres(&app).await;
    }
    // The service user (not root, which reads any file) with a database file of mode 000.
    let (uid, gid) = ensure_launch_account();
    let dir = tempfile::tempdir().unwrap();
    chown(dir.path(), Some(uid), Some(gid)).unwrap();
    let key_file = dir.path().join("strongroom.key");
    write_key(&key_file, &key, 0o600);
    chown(&key_file, Some(uid), Some(gid)).unwrap();
    let database = dir.path().join("test.db");
    std::fs::copy(app.data_dir.path().join("test.db"), &database).unwrap();
    chown(&database, Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(&database, PermissionsExt::from_mode(0o000)).unwrap();
    let mut env = with_key_file(&app, dir.path(), &key_file);
    env[0].1 = format!("sqlite://{}?mode=rwc", database.display());
    let refusal = refused_start(&env, Some((uid, gid))).await;
    assert!(refusal.stderr.contains("could not connect to the database"), "{}", refusal.stderr);
    println!("mode 000 database: {}", refusal.stderr.trim());
    // The control: readable by its owner, the same file and user start.
    std::fs::set_permissions(&database, PermissionsExt::from_mode(0o600)).unwrap();
    assert!(started_and_listening(&env, Some((uid, gid))).await, "the control did not start as {uid}");

    // A database path that is a directory.
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("strongroom.key");
    write_key(&key_file, &key, 0o600);
    let not_a_file = dir.path().join("db");
    std::fs::create_dir(&not_a_file).unwrap();
    let mut env = with_key_file(&app, dir.path(), &key_file);
    env[0].1 = format!("sqlite://{}?mode=rwc", not_a_file.display());
    let refusal = refused_start(&env, None).await;
    assert!(refusal.stderr.contains("could not connect to the database"), "{}", refusal.stderr);
    println!("directory as database: {}", refusal.stderr.trim());
}

/// On PostgreSQL: a role with no rights on the database's tables, and a database that is not there.
async fn unreadable_postgres(app: &TestApp) {
    let key_dir = tempfile::tempdir().unwrap();
    let key_file = key_dir.path().join("strongroom.key");
    write_key(&key_file, &std::fs::read(app.key_file()).unwrap(), 0o600);
    let role = format!("strongroom_no_rights_{}", uuid::Uuid::new_v4().simple());
    app.run_sql(&format!("CREATE ROLE \"{role}\" LOGIN")).await;
    let mut url = url::Url::parse(&app.database_url).unwrap();
    url.set_username(&role).unwrap();
    let mut env = with_key_file(app, key_dir.path(), &key_file);
    env[0].1 = url.to_string();
    let refusal = refused_start(&env, None).await;
    app.run_sql(&format!("DROP ROLE \"{role}\"")).await;
    assert!(refusal.stderr.contains("permission denied"), "{}", refusal.stderr);
    println!("role without rights: {}", refusal.stderr.trim());

    let mut url = url::Url::parse(&app.database_url).unwrap();
    url.set_path("/strongroom_no_such_database");
    env[0].1 = url.to_string();
    let refusal = refused_start(&env, None).await;
    assert!(refusal.stderr.contains("could not connect to the database"), "{}", refusal.stderr);
    println!("missing database: {}", refusal.stderr.trim());
}
