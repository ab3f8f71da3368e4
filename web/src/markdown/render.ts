/**
 * Markdown descriptions as safe HTML: `marked` renders, DOMPurify removes scripts, event
 * handlers and `javascript:` URLs. This module is the studio's only source of HTML text.
 */
import DOMPurify from "dompurify";
import { Marked } from "marked";

const marked = new Marked({ gfm: true, breaks: true, async: false });

let hooked = false;

function hookLinks(): void {
  if (hooked) return;
  hooked = true;
  // Links open in a new tab without giving that page a handle on the studio.
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A" && node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  });
}

/** Sanitized HTML for a Markdown text (raw HTML in it survives only if harmless). */
export function renderMarkdown(text: string): string {
  hookLinks();
  const html = marked.parse(text) as string;
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
    FORBID_ATTR: ["style"],
  });
}
