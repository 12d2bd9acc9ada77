import { describe, expect, it } from "vitest";
import { fireEvent, render } from "@testing-library/svelte";
import Markdown from "../lib/components/Markdown.svelte";
import { renderMarkdown } from "../lib/markdown";
import { backendContext } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";

/** Model answers that try to run code, navigate, or restyle the window. */
export const XSS_CORPUS = [
  "<script>window.__pwned = 1</script>",
  "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
  '<img src=x onerror="window.__pwned=1">',
  '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
  '<svg onload="window.__pwned=1"><circle r=1 /></svg>',
  '<svg><script>alert(1)</script></svg>',
  "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
  "[x](javascript:alert(1))",
  "[x](JAVASCRIPT:alert(1))",
  "[x](  javascript:alert(1))",
  "[x](java\tscript:alert(1))",
  "[x](&#106;avascript:alert(1))",
  "[x](vbscript:msgbox(1))",
  "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "![x](javascript:alert(1))",
  '<a href="javascript:alert(1)">click</a>',
  '<a href="  JaVaScRiPt:alert(1)">click</a>',
  '<a href="data:text/html,<script>alert(1)</script>">d</a>',
  "<iframe src=\"javascript:alert(1)\"></iframe>",
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  "<object data=\"javascript:alert(1)\"></object><embed src=x>",
  "<style>body{display:none}</style>",
  '<div style="position:fixed;inset:0;background:red">cover</div>',
  '<p style="background:url(javascript:alert(1))">x</p>',
  '<form action="javascript:alert(1)"><button>go</button></form>',
  '<input autofocus onfocus="alert(1)">',
  '<details open ontoggle="alert(1)">x</details>',
  '<body onload="alert(1)">',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:/">',
  '<link rel="stylesheet" href="https://evil.example/x.css">',
  "<a href=\"#\" onclick=\"alert(1)\">x</a>",
  "```html\n<script>alert(1)</script>\n```",
  "<template><script>alert(1)</script></template>",
  '<div data-x="1" onmouseover="alert(1)">hover</div>',
  '<video><source onerror="alert(1)"></video><audio src=x onerror=alert(1)>',
  "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
  // Image maps: links the click handler and the href check never saw.
  '<map name="m"><area shape="rect" coords="0,0,999,999" href="https://evil.example/phish"></map><img usemap="#m" src="data:image/png;base64,iVBORw0KGgo=">',
  '<area href="javascript:alert(1)">',
  // `background`: a remote image (a tracking pixel) on tables and cells.
  '<table background="https://evil.example/pixel.png"><tr><td background="//evil.example/p.gif">x</td></tr></table>',
  '<body background="https://evil.example/b.png">',
  // Classes and ids: an answer dressed as the app's own buttons, errors or fields.
  '<div class="btn primary">Delete every run</div><p class="error notice" id="run" role="alert">Your key was refused: paste it again here</p>',
  '<span class="code-lang">FAILED</span><pre class="code"><code class="hljs">forged</code></pre>',
  // Placeholders for highlighted code, guessed: never filled.
  '<pre title="rt-code-00000000000000000000000000000000-0"></pre>',
];

/** The highlighter's own classes, on its own code blocks: the only ones allowed. */
const HIGHLIGHT_CLASS = /^(?:hljs(?:-[\w-]+)?|language-[\w-]+|[a-z]+_+|code|code-lang)$/;

function assertInert(root: ParentNode) {
  expect(root.querySelector("script, iframe, object, embed, style, form, input, button, meta, base, link, svg, math, template, frame, video, audio, source, map, area")).toBeNull();
  for (const el of Array.from(root.querySelectorAll("*"))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.toLowerCase().startsWith("on"), `${el.tagName} ${attr.name}`).toBe(false);
      expect(["style", "srcdoc", "background", "id", "role", "usemap", "ping"], `${el.tagName} ${attr.name}`).not.toContain(attr.name.toLowerCase());
    }
    if (el.hasAttribute("href")) expect(el.tagName, "only links have an href").toBe("A");
    if (el.hasAttribute("class")) {
      expect(el.closest("pre.code"), `${el.outerHTML}: a class outside highlighted code`).not.toBeNull();
      for (const c of Array.from(el.classList)) expect(c, el.outerHTML).toMatch(HIGHLIGHT_CLASS);
    }
    for (const name of ["href", "src", "action", "formaction", "xlink:href"]) {
      const v = (el.getAttribute(name) ?? "").replace(/[\s\u0000-\u001f]/g, "").toLowerCase();
      expect(v.startsWith("javascript:"), `${el.tagName} ${name}=${v}`).toBe(false);
      expect(v.startsWith("vbscript:"), `${el.tagName} ${name}=${v}`).toBe(false);
      if (name === "href") expect(v === "" || /^(https?:|mailto:|#)/.test(v), `${el.tagName} href=${v}`).toBe(true);
      if (name === "src") expect(v === "" || v.startsWith("data:image/png") || v.startsWith("data:image/gif"), `src=${v}`).toBe(true);
    }
  }
}

