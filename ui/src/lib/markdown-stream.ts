// A streaming answer's Markdown, rendered incrementally. The text only grows, so
// it is split into completed blocks, rendered and sanitised once and then kept
// (their DOM too), and the open tail after them, the only part rendered again
// when more text comes. What it shows is exactly what `renderMarkdown` makes of
// the whole text (tests/markdown-stream.test.ts streams a corpus of tricky
// Markdown character by character to hold it to that):
//
// - A block is complete only once a blank line and then a whole line of some
//   other top-level block follow it: before that, more text can still change it
//   (a paragraph becomes a heading, a list grows an item and turns loose, a
//   fenced code block is open until its closing fence, an indented one spans
//   blank lines, a `2` becomes `2.`, the next item of a list).
// - Marked lexes a block after a blank line as it lexes the start of a text
//   (nothing in it looks further back than the blank line), so the tail is
//   lexed on its own, given the link definitions of the kept blocks; should the
//   definitions change (a reference resolves anywhere in an answer), every block
//   is rendered again.
// - Sanitising the kept blocks one by one gives what sanitising the whole does
//   only if none leaves the HTML parser in a state the next block would feel:
//   an unclosed element, a formatting element to reopen, a comment or raw text
//   left open. So a block is kept only if its HTML nests strictly, block inside
//   no inline element, and whatever raw HTML it holds is simple inline tags with
//   no attributes (`<b>`, `<sub>`, `<br>`…): anything else stays in the tail,
//   rendered with the rest, as the whole text was before.
import type { Links, Token, TokensList } from "marked";
import { draftHtml, finish, lexMarkdown, newDraft, renderTokens } from "./markdown";

/** A kept block's sanitised HTML; `id` tells it apart from the others of its answer. */
export interface Block {
  readonly id: number;
  readonly html: string;
}

export interface Rendered {
  /** The completed blocks, an array that changes only when blocks are added or redone. */
  blocks: Block[];
  /** The open tail's sanitised HTML. */
  tail: string;
}

// Raw HTML a kept block may hold: inline elements the parser neither closes nor
// reopens on its own, with no attributes (nothing quoted to hide a `>` in).
const INLINE_TAGS = new Set(["b", "i", "em", "strong", "u", "s", "del", "ins", "sub", "sup", "kbd", "code", "mark", "small", "span", "abbr", "cite", "dfn", "q", "samp", "var"]);
const RAW_TAG = /^<(\/?)([a-z]+)\s*>|^<(br|wbr)\s*\/?>/i;
// What marked writes around text: its inline elements (the rest are blocks).
const INLINE = new Set([...INLINE_TAGS, "a", "img", "br", "wbr", "input"]);
const VOID = new Set(["br", "wbr", "img", "input", "hr"]);
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>/g;

/** Whether raw HTML is only simple inline tags, each `<` starting one. */
function simpleHtml(raw: string): boolean {
  for (let i = raw.indexOf("<"); i !== -1; i = raw.indexOf("<", i + 1)) {
    const m = RAW_TAG.exec(raw.slice(i, i + 40));
    if (!m) return false;
    if (!m[3] && !INLINE_TAGS.has(m[2].toLowerCase())) return false;
  }
  return true;
}

/** Calls `fn` on every token of `tokens`, at any depth, in the text's order. */
function walk(tokens: readonly Token[], fn: (t: Token) => void): void {
  for (const t of tokens) {
    fn(t);
    if (t.type === "table") {
      for (const cell of [...t.header, ...t.rows.flat()] as { tokens: Token[] }[]) walk(cell.tokens, fn);
    } else if (t.type === "list") walk(t.items, fn);
    else if ("tokens" in t && Array.isArray(t.tokens)) walk(t.tokens, fn);
  }
}

/** Whether every raw HTML token in `tokens` (at any depth) is simple. */
function simpleTokens(tokens: readonly Token[]): boolean {
  let simple = true;
  walk(tokens, (t) => {
    if (t.type === "html" && !simpleHtml(t.raw)) simple = false;
  });
  return simple;
}

/** Whether HTML nests strictly, every element closed, no block inside an inline element. */
function selfContained(html: string): boolean {
  const open: string[] = [];
  let inline = 0;
  for (const m of html.matchAll(TAG)) {
    const name = m[2].toLowerCase();
    if (m[1]) {
      if (open.pop() !== name) return false;
      if (INLINE.has(name)) inline--;
    } else if (!VOID.has(name)) {
      if (inline > 0 && !INLINE.has(name)) return false;
      open.push(name);
      if (INLINE.has(name)) inline++;
    } else if (inline > 0 && !INLINE.has(name)) return false;
  }
  return open.length === 0;
}

const normalise = (s: string) => (s.includes("\r") ? s.replace(/\r\n|\r/g, "\n") : s);
const linksKey = (links: Links) => JSON.stringify(links);

export class MarkdownStream {
  #blocks: Block[] = [];
  /** The text the kept blocks were made of. */
  #kept = "";
  /** The link definitions in the kept blocks. */
  #links: Links = {};
  /** Every definition of the text the last time blocks were kept (the kept blocks were rendered with these). */
  #linksSeen = "{}";
  #ids = 0;

  /** Renders `source`, a longer version of the last text given (or any other text: it starts over). */
  update(source: string): Rendered {
    const text = normalise(source);
    if (!text.startsWith(this.#kept)) this.#reset();
    let tokens = lexMarkdown(text.slice(this.#kept.length), this.#links);
    // A definition came or changed: the kept blocks may name it.
    if (this.#blocks.length && linksKey(tokens.links) !== this.#linksSeen) {
      this.#reset();
      tokens = lexMarkdown(text);
    }
    const kept = this.#keep(tokens, this.#boundaries(text, tokens));
    return { blocks: this.#blocks, tail: renderTokens(tokens.slice(kept)) };
  }

  #reset(): void {
    this.#blocks = [];
    this.#kept = "";
    this.#links = {};
    this.#linksSeen = "{}";
  }

  /**
   * Where the open tail could start in `tokens` (the text after the kept
   * blocks): at each block that follows a blank line and whose first line is
   * whole, but the last block (which is open, whatever it is).
   */
  #boundaries(text: string, tokens: TokensList): number[] {
    const at: number[] = [];
    let offset = this.#kept.length;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (i > 0 && t.type !== "space" && tokens[i - 1].type === "space" && /\n[ \t]*\n$/.test(text.slice(Math.max(0, offset - 64), offset)) && text.indexOf("\n", offset) !== -1) at.push(i);
      offset += t.raw.length;
    }
    return at;
  }

  /**
   * Keeps the blocks of `tokens` before the last of `boundaries`, or before the
   * first that would not stand alone; returns how many tokens it kept.
   */
  #keep(tokens: TokensList, boundaries: number[]): number {
    const draft = newDraft();
    let kept = 0;
    for (const end of boundaries) {
      const group = tokens.slice(kept, end);
      const html = draftHtml(group, draft);
      if (!simpleTokens(group) || !selfContained(html)) break;
      draft.html += html;
      kept = end;
    }
    if (!kept) return 0;
    const group = tokens.slice(0, kept);
    this.#kept += group.map((t) => t.raw).join("");
    walk(group, (t) => {
      if (t.type === "def" && !Object.hasOwn(this.#links, t.tag)) this.#links[t.tag] = { href: t.href, title: t.title };
    });
    this.#linksSeen = linksKey(tokens.links);
    this.#blocks = [...this.#blocks, { id: this.#ids++, html: finish(draft) }];
    return kept;
  }
}
