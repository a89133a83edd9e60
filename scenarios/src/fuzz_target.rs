//! The body of the `scenario_file` fuzz target (docs/fuzzing.md): scenario text from a user's
//! file, whatever its bytes, is refused with a typed error or accepted as a scenario that stays
//! valid, explains itself and sweeps its own default grid without a panic. The nightly target
//! (`fuzz/fuzz_targets/scenario_file.rs`) and the stable test `scenarios/tests/fuzz_corpus.rs`
//! run this same function.

use std::path::Path;

use crate::explain::explain;
use crate::runner;
use crate::scenario::Scenario;

/// Parses `data` as a scenario file and checks what is promised of an accepted one.
pub fn scenario_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(scenario) = Scenario::parse(text, Path::new("fuzz.toml")) else { return };
    assert_eq!(scenario.validate(), Ok(()), "an accepted scenario does not validate again");
    let story = explain(&scenario);
    assert!(story.contains(&scenario.name), "the explanation does not name the scenario");
    let _ = scenario.labels();
    // The default sweep either builds (every point validated) or is refused with an error.
    if let Ok(sweep) = runner::default_sweep(&scenario)
        && let Ok(points) = runner::grid(&scenario, &sweep)
    {
        for point in points {
            assert_eq!(point.scenario.validate(), Ok(()), "a grid point does not validate");
        }
    }
}
