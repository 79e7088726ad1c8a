//! `cargo xtask wasm-report <file.wasm>`: where a WASM's bytes go, to see what to cut. Prints
//! the size of each section and the code size per crate (from the function names, so give it a
//! WASM that still has its name section: wasm-bindgen's output before `wasm-opt`, e.g.
//! `cargo xtask site --release --no-wasm-opt`). Also the brotli size, what a browser downloads.
//!
//! Hand-written (about what twiggy's `top` prints, grouped by crate) so it needs nothing to
//! install: wasm-bindgen already brings the parser and the demangler.

use crate::compress::{self, Effort};
use anyhow::Context;
use std::collections::HashMap;
use std::path::Path;
use wasmparser::{KnownCustom, Name, Parser, Payload, TypeRef};

pub fn report(path: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut sections: Vec<(String, usize)> = Vec::new();
    let mut imported_functions = 0u32;
    let mut code_sizes: Vec<usize> = Vec::new();
    let mut names: HashMap<u32, String> = HashMap::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        let payload = payload?;
        if let Some((id, range)) = payload.as_section() {
            let name = match &payload {
                Payload::CustomSection(custom) => format!("custom \"{}\"", custom.name()),
                _ => section_name(id).to_string(),
            };
            sections.push((name, range.len()));
        }
        match payload {
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    if matches!(import?.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                        imported_functions += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => code_sizes.push(body.range().len()),
            Payload::CustomSection(custom) => {
                if let KnownCustom::Name(reader) = custom.as_known() {
                    for subsection in reader {
                        if let Name::Function(map) = subsection? {
                            for naming in map {
                                let naming = naming?;
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    println!(
        "{}: {} bytes, {} with brotli",
        path.display(),
        bytes.len(),
        compress::brotli(&bytes, Effort::Smallest)?.len()
    );
    println!("\nsections:");
    for (name, size) in &sections {
        println!("  {size:>10}  {name}");
    }
    if names.is_empty() {
        println!("\n(no name section: code size per crate needs a WASM before wasm-opt)");
        return Ok(());
    }
    let mut per_crate: HashMap<String, (usize, usize)> = HashMap::new();
    for (local_index, size) in code_sizes.iter().enumerate() {
        let index = imported_functions + local_index as u32;
        let owner = names.get(&index).map_or_else(|| "(unnamed)".to_string(), |name| crate_of(name));
        let entry = per_crate.entry(owner).or_default();
        entry.0 += size;
        entry.1 += 1;
    }
    let mut per_crate: Vec<_> = per_crate.into_iter().collect();
    per_crate.sort_by_key(|(_, (size, _))| std::cmp::Reverse(*size));
    let code_total: usize = code_sizes.iter().sum();
    println!("\ncode per crate (of {code_total} bytes of function bodies):");
    for (owner, (size, count)) in per_crate.iter().take(30) {
        println!("  {size:>10}  {:>5.1}%  {count:>6} fns  {owner}", 100.0 * *size as f64 / code_total as f64);
    }
    Ok(())
}

/// The crate a (mangled) function name belongs to: the first path segment of its demangled
/// name, looking inside `<Type as Trait>` to the type, or to the trait when the type is a
/// generic parameter (`<T as tachys::Render>` is tachys' code).
fn crate_of(name: &str) -> String {
    let demangled = format!("{:#}", rustc_demangle::demangle(name));
    let path = demangled.trim_start_matches(['<', '&', '*', '(', '[', ' ']);
    let path = path.trim_start_matches("mut ").trim_start_matches("dyn ").trim_start_matches("const ");
    let Some(end) = path.find("::") else { return "(other: glue, intrinsics)".to_string() };
    let first = &path[..end];
    let first = first.rsplit_once(" as ").map_or(first, |(_, trait_path)| trait_path);
    // `core[c5930c85a12de822]`: a second copy's disambiguator, not another crate.
    first.split('[').next().unwrap_or(first).to_string()
}

fn section_name(id: u8) -> &'static str {
    match id {
        1 => "type",
        2 => "import",
        3 => "function",
        4 => "table",
        5 => "memory",
        6 => "global",
        7 => "export",
        8 => "start",
        9 => "element",
        10 => "code",
        11 => "data",
        12 => "data count",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::crate_of;

    #[test]
    fn a_function_belongs_to_the_first_crate_of_its_path_or_its_self_type() {
        assert_eq!(crate_of("_ZN4core3fmt5write17h0123456789abcdefE"), "core");
        assert_eq!(crate_of("<leptos::view::View<T> as tachys::Render>::build"), "leptos");
        assert_eq!(
            crate_of("<&mut serde_json::de::Deserializer<R> as serde::Deserializer>::x"),
            "serde_json"
        );
        assert_eq!(crate_of("<T as tachys::view::Render>::build"), "tachys");
        assert_eq!(crate_of("core[c5930c85a12de822]::panicking::panic"), "core");
        assert_eq!(crate_of("memcpy"), "(other: glue, intrinsics)");
    }
}
