// The files attached to the workbench's prompt (the request's `attachments`):
// added by drop, paste or the shell's file dialog, each removable; a stored
// run's come back by name and hash, their bytes fetched from the history.
// What the UI can tell at once (a type no model takes, an empty file, over the
// limits of [limits] in config.toml) is refused here, naming the file; the
// engine checks the rest (base64, the bytes' signature, UTF-8 text) and its
// validation error shows as any other.
import type { Attachment as SvelteAttachment } from "svelte/attachments";
import type { Attachment, Backend } from "../ipc/backend";
import { errorMessage } from "../ipc/backend";

export type AttachmentKind = "image" | "pdf" | "text";

/** The image types every provider with vision takes (core's IMAGE_TYPES). */
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
/** Text types outside `text/*` (core's list). */
const TEXT_APPLICATION_TYPES = [
  "application/json",
  "application/xml",
  "application/yaml",
  "application/x-yaml",
  "application/toml",
  "application/javascript",
  "application/x-sh",
  "application/sql",
  "application/x-ndjson",
];
/** The engine's defaults, until AppInfo says what config.toml sets. */
export const DEFAULT_LIMITS = { maxFileBytes: 20 * 1024 * 1024, maxRunBytes: 50 * 1024 * 1024 };
/** The most files one run may attach (core's MAX_FILES). */
export const MAX_FILES = 100;

/** What a media type is to a model, or null when no model takes it (core's `Kind::of`). */
export function kindOf(mediaType: string): AttachmentKind | null {
  const essence = mediaType.split(";")[0].trim().toLowerCase();
  if (IMAGE_TYPES.includes(essence)) return "image";
  if (essence === "application/pdf") return "pdf";
  if (essence.startsWith("text/") || TEXT_APPLICATION_TYPES.includes(essence)) return "text";
  return null;
}

/** Media types by extension, for files the system gives no (or a wrong) type. */
const BY_EXTENSION: Record<string, string> = {
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif",
  pdf: "application/pdf",
  txt: "text/plain", text: "text/plain", log: "text/plain", md: "text/markdown", markdown: "text/markdown",
  csv: "text/csv", tsv: "text/tab-separated-values", html: "text/html", htm: "text/html", css: "text/css",
  json: "application/json", xml: "application/xml", yaml: "application/yaml", yml: "application/yaml",
  toml: "application/toml", js: "application/javascript", mjs: "application/javascript", sh: "application/x-sh",
  sql: "application/sql", ndjson: "application/x-ndjson", jsonl: "application/x-ndjson",
  ts: "text/x-typescript", py: "text/x-python", rs: "text/x-rust", go: "text/x-go", java: "text/x-java",
  c: "text/x-c", h: "text/x-c", cpp: "text/x-c++", rb: "text/x-ruby", svelte: "text/plain",
};

/** A file's media type: the system's when a model takes it, else by its extension, else the system's. */
export function mediaTypeOf(file: Pick<File, "name" | "type">): string {
  if (file.type && kindOf(file.type)) return file.type;
  const ext = file.name.includes(".") ? file.name.split(".").pop()!.toLowerCase() : "";
  return BY_EXTENSION[ext] ?? (file.type || "application/octet-stream");
}

/** `12 KB`, `3.4 MB`, as the engine says sizes. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The bytes base64 holds (padded, standard alphabet). */
export function decodedSize(base64: string): number {
  const padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}

/** A `data:` URL of an image's bytes, for its thumbnail (never decoded by the app itself). */
export function dataUrl(mediaType: string, base64: string): string {
  return `data:${mediaType};base64,${base64}`;
}

/** A file's bytes as base64, read in the page. */
export function readBase64(file: Blob): Promise<string> {
  return new Promise((ok, fail) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result ?? "");
      ok(url.slice(url.indexOf(",") + 1));
    };
    reader.onerror = () => fail(reader.error ?? new Error("the file could not be read"));
    reader.readAsDataURL(file);
  });
}

/** Whether a file's bytes are UTF-8 text without NUL (what the app takes as text/plain). */
export function isText(file: Blob): Promise<boolean> {
  return new Promise((ok) => {
    const reader = new FileReader();
    reader.onload = () => {
      const bytes = new Uint8Array(reader.result as ArrayBuffer);
      if (bytes.includes(0)) return ok(false);
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes);
        ok(true);
      } catch {
        ok(false);
      }
    };
    reader.onerror = () => ok(false);
    reader.readAsArrayBuffer(file);
  });
}

