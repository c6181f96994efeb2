/**
 * Small pieces the log, tokens, webhooks and config views share: the edge's error shown as an
 * alert, a copy button, a "shown once" secret box, a scrolling table, a loader hook and an action
 * hook. Styles: styles/views.css.
 */
import "../styles/views.css";
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { describeError } from "../api/client.js";

/** The edge's JSON error message (and code), announced to screen readers. Nothing when null. */
export function ErrorNote({ error, testId }: { error: unknown; testId?: string }) {
  if (error === null || error === undefined) return null;
  return (
    <p class="error-note" role="alert" data-testid={testId ?? "view-error"}>
      {describeError(error)}
    </p>
  );
}

/** Copies `text` to the clipboard; says so (or why not) next to the button. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState("idle"), 4000);
  };
  return (
    <span class="copy">
      <button type="button" onClick={() => void copy()}>
        {label}
      </button>
      <span class="copy-state" role="status" aria-live="polite">
        {state === "copied" ? "Copied" : state === "failed" ? "Copy failed: select the text and copy it" : ""}
      </span>
    </span>
  );
}

/** A secret the edge returns only once: visible, selectable, with a copy button and a dismiss. */
export function OnceSecret(props: { title: string; secret: string; secretTestId: string; children?: ComponentChildren; onDismiss: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // Move focus to the new secret so keyboard and screen-reader users land on it.
  useEffect(() => heading.current?.focus(), [props.secret]);
  return (
    <section class="card once-secret" aria-labelledby="once-secret-title">
      <h2 id="once-secret-title" tabIndex={-1} ref={heading}>
        {props.title}
      </h2>
      <p class="warn-text">Shown once: the edge keeps only what it needs to check it. Copy it now.</p>
      <div class="secret-row">
        <code class="secret" data-testid={props.secretTestId}>
          {props.secret}
        </code>
        <CopyButton text={props.secret} label="Copy secret" />
      </div>
      {props.children}
      <button type="button" onClick={props.onDismiss}>
        Done, hide it
      </button>
    </section>
  );
}

/** A column head; `num` right-aligns, `wide-only` hides it on narrow screens; `hidden`: for screen readers only. */
export interface ColumnHead {
  readonly label: string;
  readonly class?: string;
  readonly hidden?: boolean;
}

/**
 * A table that scrolls sideways in a focusable region (so a keyboard can scroll it), both named by
 * the heading `labelledBy`. The children are the body's rows.
 */
export function RegionTable(props: { labelledBy: string; columns: readonly ColumnHead[]; busy?: boolean; testId?: string; class?: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-labelledby={props.labelledBy}>
      <table aria-labelledby={props.labelledBy} aria-busy={props.busy} data-testid={props.testId} class={props.class}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.label} scope="col" class={c.class}>
                {c.hidden === true ? <span class="visually-hidden">{c.label}</span> : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

export interface Action<K extends string> {
  /** The running action's key, or null. */
  readonly busy: K | null;
  /** The last action's failure (cleared when one starts), or null. */
  readonly error: unknown;
  readonly run: (key: K, work: () => Promise<void>) => Promise<void>;
}

/** A button's request: marks `key` busy while `work` runs and keeps its failure for an ErrorNote. */
export function useAction<K extends string>(): Action<K> {
  const [busy, setBusy] = useState<K | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (key: K, work: () => Promise<void>): Promise<void> => {
    setBusy(key);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }, []);
  return { busy, error, run };
}

export interface Loaded<T> {
  readonly data: T | null;
  readonly error: unknown;
  readonly loading: boolean;
  readonly reload: () => void;
}

/** Runs `load` on mount and on `reload()`; a newer load wins over an older one still in flight. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [round, ...deps]);
  return { data, error, loading, reload };
}

/** ISO time as "2026-12-06 04:10:00Z", or a dash. */
export function isoShort(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "–" : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
