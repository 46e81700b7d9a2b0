//! Generates `include/opentok.h` from `src/ffi` with cbindgen, and gives the
//! shared library a versioned SONAME and an export list of `otc_*` only.
//!
//! The header is committed. A developer's build rewrites it, so it follows
//! `src/ffi`; under CI (`CI` set) or with `OPENTOK_SKIP_HEADER=1` the build
//! leaves it alone, and `tests/ffi_header.rs` regenerates it in memory and
//! fails when the committed copy is stale.

use std::path::PathBuf;

include!("build-support/per_file_headers.rs");

fn main() {
    let dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build-support");
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
                write_per_file_headers(&dir);
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

/// Writes `include/opentok/<name>.h` for each SDK header (only when its
/// text changed, so a build does not touch the files' times needlessly).
fn write_per_file_headers(dir: &std::path::Path) {
    let sub = dir.join("include/opentok");
    if let Err(e) = std::fs::create_dir_all(&sub) {
        println!("cargo:warning=cannot create {}: {e}", sub.display());
        return;
    }
    for name in SDK_HEADERS {
        let path = sub.join(format!("{name}.h"));
        let text = per_file_header(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if let Err(e) = std::fs::write(&path, text) {
                println!("cargo:warning=cannot write {}: {e}", path.display());
            }
        }
    }
}
