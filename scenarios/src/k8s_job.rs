//! A Kubernetes Indexed Job for a sharded sweep, generated from a scenario file.
//!
//! Model: `vein-scenarios k8s-job FILE --shards n --image IMAGE` prints two documents: a
//! ConfigMap holding the scenario file, and an Indexed Job of `n` completions whose pod `i` runs
//! `vein-scenarios sweep FILE --shard i/n --out /results/shard-i` (the index comes from the pod's
//! `batch.kubernetes.io/job-completion-index` annotation through an environment variable, which
//! Kubernetes substitutes into `args` itself: no shell in the image). Every pod mounts one
//! ReadWriteMany PersistentVolumeClaim at `/results`; the claim is not generated because storage
//! classes differ per cluster. With `--merge`, it prints instead the Job that merges the `n`
//! shard directories into `/results/report` once the sweep Job is complete; its exit code (the
//! merged report's gate, see `crate::runner`) becomes the Job's success or failure.
//!
//! A shard exits 0 on a reference the gate would reject (only the merged report judges: Holm's
//! procedure needs every comparison) and 1 on an invariant violation; exit codes 1 and 2 are
//! deterministic, so the pod failure policy fails the Job at once instead of retrying them.
//!
//! Scalars are written as JSON strings, which are valid YAML double-quoted scalars, so no file
//! name, image or scenario text can break the document's structure.

use std::fmt::Write as _;

use thiserror::Error;

use crate::runner;

/// Most shards one Job may have (Kubernetes allows 100,000 completions for Indexed Jobs; a sweep
/// rarely wants more than a few hundred pods).
pub const SHARDS_MAX: u64 = 10_000;

/// Where every pod mounts the results claim.
pub const RESULTS_MOUNT: &str = "/results";
/// Where the scenario ConfigMap is mounted.
const SCENARIO_MOUNT: &str = "/scenario";

/// What the generator needs.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// Job name, a DNS-1123 label (lowercase letters, digits, '-'), at most 40 characters so
    /// that the generated names (`NAME-scenario`, `NAME-merge`) stay valid.
    pub name: String,
    /// Container image holding `vein-scenarios` on its PATH.
    pub image: String,
    /// File name of the scenario (the ConfigMap key), e.g. `double-spend.toml`.
    pub file_name: String,
    /// The scenario file's text.
    pub scenario_text: String,
    /// Number of pods (Job completions), each running shard `i/shards`; 1..=[`SHARDS_MAX`].
    pub shards: u64,
    /// Seeds per grid point; `None` uses the file's `run.seeds`.
    pub seeds: Option<u64>,
    /// `--param NAME=RANGE` specifications; empty uses the file's `[sweep]` table.
    pub params: Vec<String>,
    /// The ReadWriteMany PersistentVolumeClaim holding the results.
    pub claim: String,
}

/// A value the generator refuses, named.
#[derive(Debug, Error)]
pub enum K8sJobError {
    /// `--name` is not a DNS-1123 label of at most 40 characters.
    #[error(
        "--name {name:?}: expected 1-40 lowercase letters, digits or '-', not starting or \
             ending with '-'"
    )]
    Name {
        /// The name as given.
        name: String,
    },
    /// `--claim` is not a DNS-1123 subdomain, so it cannot name a PersistentVolumeClaim.
    #[error(
        "--claim {claim:?}: expected a DNS-1123 subdomain (lowercase letters, digits, '-', '.')"
    )]
    Claim {
        /// The claim name as given.
        claim: String,
    },
    /// `--image` is empty or contains whitespace.
    #[error("--image {image:?}: expected a non-empty image reference without whitespace")]
    Image {
        /// The image reference as given.
        image: String,
    },
    /// `--shards` is 0 or above [`SHARDS_MAX`].
    #[error("--shards {shards}: expected 1 to {SHARDS_MAX}")]
    Shards {
        /// The shard count as given.
        shards: u64,
    },
    /// The scenario's file name has characters that cannot be a ConfigMap key.
    #[error("scenario file name {file_name:?}: expected letters, digits, '.', '_' or '-'")]
    FileName {
        /// The file name (without directories).
        file_name: String,
    },
    /// A `--param` specification does not parse (checked here so a bad Job is never printed).
    #[error(transparent)]
    Param(#[from] runner::RunnerError),
}

