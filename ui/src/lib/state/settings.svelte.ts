// Preferences. The default panel, the default summary model, the theme and the
// local API's choice live in config.toml (read and written through the
// backend, so the CLI shares them); saved panels and blind mode's switch stay
// in this window's localStorage.
import type { Backend } from "../ipc/backend";
import { errorMessage } from "../ipc/backend";
import type { BudgetConfig, Prefs, Theme } from "../ipc/types";

export type { Theme };

export interface ModelDraft {
  id: string;
  name: string;
  max_tokens: number | null;
  reasoning: "" | "low" | "medium" | "high" | "max";
  temperature: number | null;
  top_p: number | null;
  /** How many times to call it (1 to 32; absent: once). */
  samples?: number;
}

export interface SavedPanel {
  name: string;
  models: ModelDraft[];
  /** Its runs are shown blind (panels saved before blind mode: false). */
  blind: boolean;
}

const STORAGE_KEY = "roundtable.settings.v1";

let seq = 0;
/** A new line of the panel, with an id of its own (never one copied in `extra`). */
export function draftModel(name = "", extra: Partial<ModelDraft> = {}): ModelDraft {
  seq += 1;
  return { name, max_tokens: null, reasoning: "", temperature: null, top_p: null, ...extra, id: `m${Date.now().toString(36)}${seq}` };
}

interface Stored {
  savedPanels: { name: string; models: Omit<ModelDraft, "id">[]; blind?: boolean }[];
  /** Blind mode as last used. */
  blind?: boolean;
}

function loadLocal(): Partial<Stored> {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Partial<Stored>) : {};
  } catch {
    return {};
  }
}

export class Settings {
  theme = $state<Theme>("system");
  defaultPanel = $state<string[]>([]);
  summaryModel = $state("");
  savedPanels = $state<SavedPanel[]>([]);
  /** Blind mode, as last switched (or as the saved panel last loaded has it). */
  blind = $state(false);
  /** Whether the local API starts with the app, and its port (config.toml). */
  localApi = $state(false);
  localApiPort = $state(8787);
  /** `[budget]` as config.toml has it (USD a day and a month; null: no limit). */
  budget = $state<BudgetConfig>({ daily_usd: null, monthly_usd: null, soft: false });
  /** Whether config.toml was read. */
  loaded = $state(false);
  /** Why the last load or save failed (the message names the field). */
  error = $state<string | null>(null);
  #backend: Backend | null = null;
  /** What config.toml holds, as last read or written. */
  #saved: Prefs | null = null;

  constructor() {
    const s = loadLocal();
    this.savedPanels = (s.savedPanels ?? []).map((p) => ({ name: p.name, models: p.models.map((m) => draftModel(m.name, m)), blind: p.blind === true }));
    this.blind = s.blind === true;
  }

  /** Reads the preferences from config.toml; later saves go through `backend`. */
  async load(backend: Backend): Promise<void> {
    this.#backend = backend;
    try {
      this.#apply(await backend.getPrefs());
      this.loaded = true;
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  #apply(p: Prefs): void {
    this.#saved = p;
    this.theme = p.theme;
    this.defaultPanel = [...p.default_models];
    this.summaryModel = p.default_summary_model ?? "";
    this.localApi = p.local_api;
    this.localApiPort = p.local_api_port;
    if (p.budget) this.budget = { ...p.budget };
  }

  prefs(): Prefs {
    return {
      default_models: this.defaultPanel.map((m) => m.trim()).filter(Boolean),
      default_summary_model: this.summaryModel.trim() || null,
      theme: this.theme,
      local_api: this.localApi,
      local_api_port: this.localApiPort,
    };
  }

  /**
   * Writes the preferences into config.toml; true when saved. A refused value
   * (an unknown provider…) leaves the message in `error` and the file as it was.
   */
  async save(): Promise<boolean> {
    if (!this.#backend) return false;
    try {
      this.#apply(await this.#backend.savePrefs(this.prefs()));
      this.error = null;
      return true;
    } catch (e) {
      this.error = errorMessage(e);
      return false;
    }
  }

  /**
   * Makes `panel` and `summary` the defaults and writes them into config.toml;
   * true when saved. Refused, the defaults in use stay those last saved.
   */
  async saveDefaults(panel: string[], summary: string): Promise<boolean> {
    const before = { panel: this.defaultPanel, summary: this.summaryModel };
    this.defaultPanel = panel;
    this.summaryModel = summary;
    if (await this.save()) return true;
    this.defaultPanel = before.panel;
    this.summaryModel = before.summary;
    return false;
  }

  /** The local API was started or stopped (the backend kept that in config.toml). */
  localApiChanged(running: boolean, port: number): void {
    this.localApi = running;
    this.localApiPort = port;
    if (this.#saved) this.#saved = { ...this.#saved, local_api: running, local_api_port: port };
  }

  #saveLocal(): void {
    const data: Stored = {
      savedPanels: this.savedPanels.map((p) => ({ name: p.name, models: p.models.map(({ id: _id, ...m }) => m), blind: p.blind })),
      blind: this.blind,
    };
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(data));
    } catch {
      /* storage full or unavailable: saved panels last for this session */
    }
  }

