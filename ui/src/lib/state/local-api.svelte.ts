// Settings' local API panel: the API this process runs on 127.0.0.1 for
// scripts written for the hosted endpoint, its port, and its token (which
// crosses to the page only when revealed or copied). Made by the view when it
// opens.
import type { Backend, LocalApiStatus, TokenOrigin } from "../ipc/backend";
import { errorMessage } from "../ipc/backend";
import { copyText } from "../clipboard";
import type { Settings } from "./settings.svelte";

/** How long "Copied" shows on the button that copied (ms). */
export const COPIED_MS = 1500;

/** Where the token comes from, for people. */
export function originText(o: TokenOrigin | null | undefined): string {
  switch (o?.kind) {
    case "environment":
      return "ROUNDTABLE_API_TOKEN, from the environment";
    case "keychain":
      return "the OS keychain: the same at every start";
    case "file":
      return `the file ${o.path} (yours only): the keychain is not available; the same at every start`;
    case "process":
      return `this process only, a new one at the next start: ${o.reason}`;
    case "given":
      return "given by the program that started the API";
    default:
      return "made when the API starts or the token is revealed";
  }
}

export class LocalApi {
  /** What the backend last said of it; null until it answered. */
  status = $state<LocalApiStatus | null>(null);
  /** The port as typed; null until typed or known. */
  portInput = $state<number | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  token = $state<string | null>(null);
  tokenShown = $state(false);
  /** Which copy button just copied. */
  copied = $state<string | null>(null);
  readonly #backend: Backend;
  readonly #settings: Settings;

  constructor(backend: Backend, settings: Settings) {
    this.#backend = backend;
    this.#settings = settings;
  }

  /** Asks whether it runs (it may have started with the app, or failed to). */
  async load(): Promise<void> {
    try {
      const s = await this.#backend.localApiStatus();
      if (this.status !== null || this.busy) return; // a switch already answered for it
      this.status = s;
      this.portInput ??= s.port;
      this.error = s.error?.message ?? null;
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  get running(): boolean {
    return this.status?.running ?? false;
  }

  /** The port it listens on or will: as typed, else as last known, else config.toml's. */
  get port(): number {
    return this.portInput ?? this.status?.port ?? this.#settings.localApiPort;
  }

  get portValid(): boolean {
    const p = this.port;
    return Number.isInteger(p) && p >= 1 && p <= 65535;
  }

  /** Whether the switch can be used: always to stop it, to start it on a valid port. */
  get canToggle(): boolean {
    return !this.busy && (this.running || this.portValid);
  }

  get url(): string {
    return `http://127.0.0.1:${this.portValid ? this.port : "PORT"}`;
  }

  /** A request a script would make, with `token` (or a placeholder for it). */
  curl(token: string): string {
    const model = this.#settings.defaultPanel[0] ?? "openai/gpt-4.1-mini";
    return `curl -s ${this.url}/v3/roundtable \\\n  -H "Authorization: Bearer ${token}" \\\n  -H "Content-Type: application/json" \\\n  -d '{"input": "Why is the sky blue?", "models": [{"name": "${model}"}], "resolution": "fast"}'`;
  }

  /** The example as shown: with the token once revealed. */
  get shownCurl(): string {
    return this.curl(this.tokenShown && this.token ? this.token : "$ROUNDTABLE_API_TOKEN");
  }

  /** Starts or stops it; resolves to whether it runs then (a refusal leaves the message in `error`). */
  async toggle(on: boolean): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      this.status = on ? await this.#backend.startLocalApi(this.port) : await this.#backend.stopLocalApi();
      this.#settings.localApiChanged(this.status.running, this.status.port);
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.busy = false;
    }
    return this.running;
  }

  /** The token, asked for once; null when that failed (the message in `error`). */
  async fetchToken(): Promise<string | null> {
    try {
      if (this.token === null) {
        this.token = await this.#backend.localApiToken();
        // Resolving it settled where it comes from: say so.
        const s = await this.#backend.localApiStatus();
        if (!this.busy) this.status = this.status ? { ...this.status, token_origin: s.token_origin } : s;
      }
      return this.token;
    } catch (e) {
      this.error = errorMessage(e);
      return null;
    }
  }

  /** Shows the token, or hides it again. */
  async reveal(): Promise<void> {
    if (this.tokenShown) {
      this.tokenShown = false;
      return;
    }
    if (await this.fetchToken()) this.tokenShown = true;
  }

  /** Copies what `text` gives, and says so on the button `what` for a moment. */
  async copy(what: string, text: () => Promise<string | null>): Promise<void> {
    const t = await text();
    if (t && (await copyText(t))) {
      this.copied = what;
      setTimeout(() => (this.copied = this.copied === what ? null : this.copied), COPIED_MS);
    }
  }

  copyToken(): Promise<void> {
    return this.copy("token", () => this.fetchToken());
  }

  copyCurl(): Promise<void> {
    return this.copy("curl", async () => {
      const t = await this.fetchToken();
      return t ? this.curl(t) : null;
    });
  }
}
