//! `vein-fl-report --plots DIR` on a short real run: the tables still print, and the two
//! pictures are written as PNG and SVG with a line per series named in the legend.

// A failed unwrap is a test failure.
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn the_report_draws_accuracy_per_round_and_poisoning() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let output = Command::new(env!("CARGO_BIN_EXE_vein-fl-report"))
        .args(["--seeds", "1", "--rounds", "3", "--participants", "4"])
        .args(["--poisoning-participants", "10", "--plots"])
        .arg(&plots)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("| Dirichlet α = 0.1 |"), "{stdout}");
    for stem in ["accuracy-per-round", "poisoning"] {
        let png = std::fs::read(plots.join(format!("{stem}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{stem}.png is not a PNG");
        let svg = std::fs::read_to_string(plots.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg"), "{stem}.svg");
        assert!(stderr.contains(&format!("{stem}.svg")), "{stderr}");
    }
    let accuracy = std::fs::read_to_string(plots.join("accuracy-per-round.svg")).unwrap();
    for label in ["centralised (pooled data)", "FedAvg, IID, 4 participants", "α = 0.1"] {
        assert!(accuracy.contains(label), "no {label:?} in the legend");
    }
    let poisoning = std::fs::read_to_string(plots.join("poisoning.svg")).unwrap();
    for label in ["FedAvg", "median", "trimmed mean", "Krum", "Byzantine fraction f"] {
        assert!(poisoning.contains(label), "no {label:?} in the poisoning chart");
    }

    // A plots path that cannot be a directory is a clear error, not a panic.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_vein-fl-report"))
        .args(["--seeds", "1", "--rounds", "1", "--participants", "2", "--plots"])
        .arg(file.join("sub"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("creating the plots directory"), "{stderr}");
}
