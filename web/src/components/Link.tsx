import type { ComponentChildren } from "preact";
import { useStudio } from "../app/context";
import { encodeView, type View } from "../app/url";

/** A link to a studio view: a real href (open in new tab works), in-app navigation on click. */
export function Link(props: { to: View; children: ComponentChildren; class?: string; testId?: string; title?: string }) {
  const { navigate } = useStudio();
  const href = encodeView(props.to) || "/";
  return (
    <a
      href={href.startsWith("?") ? `/${href}` : href}
      class={props.class}
      data-testid={props.testId}
      title={props.title}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}
