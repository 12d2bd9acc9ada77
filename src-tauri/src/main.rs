// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    #[cfg(target_os = "linux")]
    software_rendering_defaults();
    roundtable_desktop::run()
}

/// On a machine without a GPU render node, WebKitGTK's GPU paths run on Mesa's
/// software rasteriser (llvmpipe) and only cost memory: the DMA-BUF renderer and
/// accelerated compositing add about 90 MB across the app's processes for nothing
/// visible. They are turned off there, unless the user set either variable
/// (`0` keeps a path on). The window paints as before; only WebDriver's
/// screenshot then waits for the page's next paint (see tests/e2e/harness.mjs).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn software_rendering_defaults() {
    let has_render_node = std::fs::read_dir("/dev/dri")
        .map(|dir| {
            dir.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false);
    if has_render_node {
        return;
    }
    for var in [
        "WEBKIT_DISABLE_DMABUF_RENDERER",
        "WEBKIT_DISABLE_COMPOSITING_MODE",
    ] {
        if std::env::var_os(var).is_none() {
            // SAFETY: the first thing `main` does, before any other thread exists.
            unsafe { std::env::set_var(var, "1") };
        }
    }
}
