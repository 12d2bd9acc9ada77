import "@fontsource-variable/inter";
import "./app.css";
import { mount } from "svelte";
import App from "./App.svelte";
import { tauriBackend } from "./lib/ipc/tauri";

const app = mount(App, { target: document.getElementById("app")!, props: { backend: tauriBackend } });

export default app;
