import { describe, expect, it } from "vitest";
import { render } from "@testing-library/svelte";
import Markdown from "../lib/components/Markdown.svelte";
import { renderMarkdown } from "../lib/markdown";
import { MarkdownStream, type Rendered } from "../lib/markdown-stream";

// A few of xss.test.ts's payloads: HTML the sanitiser strips or changes.
const STRIPPED = [
  "<script>window.__pwned = 1</script>",
  '<img src=x onerror="window.__pwned=1">',
  '<svg onload="window.__pwned=1"><circle r=1 /></svg>',
  "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
  "[x](javascript:alert(1))",
  '<a href="  JaVaScRiPt:alert(1)">click</a>',
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  "<style>body{display:none}</style>",
  '<div style="position:fixed;inset:0;background:red">cover</div>',
  '<form action="javascript:alert(1)"><button>go</button></form>',
  '<details open ontoggle="alert(1)">x</details>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '<table background="https://evil.example/pixel.png"><tr><td background="//evil.example/p.gif">x</td></tr></table>',
  '<div class="btn primary">Delete every run</div><p class="error notice" id="run" role="alert">Your key was refused</p>',
  '<pre title="rt-code-00000000000000000000000000000000-0"></pre>',
];

const html = (r: Rendered) => r.blocks.map((b) => b.html).join("") + r.tail;

/** Markdown whose blocks end far from where a naive split would put them. */
const CORPUS: Record<string, string> = {
  "fences with blank lines inside": "Intro paragraph.\n\n```python\ndef f():\n\n    return 1\n\n\nx = 2\n```\n\nAfter the code.\n\n~~~\nplain\n\n~~~~\n\n````md\n```\nnested fence\n```\n````\n\nEnd.\n",
  "nested and loose lists": "1. one\n2. two\n   - a\n   - b\n\n     continued b\n\n   - c\n3. three\n\nPara\n\n- x\n- y\n\n- z\n\n* star\n\n+ plus\n\n1. a\n\n2\n\n2. b\n3) c\n\n- [ ] todo\n- [x] done\n\n  more of done\n",
  "tables": "| Name | Value | Note |\n|:-----|------:|:----:|\n| a | `x \\| y` | line<br>break |\n| **b** | 2 | [l](https://e.example) |\n\nText\n| not | a table |\n\n| one |\n|---|\n\n| a | b |\n|---|---|\n| 1 |\n",
  headings: "Title\n=====\n\nSub\n---\n\n# H1\n## H2 ##\n###### H6\n####### not\n\npara\n---\n\n***\n\n- - -\n",
  "html the sanitiser strips": `${STRIPPED.join("\n\n")}\n\nafter the payloads\n\n<details><summary>S</summary>\n\nhidden **md**\n\n</details>\n\n<b>bold <i>it</b></i> and on\n\n<b>unclosed\n\nnext paragraph\n\n<!-- comment\n\nstill comment -->\n\n<textarea>\n\n# raw\n\n</textarea>\n\n<pre>\n\nx\n\n</pre>\n\nend\n`,
  "simple inline html": "H<sub>2</sub>O and <kbd>Ctrl</kbd>+<kbd>C</kbd><br>next\n\n<b>block</b>\n\n<span>\ntext\n</span>\n\n<em>a <strong>b</strong></em>\n\n<b><p>x</p></b>\n\n<b>x\n\ny</b>\n\n<br/>\n\n<i title=\"x\">t</i>\n\nafter\n",
  "reference links": "See [a][x] and [b] and [missing].\n\n> quoted [x]\n\nText.\n\n[x]: https://example.com \"Title\"\n[b]: <http://b.example>\n\n> [q]: https://q.example\n\n[q] and [X]\n\n[x]: https://other.example\n",
  blockquotes: "> one\nlazy\n\n> two\n>\n> > nested\n> back\n\n>     code in quote\n\n> - list in quote\n> - b\n\nafter\n",
  "indented code": "para\n    not code\n\n    code\n\n\n    more code\n\nafter\n\n\tTabbed\n\n  - item\n\n        code in item\n",
  "emphasis and breaks": "*a\nb* and __c__ and ***d*** and ~~e~~\n\nhard  \nbreak and soft\nbreak\\\nand backslash\n\n`code\nspan` <https://auto.example> www.example.com a@b.example\n\n\\# not heading\n\n&amp; &copy; &#35;\n",
  crlf: "line one\r\n\r\n- a\r\n- b\r\n\r\n```\r\ncode\r\n```\r\n\r\nend\r",
  "unclosed fence": "Start.\n\n```rust\nfn main() {\n\n    println!(\"never closed\");\n",
  "html block across blank lines": "<div>\n\n*inside*\n\n</div>\n\n<table><tr><td>\n\ncell\n\n</td></tr></table>\n\nafter\n",
};