export interface TrayItem {
  /** Tells items apart in the list. */
  key: number;
  name: string;
  mediaType: string;
  kind: AttachmentKind;
  size: number;
  /** The bytes, base64; null while only known by `sha256` (a stored run's), until fetched. */
  data: string | null;
  sha256: string | null;
  /** Why its bytes could not be fetched from the history. */
  error: string | null;
}

let nextKey = 1;

export class AttachmentTray {
  items = $state<TrayItem[]>([]);
  /** What was refused at the last add, a line per file. */
  refusals = $state<string[]>([]);
  /** Files are being dragged over the workbench. */
  dragging = $state(false);
  /** Files being read or asked of the shell. */
  busy = $state(0);
  /** [limits] of config.toml (AppInfo), else the engine's defaults. */
  limits = $state({ ...DEFAULT_LIMITS });
  #fetching = new Map<number, Promise<void>>();

  get totalBytes(): number {
    return this.items.reduce((n, i) => n + i.size, 0);
  }

  /** Why `add` would refuse a file of `size` bytes typed `mediaType`, or null. */
  refusal(name: string, mediaType: string, size: number, pending = 0): string | null {
    if (!kindOf(mediaType))
      return `“${name}” (${mediaType}) cannot be attached: models take images (PNG, JPEG, WebP, GIF), PDFs and text files.`;
    if (size === 0) return `“${name}” is empty.`;
    if (size > this.limits.maxFileBytes)
      return `“${name}” holds ${humanSize(size)}, over the limit of ${humanSize(this.limits.maxFileBytes)} per file ([limits] max_attachment_bytes).`;
    if (this.totalBytes + pending + size > this.limits.maxRunBytes)
      return `“${name}” would take the attachments to ${humanSize(this.totalBytes + pending + size)}, over the limit of ${humanSize(this.limits.maxRunBytes)} per run ([limits] max_run_attachment_bytes).`;
    if (this.items.length >= MAX_FILES) return `“${name}”: at most ${MAX_FILES} files may be attached.`;
    return null;
  }

  /** Adds attachments whose bytes are known (the shell's file dialog), refusing what cannot go. */
  addAttachments(list: Attachment[]): void {
    this.refusals = [];
    for (const a of list) this.#push(a.name, a.media_type, a.data ?? "", a.size ?? decodedSize(a.data ?? ""));
  }

  /** Reads and adds files (dropped or pasted), refusing what cannot go before reading it. */
  async addFiles(files: File[]): Promise<void> {
    this.refusals = [];
    this.busy++;
    try {
      const accepted: { file: File; name: string; mediaType: string }[] = [];
      let pending = 0;
      for (const [i, file] of files.entries()) {
        let mediaType = mediaTypeOf(file);
        // Of no type a model takes, but UTF-8 text (source code, a log, a
        // Makefile): sent as text/plain, as the app reads a picked file.
        if (!kindOf(mediaType) && file.size > 0 && file.size <= this.limits.maxFileBytes && (await isText(file))) mediaType = "text/plain";
        // A pasted image may come without a name of its own.
        const name = file.name.trim() || `pasted-${i + 1}.${mediaType.split("/")[1]?.split(/[+;]/)[0] ?? "bin"}`;
        const why = this.refusal(name, mediaType, file.size, pending);
        if (why) this.refusals.push(why);
        else {
          accepted.push({ file, name, mediaType });
          pending += file.size;
        }
      }
      for (const { file, name, mediaType } of accepted) {
        try {
          this.#push(name, mediaType, await readBase64(file), file.size);
        } catch (e) {
          this.refusals.push(`“${name}” could not be read: ${errorMessage(e)}`);
        }
      }
    } finally {
      this.busy--;
    }
  }

  /** Asks the shell to open its file dialog and adds what was picked. */
  async pick(backend: Backend): Promise<void> {
    this.busy++;
    try {
      this.addAttachments(await backend.pickAttachments());
    } catch (e) {
      this.refusals = [errorMessage(e)];
    } finally {
      this.busy--;
    }
  }