  /** Saves `models` as the panel `name`, with blind mode as it is now. */
  savePanel(name: string, models: ModelDraft[]): void {
    const copy = models.filter((m) => m.name.trim()).map((m) => ({ ...m }));
    this.savedPanels = [...this.savedPanels.filter((p) => p.name !== name), { name, models: copy, blind: this.blind }];
    this.#saveLocal();
  }

  /** Switches blind mode, remembered as the last used. */
  setBlind(blind: boolean): void {
    this.blind = blind;
    this.#saveLocal();
  }

  /** The saved panel `name`, making its blind mode the one in use; undefined when there is none. */
  usePanel(name: string): SavedPanel | undefined {
    const p = this.savedPanels.find((s) => s.name === name);
    if (p) this.setBlind(p.blind);
    return p;
  }

  deletePanel(name: string): void {
    this.savedPanels = this.savedPanels.filter((p) => p.name !== name);
    this.#saveLocal();
  }

  /**
   * Writes `[budget]` (only it: other unsaved edits stay unsaved); true when
   * saved. A refused limit leaves the message in `error` and the file as it was.
   */
  async saveBudget(budget: BudgetConfig): Promise<boolean> {
    const backend = this.#backend;
    const saved = this.#saved;
    if (!backend || !saved) return false;
    try {
      this.#saved = await backend.savePrefs({ ...saved, budget });
      this.budget = { ...(this.#saved.budget ?? budget) };
      this.error = null;
      return true;
    } catch (e) {
      this.error = errorMessage(e);
      return false;
    }
  }

  /** Changes the theme and writes only it (other unsaved edits stay unsaved). */
  async setTheme(theme: Theme): Promise<void> {
    this.theme = theme;
    const backend = this.#backend;
    const saved = this.#saved;
    if (!backend || !saved) return;
    try {
      this.#saved = await backend.savePrefs({ ...saved, theme });
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  effectiveTheme(prefersDark: boolean): "light" | "dark" {
    return this.theme === "system" ? (prefersDark ? "dark" : "light") : this.theme;
  }
}

/** The defaults as edited in Settings: they apply once saved. */
export class DefaultsDraft {
  /** The default panel, a model a line (commas also part them). */
  panelText = $state("");
  summaryText = $state("");
  /** What the last save came to, when it was saved (a refusal is `settings.error`). */
  saved = $state<string | null>(null);
  readonly #settings: Settings;
  #seeded = false;

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  /**
   * Fills the text once from the saved preferences; after that the text is the
   * user's own (even empty). It reads them: called in an effect, it fills the
   * text when they load.
   */
  seed(): void {
    const s = this.#settings;
    if (!this.#seeded && (s.loaded || s.defaultPanel.length || s.summaryModel)) {
      this.#seeded = true;
      this.panelText = s.defaultPanel.join("\n");
      this.summaryText = s.summaryModel;
    }
  }

  /** Writes the text into config.toml; refused, the text stays to be fixed. */
  async save(): Promise<boolean> {
    const panel = this.panelText.split(/[\n,]/).map((m) => m.trim()).filter(Boolean);
    this.saved = null;
    const s = this.#settings;
    if (!(await s.saveDefaults(panel, this.summaryText.trim()))) return false;
    this.panelText = s.defaultPanel.join("\n");
    this.summaryText = s.summaryModel;
    this.saved = "Saved in config.toml.";
    return true;
  }
}
