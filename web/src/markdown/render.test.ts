import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./render";

function parsed(html: string): HTMLElement {
  const box = document.createElement("div");
  box.append(document.createRange().createContextualFragment(html));
  return box;
}

describe("renderMarkdown", () => {
  it("renders ordinary Markdown", () => {
    const box = parsed(renderMarkdown("# Title\n\nSome **bold** and a [link](https://example.org)."));
    expect(box.querySelector("h1")?.textContent).toBe("Title");
    expect(box.querySelector("strong")?.textContent).toBe("bold");
    const link = box.querySelector("a");
    expect(link?.getAttribute("href")).toBe("https://example.org");
    expect(link?.getAttribute("rel")).toContain("noopener");
  });

  it("removes scripts, event handlers and javascript: links", () => {
    const html = renderMarkdown(
      [
        "<script>window.pwned = 1</script>",
        '<img src=x onerror="window.pwned = 2">',
        "[click](javascript:window.pwned=3)",
        '<a href="JaVaScRiPt:alert(1)">raw</a>',
        '<svg><animate onbegin="alert(1)"/></svg>',
        '<iframe src="https://evil.example"></iframe>',
        '<div style="background:url(javascript:alert(1))">styled</div>',
      ].join("\n\n"),
    );
    const box = parsed(html);
    expect(box.querySelector("script")).toBeNull();
    expect(box.querySelector("iframe")).toBeNull();
    for (const element of box.querySelectorAll("*")) {
      for (const attribute of element.getAttributeNames()) {
        expect(attribute.startsWith("on")).toBe(false);
        expect(attribute).not.toBe("style");
      }
      expect((element.getAttribute("href") ?? "").toLowerCase()).not.toContain("javascript:");
    }
    expect(html.toLowerCase()).not.toContain("javascript:");
  });

  it("keeps text that only looks like HTML as text", () => {
    const box = parsed(renderMarkdown("a `<b>code</b>` span"));
    expect(box.querySelector("code")?.textContent).toBe("<b>code</b>");
    expect(box.querySelector("b")).toBeNull();
  });
});
