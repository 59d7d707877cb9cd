//! Bifrost's own `config.json`, of which `serve` reads the `plugins` list:
//! `{"path","name","enabled","config","placement","order"}`, each `path`
//! relative to the config file's folder; `enabled: false` entries skipped.
//! Every other top-level section is Bifrost's business, named once in a
//! notice.

use std::path::{Path, PathBuf};

use bifrost_plugin_host::pipeline::{Placement, PluginSpec};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::arg_value::{self, Source};

/// What `serve` takes from the config.
#[derive(Debug)]
pub struct Loaded {
    /// The enabled plugins, in file order.
    pub plugins: Vec<PluginSpec>,
    /// What the person running `serve` should know (ignored sections,
    /// skipped plugins).
    pub notices: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    path: String,
    name: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    config: Option<Value>,
    placement: Option<String>,
    #[serde(default)]
    order: i64,
    // Bifrost's PluginConfig also has `version`; it does not matter here.
    #[allow(dead_code)]
    version: Option<Value>,
}

fn yes() -> bool {
    true
}

/// Reads and checks `--config`: a file (`@path`, or a path that is not
/// JSON), inline JSON (plugin paths then relative to the current folder) or
/// `-` for stdin, as every command reads it; stderr says which.
pub fn load(value: &str) -> Result<Loaded, String> {
    let config = arg_value::read("config", value).map_err(|e| e.message().to_string())?;
    eprintln!("config: {}", config.describe());
    let text = String::from_utf8(config.bytes).map_err(|e| format!("config: {e}"))?;
    match &config.source {
        Source::File(file) => {
            let folder = file.parent().unwrap_or(Path::new("."));
            parse(&text, folder).map_err(|e| format!("{}: {e}", file.display()))
        }
        _ => parse(&text, Path::new(".")).map_err(|e| format!("--config: {e}")),
    }
}

/// Reads a config's text; relative plugin paths are taken from `folder`.
pub fn parse(text: &str, folder: &Path) -> Result<Loaded, String> {
    let root: Map<String, Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
    let mut notices = Vec::new();
    let others: Vec<&str> = root
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "plugins")
        .collect();
    if !others.is_empty() {
        notices.push(format!(
            "ignoring the config's {} (serve reads only `plugins`; the provider is the mock or --upstream)",
            others.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    let entries = match root.get("plugins") {
        None => Vec::new(),
        Some(plugins) => Vec::<Value>::deserialize(plugins)
            .map_err(|_| "`plugins` must be a list".to_string())?,
    };
    let mut plugins = Vec::new();
    for (index, value) in entries.into_iter().enumerate() {
        let entry = Entry::deserialize(value).map_err(|e| format!("plugins[{index}]: {e}"))?;
        let name = entry.name.clone().unwrap_or_else(|| stem(&entry.path));
        if !entry.enabled {
            notices.push(format!(
                "plugin `{name}` is disabled (enabled: false): skipped"
            ));
            continue;
        }
        if entry.path.starts_with("http://") || entry.path.starts_with("https://") {
            return Err(format!(
                "plugins[{index}] (`{name}`): serve loads plugins from files only, not from {}",
                entry.path
            ));
        }
        let placement = match &entry.placement {
            Some(text) => text
                .parse::<Placement>()
                .map_err(|e| format!("plugins[{index}] (`{name}`): {e}"))?,
            None => Placement::default(),
        };
        let config = match &entry.config {
            Some(config) => serde_json::to_vec(config).unwrap_or_default(),
            None => Vec::new(),
        };
        let path: PathBuf = folder.join(&entry.path);
        plugins.push(
            PluginSpec::new(name, path)
                .with_config(config)
                .placed(placement, entry.order),
        );
    }
    Ok(Loaded { plugins, notices })
}

fn stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_are_read_relative_to_the_folder_and_disabled_ones_skipped() {
        let text = r#"{
          "client": {"drop_excess_requests": false},
          "providers": {},
          "plugins": [
            {"path": "a.wasm", "name": "first", "config": {"k": 1}, "placement": "pre_builtin", "order": 2},
            {"path": "/abs/b.wasm", "enabled": false},
            {"path": "plugins/c.wasm", "version": 1}
          ]
        }"#;
        let loaded = parse(text, Path::new("/cfg")).unwrap();
        assert_eq!(
            loaded.plugins,
            [
                PluginSpec::new("first", "/cfg/a.wasm")
                    .with_config(r#"{"k":1}"#)
                    .placed(Placement::PreBuiltin, 2),
                PluginSpec::new("c", "/cfg/plugins/c.wasm"),
            ]
        );
        assert_eq!(loaded.notices.len(), 2, "{:?}", loaded.notices);
        assert!(loaded.notices[0].contains("`client`, `providers`"));
        assert!(loaded.notices[1].contains("`b` is disabled"));
    }

    #[test]
    fn the_config_is_a_file_or_inline_json_as_for_every_command() {
        let inline = load(r#"{"plugins": [{"path": "p/a.wasm"}]}"#).unwrap();
        assert_eq!(inline.plugins, [PluginSpec::new("a", "./p/a.wasm")]);
        let dir = std::env::temp_dir().join(format!("serve-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.json");
        std::fs::write(&file, r#"{"plugins": [{"path": "a.wasm"}]}"#).unwrap();
        for value in [file.display().to_string(), format!("@{}", file.display())] {
            let loaded = load(&value).unwrap();
            assert_eq!(loaded.plugins, [PluginSpec::new("a", dir.join("a.wasm"))]);
        }
        let missing = load("@no-such-config.json").unwrap_err();
        assert!(
            missing.starts_with("cannot read --config file no-such-config.json"),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_config_says_where() {
        let folder = Path::new(".");
        for (text, expected) in [
            ("[]", "not a JSON object"),
            ("{", "not a JSON object"),
            (r#"{"plugins": {}}"#, "`plugins` must be a list"),
            (
                r#"{"plugins": [{"name": "x"}]}"#,
                "plugins[0]: missing field `path`",
            ),
            (
                r#"{"plugins": [{"path": "x", "placement": "early"}]}"#,
                "unknown placement `early`",
            ),
            (
                r#"{"plugins": [{"path": "x", "orderr": 1}]}"#,
                "unknown field `orderr`",
            ),
            (
                r#"{"plugins": [{"path": "https://h/p.wasm"}]}"#,
                "files only",
            ),
        ] {
            let error = parse(text, folder).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