/** An answer as a model might write it: many blocks, a few of each kind. */
const ANSWER = Array.from({ length: 6 }, (_, i) => `## Part ${i + 1}\n\nSome **bold** words, \`code\`, and a [link](https://example.com/${i}).\n\n- first point\n- second point\n  - nested\n\n\`\`\`ts\nconst x${i} = ${i};\n\nconsole.log(x${i});\n\`\`\`\n\n| a | b |\n|---|---|\n| ${i} | ${i * 2} |\n`).join("\n");

/** Streams `text` a chunk at a time, checking every step against rendering the whole prefix. */
function stream(text: string, sizes: () => number): MarkdownStream {
  const s = new MarkdownStream();
  for (let end = 0; end < text.length; ) {
    end = Math.min(text.length, end + sizes());
    const prefix = text.slice(0, end);
    expect(html(s.update(prefix)), `after ${JSON.stringify(prefix)}`).toBe(renderMarkdown(prefix));
  }
  return s;
}

describe("MarkdownStream", () => {
  for (const [name, text] of Object.entries(CORPUS)) {
    it(`renders ${name} as a whole render does, a character at a time`, () => {
      const s = stream(text, () => 1);
      expect(html(s.update(text))).toBe(renderMarkdown(text));
    }, 30_000);
  }

  it("renders the whole corpus as a whole render does, in chunks of any size", () => {
    const text = [...Object.values(CORPUS).filter((t) => !t.includes("never closed")), ANSWER].join("\n\n");
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    stream(text, () => 1 + Math.floor(random() * 120));
    // An answer streamed in chunks keeps a block as each completes.
    expect(stream(ANSWER, () => 1 + Math.floor(random() * 40)).update(ANSWER).blocks.length).toBeGreaterThan(10);
  });

  it("keeps completed blocks and renders only the open tail again", () => {
    const s = new MarkdownStream();
    let r = s.update(ANSWER.slice(0, ANSWER.length / 2));
    const first = r.blocks;
    expect(first.length).toBe(1);
    r = s.update(ANSWER);
    // The first blocks are the same objects: their HTML (and DOM) stays.
    expect(r.blocks[0]).toBe(first[0]);
    // The tail is the last block, the table.
    expect(r.tail).toBe(renderMarkdown("| a | b |\n|---|---|\n| 5 | 10 |\n"));
    // Nothing new: the same array.
    expect(s.update(ANSWER).blocks).toBe(r.blocks);
  });

  it("keeps a fenced code block open until its closing fence", () => {
    const s = new MarkdownStream();
    const open = "Intro.\n\n```js\nlet a = 1;\n\n\nlet b = 2;\n\nmore\n";
    let r = s.update(open);
    expect(r.blocks.map((b) => b.html).join("")).toBe(renderMarkdown("Intro.\n\n"));
    expect(r.tail).toContain("let</span> b");
    r = s.update(`${open}\`\`\`\n\nAfter.\n`);
    expect(r.blocks.map((b) => b.html).join("")).toContain("let</span> b");
    expect(r.tail).toBe(renderMarkdown("After.\n"));
  });

  it("renders blocks again when a link definition comes after them", () => {
    const s = new MarkdownStream();
    s.update("See [x].\n\nMore.\n\n");
    const r = s.update("See [x].\n\nMore.\n\n[x]: https://example.com\n");
    expect(html(r)).toContain('href="https://example.com"');
    expect(html(r)).toBe(renderMarkdown("See [x].\n\nMore.\n\n[x]: https://example.com\n"));
  });

  it("starts over when the text is not a longer version of the last", () => {
    const s = new MarkdownStream();
    s.update("# One\n\ntext\n\nmore\n");
    const r = s.update("# Two\n\ntext\n");
    expect(html(r)).toBe(renderMarkdown("# Two\n\ntext\n"));
  });

  it("keeps no block whose raw HTML could reach into the next", () => {
    const s = new MarkdownStream();
    const r = s.update("ok\n\n<b>open\n\nnext\n\nlast\n");
    expect(r.blocks.map((b) => b.html).join("")).toBe(renderMarkdown("ok\n\n"));
    expect(html(r)).toBe(renderMarkdown("ok\n\n<b>open\n\nnext\n\nlast\n"));
  });
});

describe("Markdown", () => {
  it("keeps the DOM of completed blocks while the answer streams", async () => {
    const { container, rerender } = render(Markdown, { source: "# Title\n\nFirst paragraph.\n\nSecond" });
    const heading = container.querySelector("h1");
    expect(heading?.textContent).toBe("Title");
    await rerender({ source: "# Title\n\nFirst paragraph.\n\nSecond paragraph, longer.\n\n- a list" });
    expect(container.querySelector("h1")).toBe(heading);
    const md = container.querySelector(".md") as HTMLElement;
    expect(md.innerHTML.replace(/<!---->/g, "")).toBe(renderMarkdown("# Title\n\nFirst paragraph.\n\nSecond paragraph, longer.\n\n- a list"));
    await rerender({ source: "Another answer" });
    expect(md.innerHTML.replace(/<!---->/g, "")).toBe(renderMarkdown("Another answer"));
  });
});
