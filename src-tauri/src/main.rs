// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    #[cfg(target_os = "linux")]
    webkit_defaults();
    roundtable_desktop::run()
}

/// Environment defaults for WebKitGTK, set before GTK or WebKit starts (both
/// read them once, and the web and network processes inherit them). A variable
/// the user set, even to an empty value, always wins: `VAR=0` turns a path back
/// on, and an empty `GDK_GL` or `WEBKIT_WEB_RENDER_DEVICE_FILE` means the
/// library's own default.
///
/// - `JSC_useJIT=0`: JavaScriptCore runs the UI's scripts in its interpreter.
///   The window renders untrusted model output, and a JIT is the usual way
///   in for an exploit; without it the web process has no writable executable
///   memory and is about 9 MB smaller. The UI's scripts are small: the web
///   process's CPU during `make bench`'s 10-model run measured the same with
///   and without it.
///
/// On a machine without a GPU render node, where every GL path would run on
/// Mesa's software rasteriser (llvmpipe) and only costs memory:
/// - the DMA-BUF renderer and accelerated compositing are off (about 90 MB
///   across the processes, 180 MB after a run, for nothing visible);
/// - `GDK_GL=disable`: GTK does not probe GLX when it opens the display (the
///   app has no GL widget), and `WEBKIT_WEB_RENDER_DEVICE_FILE=/dev/null`
///   tells WebKit there is no render device instead of opening an EGL display
///   in the app's process to find out. Together they keep Mesa and its LLVM
///   (about 20 MB) out of the app's own process; the web process still has
///   its EGL display, which it needs.
///
/// The window paints as before; only WebDriver's screenshot then waits for the
/// page's next paint (see tests/e2e/harness.mjs).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn webkit_defaults() {
    let set_default = |var: &str, value: &str| {
        if std::env::var_os(var).is_none() {
            // SAFETY: the first thing `main` does, before any other thread exists.
            unsafe { std::env::set_var(var, value) };
        }
    };
    set_default("JSC_useJIT", "0");
    let has_render_node = std::fs::read_dir("/dev/dri")
        .map(|dir| {
            dir.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false);
    if has_render_node {
        return;
    }
    set_default("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    set_default("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    set_default("GDK_GL", "disable");
    set_default("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/null");
}