  #push(name: string, mediaType: string, data: string, size: number): void {
    const kind = kindOf(mediaType);
    const why = this.refusal(name, mediaType, size);
    if (why || !kind) {
      this.refusals.push(why ?? name);
      return;
    }
    if (this.items.some((i) => i.name === name && i.size === size && i.data === data)) {
      this.refusals.push(`“${name}” is already attached.`);
      return;
    }
    this.items.push({ key: nextKey++, name, mediaType, kind, size, data, sha256: null, error: null });
  }

  remove(key: number): void {
    this.items = this.items.filter((i) => i.key !== key);
    this.refusals = [];
  }

  clear(): void {
    this.items = [];
    this.refusals = [];
  }

  /** The attachments of a stored request (by hash, bytes to fetch), or of a request in hand. */
  load(list: Attachment[] | undefined): void {
    this.refusals = [];
    this.items = (list ?? []).map((a) => ({
      key: nextKey++,
      name: a.name,
      mediaType: a.media_type,
      kind: kindOf(a.media_type) ?? "text",
      size: a.size ?? decodedSize(a.data ?? ""),
      data: a.data ? a.data : null,
      sha256: a.sha256 ?? null,
      error: null,
    }));
  }

  /** Items whose bytes are still in the history only. */
  get missing(): TrayItem[] {
    return this.items.filter((i) => i.data === null && i.sha256 && !i.error);
  }

  /** Every item's bytes are here. */
  get complete(): boolean {
    return this.items.every((i) => i.data !== null);
  }

  /** Fetches the bytes of every item known only by its hash (once each); of images only for thumbnails. */
  async fetchMissing(backend: Backend, only?: AttachmentKind): Promise<void> {
    const wanted = this.missing.filter((i) => !only || i.kind === only);
    await Promise.all(wanted.map((item) => this.#fetch(backend, item)));
  }

  #fetch(backend: Backend, item: TrayItem): Promise<void> {
    let p = this.#fetching.get(item.key);
    if (!p) {
      const key = item.key;
      p = backend.attachmentData(item.sha256!).then(
        (a) => this.#update(key, { data: a.data ?? "" }),
        (e) => this.#update(key, { error: `“${item.name}” is no longer in the history: ${errorMessage(e)}` }),
      );
      this.#fetching.set(key, p);
      void p.finally(() => this.#fetching.delete(key));
    }
    return p;
  }

  #update(key: number, patch: Partial<TrayItem>): void {
    const i = this.items.findIndex((x) => x.key === key);
    if (i >= 0) this.items[i] = { ...this.items[i], ...patch };
  }

  /**
   * The attachments as the request sends them, their bytes fetched first;
   * throws, naming the file, when one's bytes cannot be had.
   */
  async ready(backend: Backend): Promise<Attachment[]> {
    await this.fetchMissing(backend);
    const lost = this.items.find((i) => i.error);
    if (lost) throw new Error(`${lost.error} Remove it to run.`);
    return this.toRequest();
  }

  /** The attachments as the request sends them (name, type, bytes). */
  toRequest(): Attachment[] {
    return this.items.map((i) => ({ name: i.name, media_type: i.mediaType, data: i.data ?? "" }));
  }

  /** The thumbnail of an image whose bytes are here, else null. */
  thumbnail(item: TrayItem): string | null {
    return item.kind === "image" && item.data ? dataUrl(item.mediaType, item.data) : null;
  }
}

function hasFiles(dt: DataTransfer | null): boolean {
  return !!dt && Array.from(dt.types ?? []).includes("Files");
}

/**
 * Files dropped on the element, or pasted into it (an image copied from
 * elsewhere), join `tray`; `tray.dragging` while files are held over it. Text
 * dragged or pasted is left to the page as usual. Use: `{@attach fileDrops(tray)}`.
 */
export function fileDrops(tray: AttachmentTray): SvelteAttachment<HTMLElement> {
  return (node) => {
    const over = (e: DragEvent) => {
      if (!hasFiles(e.dataTransfer)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
      tray.dragging = true;
    };
    const leave = (e: DragEvent) => {
      if (!e.relatedTarget || !node.contains(e.relatedTarget as Node)) tray.dragging = false;
    };
    const drop = (e: DragEvent) => {
      tray.dragging = false;
      const files = e.dataTransfer?.files;
      if (!files?.length) return;
      e.preventDefault();
      void tray.addFiles(Array.from(files));
    };
    const paste = (e: ClipboardEvent) => {
      const files = e.clipboardData?.files;
      if (!files?.length) return;
      e.preventDefault();
      void tray.addFiles(Array.from(files));
    };
    node.addEventListener("dragenter", over);
    node.addEventListener("dragover", over);
    node.addEventListener("dragleave", leave);
    node.addEventListener("drop", drop);
    node.addEventListener("paste", paste);
    return () => {
      node.removeEventListener("dragenter", over);
      node.removeEventListener("dragover", over);
      node.removeEventListener("dragleave", leave);
      node.removeEventListener("drop", drop);
      node.removeEventListener("paste", paste);
    };
  };
}
