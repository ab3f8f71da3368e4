/** A Markdown text shown as sanitized HTML (the studio's one HTML sink; see markdown/render). */
import { useLayoutEffect, useRef } from "preact/hooks";
import { renderMarkdown } from "../markdown/render";

export function Markdown({ text }: { text: string }) {
  const box = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    const fragment = document.createRange().createContextualFragment(renderMarkdown(text));
    element.replaceChildren(fragment);
  }, [text]);
  return <div class="markdown" ref={box} data-testid="run-description" />;
}
