//! Generates `include/opentok.h` from `src/ffi` with cbindgen, and gives the
//! shared library a versioned SONAME and an export list of `otc_*` only.
//!
//! The header is committed. A developer's build rewrites it, so it follows
//! `src/ffi`; under CI (`CI` set) or with `OPENTOK_SKIP_HEADER=1` the build
//! leaves it alone, and `tests/ffi_header.rs` regenerates it in memory and
//! fails when the committed copy is stale.

use std::path::PathBuf;

fn main() {
    let dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=OPENTOK_SKIP_HEADER");
    println!("cargo:rerun-if-env-changed=CI");

    let skip =
        std::env::var_os("OPENTOK_SKIP_HEADER").is_some() || std::env::var_os("CI").is_some();
    if !skip {
        let config =
            cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("read cbindgen.toml");
        match cbindgen::Builder::new()
            .with_crate(&dir)
            .with_config(config)
            .generate()
        {
            Ok(bindings) => {
                bindings.write_to_file(dir.join("include/opentok.h"));
            }
            Err(e) => println!("cargo:warning=cbindgen could not generate include/opentok.h: {e}"),
        }
    }

    // Shared library: versioned SONAME, and only otc_* symbols exported.
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let script = out.join("opentok.map");
    std::fs::write(&script, "{\n  global: otc_*;\n  local: *;\n};\n")
        .expect("write version script");
    // The SONAME's number is the package's major version, as the Makefile's
    // install names it, so the two cannot disagree.
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libopentok.so.{major}");
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        script.display()
    );
}