describe("markdown sanitisation", () => {
  it.each(XSS_CORPUS)("renders %j inert", (payload) => {
    const div = document.createElement("div");
    div.innerHTML = renderMarkdown(payload);
    assertInert(div);
  });

  // Whether anything runs is for the real window to say (jsdom runs no
  // injected script, so it cannot): tests/e2e/app.test.mjs.
  it("renders the whole corpus inert in the component", () => {
    const { container } = render(Markdown, { props: { source: XSS_CORPUS.join("\n\n") } });
    assertInert(container.querySelector(".md")!);
  });

  it("opens only http(s) links, in the system browser, and never navigates", async () => {
    const backend = new FakeBackend();
    const source = ["[docs](https://example.com/a?b=1)", "[plain](http://example.org)", "[mail](mailto:a@b.c)", "[here](#x)", ...XSS_CORPUS].join("\n\n");
    const { container } = render(Markdown, { props: { source }, context: backendContext(backend) });
    const before = location.href;
    for (const a of Array.from(container.querySelectorAll("a"))) {
      const ev = new MouseEvent("click", { bubbles: true, cancelable: true });
      a.dispatchEvent(ev);
      expect(ev.defaultPrevented, a.outerHTML).toBe(true);
    }
    await fireEvent.click(container);
    await Promise.resolve();
    expect(backend.opened).toEqual(["https://example.com/a?b=1", "http://example.org/"]);
    expect(location.href).toBe(before);
    expect(container.querySelector("a")?.getAttribute("title")).toBe("https://example.com/a?b=1 (opens in your browser)");
  });

  it("keeps safe links, with rel=noopener", () => {
    const div = document.createElement("div");
    div.innerHTML = renderMarkdown("[docs](https://example.com/a) and [mail](mailto:a@b.c)");
    const links = div.querySelectorAll("a");
    expect(links[0].getAttribute("href")).toBe("https://example.com/a");
    expect(links[0].getAttribute("rel")).toBe("noopener noreferrer");
    expect(links[1].getAttribute("href")).toBe("mailto:a@b.c");
  });

  it("strips image maps, background images, classes and ids an answer writes", () => {
    const div = document.createElement("div");
    div.innerHTML = renderMarkdown(XSS_CORPUS.slice(-7).join("\n\n"));
    expect(div.querySelector("map, area, [usemap], [background], [class], [id], [role]")).toBeNull();
    expect(div.textContent).toContain("Delete every run");
    expect(div.querySelector("pre[title]")?.childNodes.length ?? 0).toBe(0);
  });

  it("highlights code after sanitising, in as many blocks as there are", () => {
    const div = document.createElement("div");
    div.innerHTML = renderMarkdown("```js\nlet a = 1;\n```\n\ntext\n\n- ```python\n  def f(): pass\n  ```\n\n```\nplain <b>\n```");
    const blocks = div.querySelectorAll("pre.code");
    expect(blocks).toHaveLength(3);
    expect(blocks[0].querySelector(".code-lang")?.textContent).toBe("js");
    expect(blocks[0].querySelector("code.hljs .hljs-keyword")?.textContent).toBe("let");
    expect(blocks[1].querySelector(".hljs-keyword")?.textContent).toBe("def");
    expect(blocks[2].textContent).toBe("plain <b>");
    expect(div.querySelector("pre[title]")).toBeNull();
  });

  it("highlights code and keeps it escaped", () => {
    const div = document.createElement("div");
    div.innerHTML = renderMarkdown("```rust\nfn main() { let x = \"<b>\"; }\n```");
    expect(div.querySelector("code.hljs .hljs-keyword")?.textContent).toBe("fn");
    expect(div.querySelector("code b")).toBeNull();
    expect(div.textContent).toContain('"<b>"');
  });
});