fn is_label(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

impl JobSpec {
    fn check(&self) -> Result<(), K8sJobError> {
        if !is_label(&self.name, 40) {
            return Err(K8sJobError::Name { name: self.name.clone() });
        }
        if !self.claim.split('.').all(|part| is_label(part, 63)) || self.claim.len() > 253 {
            return Err(K8sJobError::Claim { claim: self.claim.clone() });
        }
        if self.image.is_empty() || self.image.chars().any(char::is_whitespace) {
            return Err(K8sJobError::Image { image: self.image.clone() });
        }
        if !(1..=SHARDS_MAX).contains(&self.shards) {
            return Err(K8sJobError::Shards { shards: self.shards });
        }
        let file_ok = !self.file_name.is_empty()
            && self.file_name.len() <= 253
            && self
                .file_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !file_ok {
            return Err(K8sJobError::FileName { file_name: self.file_name.clone() });
        }
        for spec in &self.params {
            runner::parse_param(spec)?;
        }
        Ok(())
    }
}

/// A YAML scalar: a JSON string, valid YAML and safe for any content.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

fn list(items: &[String], indent: usize) -> String {
    let mut out = String::new();
    for item in items {
        let _ = writeln!(out, "{:indent$}- {}", "", quoted(item));
    }
    out
}

/// The labels every generated object carries.
fn metadata(out: &mut String, name: &str, job: &str) {
    let _ = writeln!(out, "metadata:\n  name: {}", quoted(name));
    let _ = writeln!(out, "  labels:\n    app.kubernetes.io/name: \"vein-scenarios\"");
    let _ = writeln!(out, "    app.kubernetes.io/instance: {}", quoted(job));
}

/// The pod template shared by the sweep and merge Jobs.
fn pod_template(out: &mut String, spec: &JobSpec, args: &[String], index_env: bool) {
    let _ = writeln!(out, "  template:\n    spec:\n      restartPolicy: \"Never\"");
    let _ = writeln!(out, "      containers:\n        - name: \"vein-scenarios\"");
    let _ = writeln!(out, "          image: {}", quoted(&spec.image));
    let _ = writeln!(out, "          command:\n            - \"vein-scenarios\"");
    let _ = write!(out, "          args:\n{}", list(args, 12));
    if index_env {
        let _ = writeln!(out, "          env:\n            - name: \"SHARD_INDEX\"");
        let _ = writeln!(out, "              valueFrom:\n                fieldRef:");
        let _ = writeln!(
            out,
            "                  fieldPath: \
             \"metadata.annotations['batch.kubernetes.io/job-completion-index']\""
        );
    }
    let _ = writeln!(out, "          resources:\n            requests:\n              cpu: \"1\"");
    let _ = writeln!(out, "          volumeMounts:");
    let _ = writeln!(
        out,
        "            - name: \"results\"\n              mountPath: {}",
        quoted(RESULTS_MOUNT)
    );
    let _ = writeln!(
        out,
        "            - name: \"scenario\"\n              mountPath: {}",
        quoted(SCENARIO_MOUNT)
    );
    let _ = writeln!(out, "              readOnly: true");
    let _ = writeln!(out, "      volumes:\n        - name: \"results\"");
    let _ = writeln!(
        out,
        "          persistentVolumeClaim:\n            claimName: {}",
        quoted(&spec.claim)
    );
    let _ = writeln!(out, "        - name: \"scenario\"\n          configMap:");
    let _ = writeln!(out, "            name: {}", quoted(&format!("{}-scenario", spec.name)));
}

/// Deterministic failures (a violation, bad input) fail the Job instead of being retried.
fn failure_policy(out: &mut String) {
    let _ = writeln!(out, "  podFailurePolicy:\n    rules:\n      - action: \"FailJob\"");
    let _ = writeln!(out, "        onExitCodes:\n          containerName: \"vein-scenarios\"");
    let _ = writeln!(out, "          operator: \"In\"\n          values: [1, 2]");
}

/// The ConfigMap and the Indexed Job of the sweep.
pub fn sweep_manifest(spec: &JobSpec) -> Result<String, K8sJobError> {
    spec.check()?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated by `vein-scenarios k8s-job`: {} shards of {}. Needs a ReadWriteMany claim\n\
         # {} holding the results; merge afterwards with the same command and --merge.",
        spec.shards,
        spec.file_name,
        quoted(&spec.claim)
    );
    let _ = writeln!(out, "apiVersion: \"v1\"\nkind: \"ConfigMap\"");
    metadata(&mut out, &format!("{}-scenario", spec.name), &spec.name);
    let _ = writeln!(out, "data:\n  {}: {}", quoted(&spec.file_name), quoted(&spec.scenario_text));
    let _ = writeln!(out, "---\napiVersion: \"batch/v1\"\nkind: \"Job\"");
    metadata(&mut out, &spec.name, &spec.name);
    let _ = writeln!(out, "spec:\n  completionMode: \"Indexed\"");
    let _ = writeln!(out, "  completions: {}\n  parallelism: {}", spec.shards, spec.shards);
    let _ = writeln!(out, "  backoffLimit: {}", spec.shards.saturating_mul(2).min(1_000));
    failure_policy(&mut out);
    let mut args = vec!["sweep".to_string(), format!("{SCENARIO_MOUNT}/{}", spec.file_name)];
    for param in &spec.params {
        args.extend(["--param".to_string(), param.clone()]);
    }
    if let Some(seeds) = spec.seeds {
        args.extend(["--seeds".to_string(), seeds.to_string()]);
    }
    args.extend([
        "--shard".to_string(),
        format!("$(SHARD_INDEX)/{}", spec.shards),
        "--out".to_string(),
        format!("{RESULTS_MOUNT}/{}/shard-$(SHARD_INDEX)", spec.name),
    ]);
    pod_template(&mut out, spec, &args, true);
    Ok(out)
}

