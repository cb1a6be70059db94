//! The `datazone-emulator` binary as a user runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_datazone-emulator");

fn fixture_path() -> String {
    format!("{}/../examples/emulator/fixture.yaml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn prints_one_listening_line_serves_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--fixture", &fixture_path()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr =
        line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("first line: {line:?}")).to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200") && response.contains("\"ok\""), "{response}");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "clean shutdown on SIGTERM: {exit:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(rest.is_empty(), "exactly one line on stdout, then nothing: {rest:?}");
}

#[test]
fn a_bad_fixture_fails_at_start_with_the_path() {
    let dir = std::env::temp_dir().join(format!("emulator-fixture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "domains:\n  - {name: corp, accountId: \"12\", region: eu-central-1}\n").unwrap();
    let out = Command::new(BIN).args(["--listen", "127.0.0.1:0", "--fixture"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("domains[0].accountId") && stderr.contains("12-digit"), "{stderr}");

    let out = Command::new(BIN).args(["--fixture", "/nonexistent/fixture.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read fixture /nonexistent/fixture.yaml"));
}
