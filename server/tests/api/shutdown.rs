//! Stopping the server: SIGTERM lets the requests in flight finish, but a request that never
//! ends (here a client that promised a body and stopped sending it) cannot keep the process
//! alive past the shutdown grace (10 s). Before, such a connection made the server ignore
//! SIGTERM for as long as the client stayed.

use crate::crash::ServerProcess;
use crate::helpers::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_request_that_never_ends_does_not_keep_a_stopping_server_alive() {
    let app = spawn_app().await;
    let mut server = ServerProcess::start(&app, &[("STRONGROOM_WORKERS", "0".to_string())]).await;

    // A sign-in form whose body is announced as 100 bytes, of which 6 arrive.
    let mut stuck = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /sfn/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 100\r\n\r\nemail=",
        server.addr
    );
    stuck.write_all(head.as_bytes()).await.unwrap();
    // The request is in flight: the server is waiting for the rest of the body, not answering.
    let mut first = [0u8; 1];
    let answered = tokio::time::timeout(Duration::from_secs(1), stuck.read(&mut first)).await;
    assert!(answered.is_err(), "the server answered a request whose body never came: {answered:?}");

    let pid = server.child.id().expect("the server runs");
    let asked = Instant::now();
    let term = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(term.success());
    let exited = tokio::time::timeout(Duration::from_secs(30), server.child.wait()).await;
    let waited = asked.elapsed();
    let status = exited.expect("the server was still running 30 s after SIGTERM").unwrap();
    assert!(status.success(), "the server stopped with {status}");
    // It waited for the request (the grace), then stopped without it.
    assert!(waited >= Duration::from_secs(9), "stopped after {waited:?}, before the grace ended");
    assert!(waited < Duration::from_secs(20), "stopped only after {waited:?}");
    drop(stuck);
}
