//! The scenario-file fuzz target's corpus (fuzz/corpus/scenario_file) and its committed crashes
//! (fuzz/artifacts/scenario_file), run through the target's body on stable: what the nightly
//! fuzzer found stays fixed, and the `valid-*` seeds still parse (a stale seed would stop the
//! fuzzer reaching past the parser's first check).

use std::path::Path;

use vein_scenarios::fuzz_target::scenario_file;
use vein_scenarios::scenario::Scenario;

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let Ok(entries) = std::fs::read_dir(&root) else { return Vec::new() };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
}

#[test]
fn every_seed_and_committed_crash_runs_clean() {
    let seeds = files("fuzz/corpus/scenario_file");
    assert!(seeds.len() >= 15, "{} seeds", seeds.len());
    for path in seeds.iter().chain(files("fuzz/artifacts/scenario_file").iter()) {
        let bytes = std::fs::read(path).expect("readable");
        scenario_file(&bytes);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("valid-") {
            let text = String::from_utf8(bytes).expect("utf-8");
            Scenario::parse(&text, path).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
