/**
 * The shell: a header with the navigation, the live status and sign-out; the view for the current
 * path; the sign-in page whenever there is no session. The live channel runs while signed in.
 */
import { useSignalEffect } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import { checkSession, describeError, sessionState, signOut } from "./api/client.js";
import { LiveClient, liveStatus } from "./live/live-client.js";
import { currentPath, requireSignIn, returnAfterSignIn, route, type Route } from "./router.js";
import { AgentDetailView } from "./views/agent-detail-view.js";
import { AgentsView } from "./views/agents-view.js";
import { ConfigView } from "./views/config-view.js";
import { LogView } from "./views/log-view.js";
import { OverviewView } from "./views/overview-view.js";
import { SignInView } from "./views/sign-in-view.js";
import { TokensView } from "./views/tokens-view.js";
import { WebhooksView } from "./views/webhooks-view.js";

const live = new LiveClient({ onSessionEnded: () => (sessionState.value = "signed-out") });

const NAV: readonly { readonly href: string; readonly label: string; readonly views: readonly Route["view"][] }[] = [
  { href: "/", label: "Overview", views: ["overview"] },
  { href: "/agents", label: "Agents", views: ["agents", "agent"] },
  { href: "/log", label: "Log", views: ["log"] },
  { href: "/tokens", label: "Tokens", views: ["tokens"] },
  { href: "/webhooks", label: "Webhooks", views: ["webhooks"] },
  { href: "/config", label: "Config", views: ["config"] },
];

export function App() {
  const [bootError, setBootError] = useState<string | null>(null);

  useEffect(() => {
    checkSession().catch((error: unknown) => setBootError(describeError(error)));
  }, []);
  const retryBoot = (): void => {
    setBootError(null);
    checkSession().catch((error: unknown) => setBootError(describeError(error)));
  };

  // Session and route together decide: signed out → sign-in (remembering the page); signed in → live.
  useSignalEffect(() => {
    const state = sessionState.value;
    const view = route.value.view;
    if (state === "signed-out") {
      live.stop();
      if (view !== "sign-in") requireSignIn();
    } else if (state === "signed-in") {
      live.start();
      if (view === "sign-in") returnAfterSignIn();
    }
  });

  // After an in-app navigation, move focus to the new view (screen readers announce it; Tab starts there).
  const shownPath = useRef<string | null>(null);
  useSignalEffect(() => {
    const path = currentPath.value;
    if (shownPath.current !== null && shownPath.current !== path) {
      requestAnimationFrame(() => document.getElementById("main")?.focus({ preventScroll: false }));
    }
    shownPath.current = path;
  });

  const state = sessionState.value;
  const current = route.value;
  if (bootError !== null) {
    return (
      <main class="boot-error" data-view="error">
        <h1>The edge did not answer</h1>
        <p role="alert">{bootError}</p>
        <button type="button" onClick={retryBoot}>
          Try again
        </button>
      </main>
    );
  }
  if (state === "unknown") return <main class="booting" aria-busy="true" />;
  if (state === "signed-out" || current.view === "sign-in") return <SignInView />;
  return (
    <div class="shell">
      <Header current={current} />
      <main id="main" class="content" tabIndex={-1}>
        <ViewFor route={current} />
      </main>
    </div>
  );
}

function ViewFor({ route: r }: { route: Route }) {
  switch (r.view) {
    case "overview":
      return <OverviewView />;
    case "agents":
      return <AgentsView />;
    case "agent":
      return <AgentDetailView id={r.id} />;
    case "log":
      return <LogView index={r.index} />;
    case "tokens":
      return <TokensView />;
    case "webhooks":
      return <WebhooksView />;
    case "config":
      return <ConfigView />;
    case "sign-in":
      return <SignInView />;
    case "not-found":
      return (
        <section data-view="not-found">
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{r.path}</code>. <a href="/">Back to the overview</a>.
          </p>
        </section>
      );
  }
}

function Header({ current }: { current: Route }) {
  const [open, setOpen] = useState(false);
  const [signOutError, setSignOutError] = useState<string | null>(null);
  // A navigation closes the phone menu.
  const lastPath = useRef(currentPath.value);
  if (lastPath.current !== currentPath.value) {
    lastPath.current = currentPath.value;
    if (open) setOpen(false);
  }
  const onSignOut = async (): Promise<void> => {
    try {
      await signOut();
    } catch (error) {
      setSignOutError(describeError(error));
    }
  };
  return (
    <header class="top">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <div class="brand">
        <span class="brand-mark" aria-hidden="true" />
        BecomingONE
      </div>
      <button type="button" class="menu-toggle" aria-expanded={open} aria-controls="nav" onClick={() => setOpen(!open)}>
        Menu
      </button>
      <nav id="nav" class={open ? "nav open" : "nav"} aria-label="Views">
        <ul>
          {NAV.map((item) => (
            <li key={item.href}>
              <a href={item.href} aria-current={item.views.includes(current.view) ? "page" : undefined}>
                {item.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <LiveStatus />
      <button type="button" class="sign-out" onClick={() => void onSignOut()}>
        Sign out
      </button>
      {signOutError !== null ? (
        <p class="error" role="alert">
          {signOutError}
        </p>
      ) : null}
    </header>
  );
}

function LiveStatus() {
  const { state, staleSeconds } = liveStatus.value;
  // The announced text changes only with the state; the ticking seconds are not read out each second.
  return (
    <p class={`live-status ${state}`} data-testid="live-status" data-state={state} role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" />
      {state === "live" ? "live" : state === "reconnecting" ? "reconnecting…" : "stale"}
      {state === "stale" ? <span aria-hidden="true"> (no update for {staleSeconds} s)</span> : null}
    </p>
  );
}
