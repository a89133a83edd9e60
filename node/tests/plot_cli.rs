//! End to end through the binary: `vein-node plot` writes a file that `plot-verify` accepts, and
//! a corrupted file is refused with a message naming the file and the fault.

use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_vein-node");

#[test]
fn plot_then_verify_then_detect_corruption() {
    let dir = tempfile::tempdir().expect("tempdir");
    let account = "ab".repeat(32);
    let output = Command::new(BINARY)
        .args(["plot", "--account", &account, "--start", "8", "--nonces", "5", "--out"])
        .arg(dir.path())
        .output()
        .expect("run plot");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("MiB/s"), "{stdout}");
    let path = dir.path().join(format!("{account}_8_5.vplot"));
    assert!(path.exists(), "{stdout}");

    let verify = Command::new(BINARY).arg("plot-verify").arg(&path).output().expect("run verify");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));

    let mut bytes = std::fs::read(&path).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).expect("write");
    let verify = Command::new(BINARY).arg("plot-verify").arg(&path).output().expect("run verify");
    assert!(!verify.status.success());
    let stderr = String::from_utf8_lossy(&verify.stderr);
    assert!(stderr.contains("data checksum") && stderr.contains("_8_5.vplot"), "{stderr}");

    let bad = Command::new(BINARY)
        .args(["plot", "--account", "xyz", "--nonces", "1", "--out"])
        .arg(dir.path())
        .output()
        .expect("run plot");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--account"));
}