/// The Job that merges every shard's directory into `/results/NAME/report`.
pub fn merge_manifest(spec: &JobSpec) -> Result<String, K8sJobError> {
    spec.check()?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated by `vein-scenarios k8s-job --merge`: run once job/{} is complete, e.g.\n\
         # kubectl wait --for=condition=complete job/{} --timeout=24h",
        spec.name, spec.name
    );
    let _ = writeln!(out, "apiVersion: \"batch/v1\"\nkind: \"Job\"");
    metadata(&mut out, &format!("{}-merge", spec.name), &spec.name);
    let _ = writeln!(out, "spec:\n  backoffLimit: 2");
    failure_policy(&mut out);
    let mut args = vec!["merge".to_string()];
    args.extend((0..spec.shards).map(|i| format!("{RESULTS_MOUNT}/{}/shard-{i}", spec.name)));
    args.extend(["--out".to_string(), format!("{RESULTS_MOUNT}/{}/report", spec.name)]);
    pod_template(&mut out, spec, &args, false);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> JobSpec {
        JobSpec {
            name: "ds-sweep".into(),
            image: "ghcr.io/example/vein:1".into(),
            file_name: "double-spend.toml".into(),
            scenario_text: "name = \"x\"\n# a \"quoted\" line: with: colons\n".into(),
            shards: 4,
            seeds: Some(2500),
            params: vec!["q=0.1..0.3:0.1".into()],
            claim: "vein-results".into(),
        }
    }

    #[test]
    fn the_sweep_job_runs_one_shard_per_index() {
        let text = sweep_manifest(&spec()).expect("valid");
        assert!(text.contains("completionMode: \"Indexed\""), "{text}");
        assert!(text.contains("completions: 4\n  parallelism: 4"), "{text}");
        assert!(text.contains("- \"$(SHARD_INDEX)/4\""), "{text}");
        assert!(text.contains("- \"/results/ds-sweep/shard-$(SHARD_INDEX)\""), "{text}");
        assert!(text.contains("\"name = \\\"x\\\"\\n# a \\\"quoted\\\" line: with: colons\\n\""));
        let merge = merge_manifest(&spec()).expect("valid");
        assert!(merge.contains("- \"/results/ds-sweep/shard-3\""), "{merge}");
        assert!(!merge.contains("shard-4"), "{merge}");
    }

    /// deploy/k8s holds the generator's output for the double-spend sweep (CI validates both it
    /// and a fresh generation against the Kubernetes schemas); this keeps the two equal.
    #[test]
    fn the_checked_in_example_is_the_generators_output() {
        let spec = JobSpec {
            name: "double-spend".into(),
            image: "registry.example/vein-scenarios:1".into(),
            file_name: "double-spend.toml".into(),
            scenario_text: include_str!("../double-spend.toml").into(),
            shards: 4,
            seeds: Some(2500),
            params: Vec::new(),
            claim: "vein-sweep-results".into(),
        };
        let sweep = include_str!("../../deploy/k8s/double-spend-sweep.yaml");
        assert_eq!(sweep_manifest(&spec).expect("valid"), sweep);
        let merge = include_str!("../../deploy/k8s/double-spend-merge.yaml");
        assert_eq!(merge_manifest(&spec).expect("valid"), merge);
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        let bad = |change: fn(&mut JobSpec)| {
            let mut spec = spec();
            change(&mut spec);
            sweep_manifest(&spec).expect_err("refused").to_string()
        };
        assert!(bad(|s| s.name = "Bad_Name".into()).contains("--name"));
        assert!(bad(|s| s.name = "-x".into()).contains("--name"));
        assert!(bad(|s| s.shards = 0).contains("--shards"));
        assert!(bad(|s| s.image = "a b".into()).contains("--image"));
        assert!(bad(|s| s.claim = "UP".into()).contains("--claim"));
        assert!(bad(|s| s.file_name = "../x.toml".into()).contains("file name"));
        assert!(bad(|s| s.params = vec!["q".into()]).contains("--param"));
    }
}
