//! Compiles every `.proto` under the workspace's `proto/` with protox (pure Rust, so no `protoc`
//! is needed), generates prost messages and tonic clients and servers from the descriptor set,
//! and writes the encoded descriptor set for reflection.

use std::error::Error;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let proto_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_root.display());

    let mut files = Vec::new();
    collect_protos(&proto_root, &mut files)?;
    files.sort();

    let mut compiler = protox::Compiler::new([&proto_root])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(&files)?;
    let descriptors = compiler.file_descriptor_set();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    // For reflection, encoded by protox itself: prost's own types drop custom options, and
    // clients read `google.api.field_behavior` from these (AIP-203).
    std::fs::write(
        out_dir.join("rapport_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    tonic_prost_build::configure()
        // No default stubs: a service that forgets an RPC of the contract does not compile
        // (a stub would answer UNIMPLEMENTED in production and hide it; issue 22).
        .generate_default_stubs(false)
        // Prost's codec, but an undecodable message is INVALID_ARGUMENT (src/codec.rs).
        .codec_path("crate::codec::RapportCodec")
        .compile_fds(descriptors)?;
    Ok(())
}

fn collect_protos(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path);
        }
    }
    Ok(())
}
