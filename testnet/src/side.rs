//! `vein-testnet side ...`: a side chain beside the running main net (docs/peg.md, "On a
//! testnet"). The side chain is a testnet of its own, made by the same [`crate::up`] in
//! `DIR/side` (its own genesis, chain id `vein-testnet-LABEL-side`, keys, plots, ports and
//! manifest), recorded in the main manifest's `side` entry; every command of the CLI works on it
//! with `--dir DIR/side`. `side up` also starts the relayer (`peg relay`, [`crate::relay`]) in
//! the background, logging to `DIR/side/relayer.log`; the main net's `status` and `down` cover
//! the side chain and the relayer too.

use crate::manifest::{Manifest, SideEntry};
use crate::{TestnetError, UpOptions, bad_argument, io};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The side net's directory inside the main one.
pub const SIDE_DIR: &str = "side";
/// The relayer's log inside the side net's directory.
pub const RELAYER_LOG: &str = "relayer.log";

/// How to start the side chain.
#[derive(Clone, Debug)]
pub struct SideOptions {
    /// Side nodes, 1..=64.
    pub nodes: usize,
    /// Nonces per side node plot.
    pub nonces: u64,
    /// The side chain's target checkpoint interval (default: the main net's).
    pub target_interval_ms: Option<u64>,
    /// The side chain's finality depth (default: the main net's).
    pub finality_depth: Option<u64>,
    /// The anchor interval `a` both chains register each other with (1..=128).
    pub anchor_interval: u64,
    /// Do not start the relayer (run `peg relay` yourself).
    pub no_relay: bool,
    /// How long to wait for each side node's `/ready`.
    pub ready_timeout: Duration,
}

/// Start the side chain beside the main net of `main` and record it; returns its manifest.
pub fn up(main: &mut Manifest, options: &SideOptions) -> Result<Manifest, TestnetError> {
    if main.side.is_some() {
        return Err(bad_argument("side", "this testnet already has a side chain (`side down`)"));
    }
    if !(1..=128).contains(&options.anchor_interval) {
        return Err(bad_argument("anchor-interval", "must be 1..=128"));
    }
    let main_genesis = vein_node::genesis_file::GenesisFile::load(&main.genesis)?.to_genesis()?;
    let label = main.chain_id.strip_prefix("vein-testnet-").unwrap_or(&main.chain_id);
    let up_options = UpOptions {
        dir: main.dir.join(SIDE_DIR),
        nodes: options.nodes,
        nonces: options.nonces,
        target_interval_ms: options
            .target_interval_ms
            .unwrap_or(main_genesis.params.target_interval_ms),
        finality_depth: options.finality_depth.unwrap_or(main_genesis.params.finality_depth),
        label: Some(format!("{label}-side")),
        node_bin: Some(main.node_bin.clone()),
        ready_timeout: options.ready_timeout,
        // A side chain's nodes are honest: attackers are started on the main net.
        attackers: Vec::new(),
        attacker_nonces: None,
    };
    let side = crate::up(&up_options)?;
    main.side = Some(SideEntry {
        dir: side.dir.clone(),
        anchor_interval: options.anchor_interval,
        relayer_pid: None,
        relayer_log: side.dir.join(RELAYER_LOG),
    });
    main.save()?;
    if !options.no_relay {
        start_relayer(main)?;
    }
    Ok(side)
}

/// The side chain's manifest, or a clear error if `side up` never ran.
pub fn side_manifest(main: &Manifest) -> Result<Manifest, TestnetError> {
    let entry = side_entry(main)?;
    Ok(Manifest::load(&entry.dir)?)
}

/// The main manifest's side entry, or a clear error if `side up` never ran.
pub fn side_entry(main: &Manifest) -> Result<&SideEntry, TestnetError> {
    main.side
        .as_ref()
        .ok_or_else(|| bad_argument("side", "this testnet has no side chain: run `side up` first"))
}

/// Start `peg relay` in the background (its own process group, like the nodes) and record it.
pub fn start_relayer(main: &mut Manifest) -> Result<u32, TestnetError> {
    let entry = side_entry(main)?.clone();
    if let Some(pid) = entry.relayer_pid.filter(|pid| relayer_alive(*pid, &main.dir)) {
        return Ok(pid);
    }
    let exe = std::env::current_exe().map_err(io("locating", Path::new("current executable")))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&entry.relayer_log)
        .map_err(io("opening", &entry.relayer_log))?;
    let log_err = log.try_clone().map_err(io("opening", &entry.relayer_log))?;
    let child = Command::new(&exe)
        .arg("--dir")
        .arg(&main.dir)
        .args(["peg", "relay"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .map_err(io("starting", &exe))?;
    let pid = child.id();
    if let Some(side) = &mut main.side {
        side.relayer_pid = Some(pid);
    }
    main.save()?;
    Ok(pid)
}

/// Whether `pid` is a live relayer of the testnet in `dir` (its command line names both), so
/// that a recycled pid is never signalled.
pub fn relayer_alive(pid: u32, dir: &Path) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
    if matches!(state, Some("Z") | Some("X") | None) {
        return false;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<&[u8]> = cmdline.split(|byte| *byte == 0).collect();
    let dir = dir.as_os_str().as_encoded_bytes();
    words.contains(&&b"relay"[..]) && words.contains(&dir)
}

/// Stop the relayer (SIGTERM, then SIGKILL after 5 s) and forget its pid.
pub fn stop_relayer(main: &mut Manifest) -> Result<bool, TestnetError> {
    let Some(pid) = main.side.as_ref().and_then(|side| side.relayer_pid) else {
        return Ok(false);
    };
    let alive = relayer_alive(pid, &main.dir);
    if alive {
        let target = nix::unistd::Pid::from_raw(pid as i32);
        let _ = nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while relayer_alive(pid, &main.dir) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if relayer_alive(pid, &main.dir) {
            let _ = nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGKILL);
        }
    }
    if let Some(side) = &mut main.side {
        side.relayer_pid = None;
    }
    main.save()?;
    Ok(alive)
}

/// Stop the relayer and every side node (data and logs stay); `(nodes stopped, relayer
/// stopped)`. Nothing to do without a side chain.
pub fn down(main: &mut Manifest) -> Result<(usize, bool), TestnetError> {
    if main.side.is_none() {
        return Ok((0, false));
    }
    let relayer = stop_relayer(main)?;
    let dir: PathBuf = side_entry(main)?.dir.clone();
    let stopped = match Manifest::load(&dir) {
        Ok(mut side) => crate::down(&mut side, false)?,
        // `up` of the side chain failed half-way: nothing of it runs.
        Err(crate::manifest::ManifestError::Missing { .. }) => 0,
        Err(error) => return Err(error.into()),
    };
    Ok((stopped, relayer))
}
