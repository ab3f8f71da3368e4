/** The studio shell: session, URL-driven view, header, left navigation, the current page. */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { dropEarlyReads, setUnauthenticatedHandler, setWorkspace } from "../api/http";
import { canWrite, getSession, signOut, type Session } from "../api/session";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { ExperimentsPage } from "../pages/ExperimentsPage";
import { RunsPage } from "../pages/RunsPage";
import { SignInPage } from "../pages/SignInPage";
import { LazyRunPage } from "../pages/LazyRunPage";
import { StudioContext, type NavigateOptions, type Studio } from "./context";
import { decodeView, encodeView, type View } from "./url";
import { Link } from "../components/Link";
import { rememberWorkspace } from "./boot";

function currentView(): View {
  return decodeView(window.location.search);
}

export function App() {
  const [view, setView] = useState<View>(currentView);
  // The view as of the last navigation, ahead of the render it causes: what functional
  // navigations (a debounced search, say) apply to.
  const viewRef = useRef(view);
  const [session, setSession] = useState<Session | null>(null);
  const [sessionError, setSessionError] = useState<unknown>(null);

  const navigate = (to: View | ((current: View) => View | null), options?: NavigateOptions): void => {
    const next = typeof to === "function" ? to(viewRef.current) : to;
    if (next === null) return;
    viewRef.current = next;
    const url = `/${encodeView(next)}`;
    if (options?.replace) window.history.replaceState(null, "", url);
    else window.history.pushState(null, "", url);
    setView(next);
    if (!options?.keepScroll) window.scrollTo(0, 0);
  };

  const loadSession = (): void => {
    getSession().then(
      (found) => {
        setSession(found);
        setSessionError(null);
      },
      (error: unknown) => setSessionError(error),
    );
  };

  useEffect(() => {
    const onPop = (): void => {
      viewRef.current = currentView();
      setView(viewRef.current);
    };
    window.addEventListener("popstate", onPop);
    setUnauthenticatedHandler(() => {
      const here = window.location.search;
      if (!new URLSearchParams(here).has("signin")) {
        navigate({ page: "signin", next: here }, { replace: true });
        loadSession();
      }
    });
    loadSession();
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const signedOut = session !== null && session.auth_required && !session.authenticated;
  useEffect(() => {
    if (signedOut && view.page !== "signin") {
      navigate({ page: "signin", next: window.location.search }, { replace: true });
    }
  }, [signedOut, view.page]);

  const grant = session?.workspaces[0];
  const studio: Studio | null = useMemo(() => {
    if (!session) return null;
    if (grant) {
      setWorkspace(grant.name);
      rememberWorkspace(grant.name);
    }
    return {
      view,
      navigate,
      role: grant?.role ?? "reader",
      workspace: grant?.name ?? "default",
      canWrite: canWrite(grant?.role),
    };
  }, [session, view]);

  if (sessionError) {
    return (
      <main class="page">
        <ErrorNote error={sessionError} what="the session" />
      </main>
    );
  }
  if (!studio || !session) return <Loading what="the studio" />;

  const onSignedIn = (signedIn: Session, next: string): void => {
    dropEarlyReads(); // read before signing in: they may hold 401s
    setSession(signedIn);
    navigate(decodeView(next));
  };

  return (
    <StudioContext.Provider value={studio}>
      <div class="shell">
        <header class="topbar">
          <a class="brand" href="/" aria-label="runyard studio home">
            <span class="brand-mark" aria-hidden="true">
              ry
            </span>
            runyard <span class="brand-sub">studio</span>
          </a>
          <div class="topbar-right">
            {session.authenticated && grant ? (
              <span class="who" data-testid="session-role">
                Workspace <strong>{grant.name}</strong> · {grant.role}
              </span>
            ) : null}
            {session.via === "cookie" ? (
              <button
                type="button"
                class="btn btn-quiet btn-on-dark"
                onClick={() => {
                  signOut().finally(() => {
                    loadSession();
                    navigate({ page: "signin", next: "" });
                  });
                }}
              >
                Sign out
              </button>
            ) : null}
          </div>
        </header>
        <nav class="leftnav" aria-label="Studio">
          <Link to={{ page: "experiments", archived: false }} class={view.page === "experiments" || view.page === "runs" ? "nav-item active" : "nav-item"}>
            <span class="nav-icon" aria-hidden="true">
              ⚗
            </span>
            Experiments
          </Link>
          {view.page === "runs" ? (
            <div class="nav-context" title={view.experiment}>
              {view.experiment}
            </div>
          ) : null}
          <div class="nav-foot">v{session.version}</div>
        </nav>
        <main class="content" id="main">
          {view.page === "signin" ? (
            <SignInPage next={view.next} onSignedIn={onSignedIn} required={session.auth_required} />
          ) : signedOut ? null : view.page === "experiments" ? (
            <ExperimentsPage archived={view.archived} />
          ) : view.page === "runs" ? (
            <RunsPage experiment={view.experiment} query={view.query} />
          ) : (
            <LazyRunPage view={view} />
          )}
        </main>
      </div>
    </StudioContext.Provider>
  );
}
