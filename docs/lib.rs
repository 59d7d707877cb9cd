//! The guide's chapters (`src/*.md`) and the README, as doc-tests: `cargo
//! test --workspace` compiles and runs every Rust sample in them, so no
//! sample can rot. A sample that must not run says why beside it
//! (`no_run`); every other code block is marked with its language (`sh`,
//! `toml`, `json`, `text`), which rustdoc leaves alone.
//!
//! Nothing here is an API, and the crate is not published.

/// One doc-tested item per Markdown file, and the list of those files.
macro_rules! tested_pages {
    ($($item:ident: $path:literal,)*) => {
        $(
            #[cfg(doctest)]
            #[doc = include_str!($path)]
            pub struct $item;
        )*

        /// Every Markdown file whose samples run as doc-tests.
        #[cfg(test)]
        const TESTED: &[&str] = &[$($path),*];
    };
}

tested_pages! {
    Readme: "../README.md",
    Introduction: "src/introduction.md",
    GettingStarted: "src/getting-started.md",
    PluginTrait: "src/plugin-trait.md",
    LlmTraffic: "src/llm-traffic.md",
    HttpHooks: "src/http-hooks.md",
    Configuration: "src/configuration.md",
    State: "src/state.md",
    LoggingTimeRandomness: "src/logging-time-randomness.md",
    Testing: "src/testing.md",
    Building: "src/building.md",
    Serving: "src/serving.md",
    HostGuarantees: "src/host-guarantees.md",
    Performance: "src/performance.md",
}

#[cfg(test)]
mod tests {
    use super::TESTED;

    /// The chapters SUMMARY.md links to, in its order.
    fn summary_chapters() -> Vec<String> {
        let summary = include_str!("src/SUMMARY.md");
        summary
            .split("](")
            .skip(1)
            .filter_map(|rest| rest.split_once(')'))
            .map(|(target, _)| format!("src/{target}"))
            .collect()
    }

    /// A chapter added to the book without being added here would have
    /// untested samples.
    #[test]
    fn every_chapter_of_the_book_is_doc_tested() {
        let chapters = summary_chapters();
        assert!(chapters.len() >= 12, "{chapters:?}");
        for chapter in &chapters {
            assert!(
                TESTED.contains(&chapter.as_str()),
                "{chapter} is not in lib.rs's list"
            );
        }
    }

    /// The id mdBook (and GitHub) give a heading: lower case, spaces as
    /// `-`, other punctuation dropped.
    fn slug(heading: &str) -> String {
        heading
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect()
    }

    /// A link from one page to another (`[text](page.md#heading)`) must
    /// find the page and, when it names one, the heading: the book is read
    /// by following them.
    #[test]
    fn every_link_between_pages_finds_its_page_and_heading() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for page in TESTED {
            let path = dir.join(page);
            let text = std::fs::read_to_string(&path).unwrap();
            for rest in text.split("](").skip(1) {
                let Some((target, _)) = rest.split_once(')') else {
                    continue;
                };
                if target.contains("://") || target.starts_with('#') {
                    continue;
                }
                let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
                let linked = path.parent().unwrap().join(file);
                let Ok(linked_text) = std::fs::read_to_string(&linked) else {
                    panic!("{page}: link to {target}: no such file");
                };
                if anchor.is_empty() {
                    continue;
                }
                let found = linked_text
                    .lines()
                    .filter_map(|line| line.strip_prefix('#'))
                    .any(|heading| slug(heading.trim_start_matches('#')) == anchor);
                assert!(found, "{page}: link to {target}: no such heading");
            }
        }
    }

    /// The README is a front page, and the guide speaks of the project as
    /// it is: how it was developed belongs in CHANGELOG.md.
    #[test]
    fn the_readme_is_a_front_page_and_no_page_is_a_project_log() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let readme = std::fs::read_to_string(dir.join("../README.md")).unwrap();
        let lines = readme.lines().count();
        assert!(
            lines <= 250,
            "README.md has {lines} lines: move detail to the guide"
        );
        for page in TESTED {
            let text = std::fs::read_to_string(dir.join(page))
                .unwrap()
                .to_lowercase();
            for (n, line) in text.lines().enumerate() {
                let words: Vec<&str> = line.split_whitespace().collect();
                let issue_number = words.windows(2).any(|pair| {
                    pair[0] == "issue" && pair[1].starts_with(|c: char| c.is_ascii_digit())
                });
                assert!(!issue_number, "{page}:{}: an issue number", n + 1);
                assert!(!line.contains("session"), "{page}:{}: a session", n + 1);
            }
        }
    }

    /// Every code block says what it holds: a bare ``` block would be
    /// compiled as Rust, and a Rust block marked `ignore` would never run.
    #[test]
    fn every_code_block_names_its_language_and_none_is_ignored() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for page in TESTED {
            let text = std::fs::read_to_string(dir.join(page)).unwrap();
            let mut inside = false;
            for (n, line) in text.lines().enumerate() {
                let Some(info) = line.trim_start().strip_prefix("```") else {
                    continue;
                };
                if !inside {
                    let at = format!("{page}:{}", n + 1);
                    assert!(!info.is_empty(), "{at}: a code block without a language");
                    assert!(!info.contains("ignore"), "{at}: an ignored sample");
                }
                inside = !inside;
            }
            assert!(!inside, "{page}: a code block is not closed");
        }
    }
}
