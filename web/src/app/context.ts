/** What every page may need from the shell: navigation and the signed-in role. */
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Role } from "../api/session";
import type { View } from "./url";

export interface NavigateOptions {
  /** Replace the history entry instead of adding one (a debounced search). */
  replace?: boolean;
  /** Stay where the page is scrolled (a chart zoomed further down the page). */
  keepScroll?: boolean;
}

export interface Studio {
  view: View;
  /** Go to a view, or to a function of the current view (null: stay where we are). */
  navigate: (to: View | ((current: View) => View | null), options?: NavigateOptions) => void;
  role: Role;
  workspace: string;
  /** Contributors and owners see edit and Cancel controls; readers do not. */
  canWrite: boolean;
}

export const StudioContext = createContext<Studio | null>(null);

export function useStudio(): Studio {
  const studio = useContext(StudioContext);
  if (!studio) throw new Error("useStudio outside the studio shell");
  return studio;
}
