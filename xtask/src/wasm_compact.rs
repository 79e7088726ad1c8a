//! Step 4a (release): the page chunks, read and written again by walrus in this process, in
//! place of wasm-opt.
//!
//! The split writes each chunk with the linker's padded five-byte numbers (room for
//! relocations), a name section, and the main module's whole list of imports and types, most
//! of which the chunk never uses. Rewritten with walrus' dead-item removal (`gc`, which keeps
//! what exports, active data and element segments reach, as wasm-opt's does), the 276 chunks
//! of 2026-12-02 came to 600,680 bytes with brotli, against 630,503 after `wasm-opt -Oz` and
//! 1,224,139 as split; `-Oz` after walrus made them 0.2% larger (375,933 against 375,061 on
//! the 13 chunks over 64 kB). wasm-opt costs about 1.4 s of start-up per file (binaryen's npm
//! build is an 11 MB script): for the chunks that was over 5 minutes of a fresh site build's
//! CPU; walrus takes 0.1 s for all of them. The main module still goes through wasm-opt
//! (`wasm_opt.rs`): there it is worth 1.8 kB with brotli and 10% of the raw size.

use anyhow::Context;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Compacts every chunk in place, as many at once as there are cores.
pub fn compact_all(chunks: &[PathBuf]) -> anyhow::Result<()> {
    chunks.par_iter().try_for_each(|chunk| compact(chunk))
}

/// Rewrites `wasm` in place: what it exports and initialises, with what those use and nothing
/// else, its numbers in their shortest form, and no custom sections (names, producers), which
/// the browser does not need.
fn compact(wasm: &Path) -> anyhow::Result<()> {
    let input = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let mut config = walrus::ModuleConfig::new();
    config.generate_name_section(false).generate_producers_section(false);
    let mut module = config.parse(&input).with_context(|| format!("parsing {}", wasm.display()))?;
    let customs: Vec<_> = module.customs.iter().map(|(id, _)| id).collect();
    for id in customs {
        module.customs.delete(id);
    }
    walrus::passes::gc::run(&mut module);
    std::fs::write(wasm, module.emit_wasm()).with_context(|| format!("writing {}", wasm.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use walrus::{FunctionBuilder, Module, ValType};

    /// A module as the split leaves a chunk: an exported function, one it calls, one nothing
    /// calls, an unused import, and a name section.
    fn chunk() -> Vec<u8> {
        let mut module = Module::default();
        let ty = module.types.add(&[], &[ValType::I32]);
        let (_unused_import, _) = module.add_import_func("env", "never_called", ty);
        let mut helper = FunctionBuilder::new(&mut module.types, &[], &[ValType::I32]);
        helper.func_body().i32_const(41);
        let helper = helper.finish(vec![], &mut module.funcs);
        let mut dead = FunctionBuilder::new(&mut module.types, &[], &[ValType::I32]);
        dead.func_body().i32_const(7);
        dead.finish(vec![], &mut module.funcs);
        let mut entry = FunctionBuilder::new(&mut module.types, &[], &[ValType::I32]);
        entry.name("page_entry".into());
        entry.func_body().call(helper).i32_const(1).binop(walrus::ir::BinaryOp::I32Add);
        let entry = entry.finish(vec![], &mut module.funcs);
        module.exports.add("page_entry", entry);
        module.emit_wasm()
    }

    #[test]
    fn what_nothing_reaches_and_the_names_go_and_the_export_stays_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chunk_1.wasm");
        let input = chunk();
        std::fs::write(&path, &input).unwrap();
        compact_all(std::slice::from_ref(&path)).unwrap();
        let output = std::fs::read(&path).unwrap();
        assert!(output.len() < input.len(), "{} bytes, was {}", output.len(), input.len());
        wasmparser::Validator::new().validate_all(&output).expect("a valid module");

        let module = Module::from_buffer(&output).unwrap();
        assert_eq!(
            module.funcs.iter().filter(|f| matches!(f.kind, walrus::FunctionKind::Local(_))).count(),
            2
        );
        assert_eq!(module.imports.iter().count(), 0, "the unused import is gone");
        assert!(module.exports.iter().any(|e| e.name == "page_entry"));
        assert_eq!(module.customs.iter().count(), 0);
        let sections = wasmparser::Parser::new(0).parse_all(&output).filter_map(Result::ok);
        let custom = sections.filter(|p| matches!(p, wasmparser::Payload::CustomSection(_))).count();
        assert_eq!(custom, 0, "no name or producers section");
    }
}
