// Preferences kept in the window's localStorage for now (not in config.toml):
// theme, the default panel and summary model, saved panels. A later version may
// move the defaults to config.toml so the CLI shares them.

export type Theme = "system" | "light" | "dark";

export interface ModelDraft {
  id: string;
  name: string;
  max_tokens: number | null;
  reasoning: "" | "low" | "medium" | "high" | "max";
  temperature: number | null;
  top_p: number | null;
}

export interface SavedPanel {
  name: string;
  models: ModelDraft[];
}

const STORAGE_KEY = "roundtable.settings.v1";

let seq = 0;
export function draftModel(name = "", extra: Partial<ModelDraft> = {}): ModelDraft {
  seq += 1;
  return { id: `m${Date.now().toString(36)}${seq}`, name, max_tokens: null, reasoning: "", temperature: null, top_p: null, ...extra };
}

interface Stored {
  theme: Theme;
  defaultPanel: string[];
  summaryModel: string;
  savedPanels: { name: string; models: Omit<ModelDraft, "id">[] }[];
}

function load(): Partial<Stored> {
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

  constructor() {
    const s = load();
    this.theme = s.theme ?? "system";
    this.defaultPanel = s.defaultPanel ?? [];
    this.summaryModel = s.summaryModel ?? "";
    this.savedPanels = (s.savedPanels ?? []).map((p) => ({ name: p.name, models: p.models.map((m) => draftModel(m.name, m)) }));
  }

  save(): void {
    const data: Stored = {
      theme: this.theme,
      defaultPanel: this.defaultPanel,
      summaryModel: this.summaryModel,
      savedPanels: this.savedPanels.map((p) => ({ name: p.name, models: p.models.map(({ id: _id, ...m }) => m) })),
    };
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(data));
    } catch {
      /* storage full or unavailable: settings last for this session */
    }
  }

  savePanel(name: string, models: ModelDraft[]): void {
    const copy = models.filter((m) => m.name.trim()).map((m) => ({ ...m }));
    this.savedPanels = [...this.savedPanels.filter((p) => p.name !== name), { name, models: copy }];
    this.save();
  }

  deletePanel(name: string): void {
    this.savedPanels = this.savedPanels.filter((p) => p.name !== name);
    this.save();
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.save();
  }

  effectiveTheme(prefersDark: boolean): "light" | "dark" {
    return this.theme === "system" ? (prefersDark ? "dark" : "light") : this.theme;
  }
}
