// Model answers as Markdown, rendered and sanitised. Model output is untrusted:
// marked renders it, DOMPurify keeps only inert HTML (no script, no event
// handlers, no style, no frames, forms or image maps, no `class`, `id` or
// `background`), and links keep only http(s), mailto and in-page targets, with
// rel="noopener noreferrer"; no other element keeps an href. Code blocks are
// highlighted after sanitising, into placeholders only this render can name, so
// the only classes in an answer are the highlighter's. The window's CSP is a
// second wall (no inline script, no remote script).
import DOMPurify from "dompurify";
import { Lexer, Marked, type Links, type Token, type Tokens, type TokensList } from "marked";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import css from "highlight.js/lib/languages/css";
import go from "highlight.js/lib/languages/go";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const languages = { bash, css, go, javascript, json, python, rust, sql, typescript, xml, yaml };
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang);
hljs.registerAliases(["sh", "shell", "zsh"], { languageName: "bash" });
hljs.registerAliases(["js", "jsx", "mjs"], { languageName: "javascript" });
hljs.registerAliases(["ts", "tsx"], { languageName: "typescript" });
hljs.registerAliases(["py"], { languageName: "python" });
hljs.registerAliases(["rs"], { languageName: "rust" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });
hljs.registerAliases(["yml"], { languageName: "yaml" });

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A code block of the render in progress, highlighted once the rest is sanitised. */
export interface CodeBlock {
  text: string;
  lang: string | undefined;
}
let pending: Draft | null = null;

function highlighted({ text, lang }: CodeBlock): string {
  const language = (lang ?? "").trim().split(/\s+/)[0]?.toLowerCase() ?? "";
  const known = language && hljs.getLanguage(language);
  // hljs escapes the code; its only markup is <span class="hljs-…">.
  const body = known ? hljs.highlight(text, { language, ignoreIllegals: true }).value : escapeHtml(text);
  const label = language ? `<span class="code-lang">${escapeHtml(language)}</span>` : "";
  return `<pre class="code">${label}<code class="hljs">${body}</code></pre>`;
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    code(token: Tokens.Code): string {
      if (!pending) return `<pre><code>${escapeHtml(token.text)}</code></pre>\n`;
      pending.blocks.push({ text: token.text, lang: token.lang });
      return `<pre title="${pending.nonce}-${pending.blocks.length - 1}"></pre>\n`;
    },
  },
});

/** A tag no answer can contain: it is drawn after the answer was written. */
function newNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return `rt-code-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const SAFE_HREF = /^(?:https?:|mailto:|#)/i;

const PURIFY_CONFIG = {
  USE_PROFILES: { html: true },
  // `map`/`area`: links the click handler and the href check never see.
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "option", "iframe", "frame", "frameset", "object", "embed", "link", "meta", "base", "svg", "math", "template", "video", "audio", "source", "track", "picture", "map", "area"],
  // `background` loads a remote image (a tracking pixel, were the CSP to allow
  // it); `class`, `id` and `role` would let an answer dress as the app's own
  // buttons, errors (an announced alert) or fields; `usemap`, `poster`, `ping`
  // point elsewhere.
  FORBID_ATTR: ["style", "srcset", "action", "formaction", "xlink:href", "background", "class", "id", "role", "usemap", "poster", "ping"],
  ALLOW_DATA_ATTR: false,
};

let purify: ReturnType<typeof DOMPurify> | null = null;
/**
 * The sanitiser: an instance of DOMPurify of this module's own, its hook added
 * and its configuration read once (given to each call, DOMPurify reads it again,
 * its lists of tags and attributes built anew, which the window's interpreter,
 * without a JIT, feels on every render of a streaming answer).
 */
function purifier(): ReturnType<typeof DOMPurify> {
  if (!purify) {
    purify = DOMPurify(window);
    purify.setConfig(PURIFY_CONFIG);
    purify.addHook("afterSanitizeAttributes", (node) => {
      // Only links navigate (and Markdown.svelte opens them in the browser).
      if (node.nodeName !== "A") node.removeAttribute("href");
      if (node.nodeName === "A") {
        const href = (node.getAttribute("href") ?? "").trim();
        // Strip control characters and whitespace browsers ignore inside schemes.
        const compact = href.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
        if (!SAFE_HREF.test(compact)) node.removeAttribute("href");
        else if (/^https?:/i.test(compact)) node.setAttribute("title", `${href} (opens in your browser)`);
        node.setAttribute("rel", "noopener noreferrer");
        node.removeAttribute("target");
      }
      if (node.nodeName === "IMG") {
        const src = (node.getAttribute("src") ?? "").trim();
        // Only data: images render (the CSP blocks remote ones: no tracking pixels).
        if (!/^data:image\/(?:png|gif|jpe?g|webp);/i.test(src)) node.removeAttribute("src");
      }
    });
  }
  return purify;
}

/** A render in progress: Markdown made HTML, its code blocks not yet highlighted. */
export interface Draft {
  readonly nonce: string;
  readonly blocks: CodeBlock[];
  html: string;
}

export function newDraft(): Draft {
  return { nonce: newNonce(), blocks: [], html: "" };
}

/** The HTML (not yet sanitised) of `tokens`, their code blocks kept in `draft` for `finish`. */
export function draftHtml(tokens: Token[], draft: Draft): string {
  pending = draft;
  try {
    return marked.parser(tokens);
  } finally {
    pending = null;
  }
}

/** A draft's HTML, sanitised, its code blocks highlighted. */
export function finish(draft: Draft): string {
  const clean = purifier().sanitize(draft.html) as string;
  if (!draft.blocks.length) return clean;
  // Sanitised HTML is serialised with attribute values escaped, and the nonce is
  // plain: only this render's placeholders match.
  return clean.replace(new RegExp(`<pre title="${draft.nonce}-(\\d+)"></pre>`, "g"), (_, i: string) => {
    const block = draft.blocks[Number(i)];
    return block ? highlighted(block) : "";
  });
}

/**
 * Lexes `source` as `marked.parse` would; `links` are the definitions an earlier
 * part of the same answer made (a reference resolves anywhere in the answer).
 */
export function lexMarkdown(source: string, links?: Links): TokensList {
  const lexer = new Lexer(marked.defaults);
  if (links) Object.assign(lexer.tokens.links, links);
  return lexer.lex(source);
}

/** Tokens to sanitised HTML. */
export function renderTokens(tokens: Token[]): string {
  const draft = newDraft();
  draft.html = draftHtml(tokens, draft);
  return finish(draft);
}

/** Markdown to sanitised HTML, safe to put in `{@html}`. */
export function renderMarkdown(source: string): string {
  return renderTokens(lexMarkdown(source));
}

/** Sanitises already-made HTML the same way (for tests and highlighted diffs). */
export function sanitizeHtml(html: string): string {
  return purifier().sanitize(html) as string;
}
