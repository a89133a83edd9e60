//! Renders every chart kind from synthetic data so that the charts can be looked at.
//!
//! `cargo run -p vein-reports --example render_demo -- /tmp/vein-demo`

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let directory = std::env::args_os()
        .nth(1)
        .map_or_else(|| std::env::temp_dir().join("vein-reports-demo"), PathBuf::from);
    if let Err(error) = std::fs::create_dir_all(&directory) {
        eprintln!("cannot create {}: {error}", directory.display());
        return ExitCode::FAILURE;
    }
    let charts = match vein_reports::demo::demo_charts(7) {
        Ok(charts) => charts,
        Err(error) => {
            eprintln!("demo data: {error}");
            return ExitCode::FAILURE;
        }
    };
    for (stem, chart) in charts {
        match vein_reports::plots::render(&chart, &directory, &stem) {
            Ok(rendered) => println!("{}\n{}", rendered.png.display(), rendered.svg.display()),
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
