//! The user guide and its pages: every relative link of the README and of
//! `docs/` leads to a file of the repository, and the README's test
//! command is what CI runs.

use std::path::{Path, PathBuf};

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The targets of the Markdown links `[text](target)` of `text`, without
/// their `#anchor`; web addresses and bare anchors left out.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    for (at, _) in text.match_indices("](") {
        let rest = &text[at + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = rest[..end].split('#').next().unwrap_or_default();
        if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
            links.push(target.to_string());
        }
    }
    links
}

/// The pages whose links are checked: the README, the CHANGELOG and `docs/*.md`.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![
        repository().join("README.md"),
        repository().join("CHANGELOG.md"),
    ];
    let docs = std::fs::read_dir(repository().join("docs")).expect("docs/ exists");
    pages.extend(
        docs.map(|entry| entry.expect("a readable docs/ entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "md")),
    );
    pages
}

#[test]
fn every_relative_link_of_the_guide_leads_to_a_file() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("a readable page");
        let base = page.parent().expect("a page lives in a folder");
        for link in relative_links(&text) {
            if !base.join(&link).exists() {
                broken.push(format!("{} -> {link}", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

#[test]
fn the_readme_links_every_docs_page() {
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    let links = relative_links(&readme);
    for page in pages()
        .iter()
        .filter(|p| p.starts_with(repository().join("docs")))
    {
        let name = format!("docs/{}", page.file_name().unwrap().to_string_lossy());
        assert!(links.contains(&name), "README does not link {name}");
    }
}

#[test]
fn the_readmes_test_command_is_what_ci_runs() {
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    let ci = std::fs::read_to_string(repository().join(".ci/run")).unwrap();
    let command = ci.lines().last().expect(".ci/run ends with its command");
    assert!(
        readme.contains(&format!("\n{command}\n")),
        "README does not give `{command}`"
    );
}

#[test]
fn links_are_found_with_and_without_anchors() {
    let text = "see [a](docs/a.md#x), [b](https://example.org) and [c](#here)";
    assert_eq!(relative_links(text), ["docs/a.md"]);
}

#[test]
fn every_bundled_scenario_is_valid_and_warns_of_nothing() {
    let dir = repository().join("scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("scenarios/ exists") {
        let path = entry.expect("a readable scenarios/ entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let model = queuesim::scenario::load(&path, &[])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            model.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            model.warnings
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} bundled scenarios");
}
