import type { FleetStorage } from "../fleet/sql-database.js";
import { failure, success, type Outcome } from "../http/api-error.js";
import {
  checkEndpointUrl,
  classifyAttempt,
  eventEnvelope,
  planEndpoint,
  planMessage,
  RETRY_SCHEDULE_MS,
  type AttemptView,
  type EndpointCreate,
  type EndpointPatch,
  type EndpointView,
  type EndpointWithSecret,
  type MessageView,
  type Page,
  type RandomSource,
} from "../../shared/webhooks/index.js";
import { appendAttempt, listAttempts } from "./attempt-log.js";
import { deliver, DELIVERY_TIMEOUT_MS, type FetchLike } from "./deliverer.js";
import { dispatchOutbox, DISPATCH_BATCH, outboxPending, skipOutboxBacklog } from "./dispatcher.js";
import {
  countEndpoints,
  countEnabledEndpoints,
  deleteEndpoint,
  disableEndpoint,
  endpointView,
  getEndpointRow,
  insertEndpoint,
  listEndpointRows,
  MAX_ENDPOINTS,
  rotateSecret,
  setFailingSince,
  signingSecrets,
  updateEndpoint,
  type EndpointRow,
} from "./endpoint-store.js";
import { newEndpointId, newMessageId } from "./ids.js";
import {
  dueMessages,
  finishMessage,
  getMessage,
  holdsLease,
  insertMessage,
  leaseMessage,
  listMessages,
  messageView,
  nextMessageDueAt,
  replayMessage,
  replaySince,
  rescheduleMessage,
  type MessageRow,
} from "./message-store.js";
import { migrateWebhookSchema } from "./webhook-schema.js";

/**
 * Webhook delivery for one fleet: the admin operations (endpoints, secrets, log, replay, test) and
 * the deadline task (`nextDueAt`/`run`) that dispatches outbox rows into messages and delivers due
 * ones, at most `maxInFlight` at a time. All state is in SQLite; the in-memory set of attempts in
 * flight only keeps one instance from starting the same attempt twice while it awaits the network.
 */
export interface WebhookServiceOptions {
  /** Local development: loopback receivers allowed (WEBHOOKS_ALLOW_LOOPBACK=1). */
  readonly allowLoopback: boolean;
  readonly timeoutMs?: number;
  readonly maxInFlight?: number;
  readonly schedule?: readonly number[];
  readonly random?: RandomSource;
  readonly fetch?: FetchLike;
  /** The clock of attempts in flight (their completion time); default Date.now. */
  readonly clock?: () => number;
  /**
   * Runs deliveries in the background (workerd: `ctx.waitUntil`), so `run` returns once they are
   * leased and started and a hanging receiver never holds up the fleet's other timers. Without it
   * `run` waits for them (Node tests).
   */
  readonly background?: (work: Promise<void>) => void;
  /** Called after each attempt's outcome is stored (the shell re-plans its alarm: a retry is due later). */
  readonly onAttempt?: () => void | Promise<void>;
}

export const MAX_IN_FLIGHT = 8;
/** How long after the timeout an attempt's lease lasts: a row still delivering after it was interrupted. */
export const LEASE_MARGIN_MS = 10_000;
/** Attempts one run starts at most (the task runs again when more are due). */
export const MAX_ATTEMPTS_PER_RUN = 64;
export const REPLAY_MAX = 1000;
export const PAGE_MAX = 100;

const TEST_MESSAGE = "a test event from BecomingONE; a 2xx answer marks it delivered";

export class WebhookService {
  readonly name = "webhooks";
  readonly #storage: FleetStorage;
  readonly #allowLoopback: boolean;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #schedule: readonly number[];
  readonly #random: RandomSource;
  readonly #fetch: FetchLike | undefined;
  readonly #clock: () => number;
  readonly #inFlight = new Set<string>();
  readonly #background: ((work: Promise<void>) => void) | undefined;
  readonly #onAttempt: (() => void | Promise<void>) | undefined;

  constructor(storage: FleetStorage, options: WebhookServiceOptions) {
    this.#storage = storage;
    this.#allowLoopback = options.allowLoopback;
    this.#timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
    this.#maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT;
    this.#schedule = options.schedule ?? RETRY_SCHEDULE_MS;
    this.#random = options.random ?? Math.random;
    this.#fetch = options.fetch;
    this.#clock = options.clock ?? Date.now;
    this.#background = options.background;
    this.#onAttempt = options.onAttempt;
  }

  #migrated = false;

  /**
   * The storage, with the webhook tables created on first use (not in the constructor: an object
   * asked about a fleet nobody created must store nothing).
   */
  get #sql() {
    if (!this.#migrated) {
      migrateWebhookSchema(this.#storage.sql);
      this.#migrated = true;
    }
    return this.#storage.sql;
  }

  /** Attempts in flight in this instance now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  // ---- the deadline task -----------------------------------------------------------------------

  /** When the task must run next: now while outbox rows wait, else the earliest due message. */
  nextDueAt(now: number): number | null {
    if (countEnabledEndpoints(this.#sql) === 0) return null;
    const due = outboxPending(this.#sql) ? now : nextMessageDueAt(this.#sql);
    if (due === null) return null;
    // Every slot busy: the running attempts end within the timeout; no point waking before a second.
    return this.#inFlight.size >= this.#maxInFlight ? Math.max(due, now + 1000) : due;
  }

  /**
   * Dispatches new outbox rows, then delivers due messages (up to maxInFlight at once) until none is
   * due or the run's bound; in the background when the shell gave a `background`.
   */
  async run(now: number): Promise<void> {
    this.dispatch(now);
    if (this.#background === undefined) return this.#deliverDue(now);
    this.#background(this.#deliverDue(now).catch((err: unknown) => console.error("webhooks: delivery run failed", err)));
  }

  async #deliverDue(now: number): Promise<void> {
    let started = 0;
    const worker = async (): Promise<void> => {
      while (started < MAX_ATTEMPTS_PER_RUN) {
        const leased = this.#leaseNext(now);
        if (leased === null) return;
        started++;
        try {
          await this.#attempt(leased.row, leased.endpoint, leased.secrets, leased.lease);
        } finally {
          this.#inFlight.delete(leased.row.id);
        }
        await this.#onAttempt?.();
      }
    };
    const slots = Math.max(0, this.#maxInFlight - this.#inFlight.size);
    await Promise.all(Array.from({ length: slots }, worker));
  }

  /** Turns waiting outbox rows into messages (one transaction per batch). */
  dispatch(now: number): void {
    for (let i = 0; i < 50; i++) {
      const consumed = this.#storage.transaction(() => dispatchOutbox(this.#sql, now));
      if (consumed < DISPATCH_BATCH) return;
    }
  }

  #leaseNext(now: number): { row: MessageRow; endpoint: EndpointRow; secrets: string[]; lease: number } | null {
    if (this.#inFlight.size >= this.#maxInFlight) return null;
    return this.#storage.transaction(() => {
      const candidates = dueMessages(this.#sql, now, this.#inFlight.size + 1);
      const row = candidates.find((c) => !this.#inFlight.has(c.id));
      if (row === undefined) return null;
      const endpoint = getEndpointRow(this.#sql, row.endpoint_id)!;
      if (row.status === "delivering") {
        // Its lease ran out: the attempt was cut off (eviction, restart) before its answer was stored.
        appendAttempt(this.#sql, {
          endpointId: row.endpoint_id,
          messageId: row.id,
          attempt: row.attempts,
          at: row.last_attempt_at ?? now,
          outcome: "interrupted",
          statusCode: null,
          latencyMs: 0,
          error: "the attempt was interrupted before its answer was stored",
          response: null,
        });
      }
      const lease = leaseMessage(this.#sql, row.id, now, this.#timeoutMs + LEASE_MARGIN_MS);
      this.#inFlight.add(row.id);
      const secrets = signingSecrets(this.#sql, endpoint.id, now);
      return { row: { ...row, attempts: row.attempts + 1, round_attempts: row.round_attempts + 1 }, endpoint, secrets, lease };
    });
  }

  async #attempt(row: MessageRow, endpoint: EndpointRow, secrets: string[], lease: number): Promise<void> {
    const at = this.#clock();
    const report = await deliver({ url: endpoint.url, messageId: row.id, body: row.body, secrets, at, timeoutMs: this.#timeoutMs }, this.#fetch);
    const done = this.#clock();
    const verdict = classifyAttempt(report.result);
    this.#storage.transaction(() => {
      // Deleted while the attempt was in flight: nothing left to record it against.
      const current = getEndpointRow(this.#sql, endpoint.id);
      if (current === null) return;
      const next = planMessage(verdict, row.round_attempts, done, this.#random, this.#schedule);
      const record = { statusCode: report.statusCode, error: report.error };
      // A stale answer (the lease was given up and the message moved on) is logged, not applied.
      if (holdsLease(this.#sql, row.id, lease)) {
        if (next.status === "pending") rescheduleMessage(this.#sql, row.id, next.nextAttemptAt, record);
        else finishMessage(this.#sql, row.id, next.status, record, done);
      }
      appendAttempt(this.#sql, {
        endpointId: endpoint.id,
        messageId: row.id,
        attempt: row.attempts,
        at,
        outcome: verdict.action === "succeeded" ? "succeeded" : verdict.action === "gone" ? "gone" : "failed",
        statusCode: report.statusCode,
        latencyMs: report.latencyMs,
        error: report.error,
        response: report.response,
      });
      // The endpoint's failure clock as read in this transaction: other attempts may have moved it meanwhile.
      const plan = planEndpoint(verdict, current.failing_since, done);
      if (plan.failingSince !== current.failing_since) setFailingSince(this.#sql, endpoint.id, plan.failingSince);
      if (plan.disable !== null) disableEndpoint(this.#sql, endpoint.id, plan.disable, done);
    });
  }

  // ---- admin operations -------------------------------------------------------------------------

  #checkUrl(url: string): Outcome<string> {
    const verdict = checkEndpointUrl(url, { allowLoopback: this.#allowLoopback });
    return verdict.ok ? success(verdict.url) : failure(400, "webhook_url_refused", verdict.message, { reason: verdict.reason });
  }

  #endpoint(id: string): Outcome<EndpointRow> {
    const row = getEndpointRow(this.#sql, id);
    return row === null ? failure(404, "webhook_endpoint_not_found", `no webhook endpoint ${id.slice(0, 64)}`) : success(row);
  }

  #enabledEndpoint(id: string): Outcome<EndpointRow> {
    const found = this.#endpoint(id);
    if (found.ok && found.value.enabled !== 1) {
      return failure(409, "webhook_endpoint_disabled", `endpoint ${id} is disabled (${found.value.disabled_reason ?? "operator"}); enable it first`, {
        reason: found.value.disabled_reason,
      });
    }
    return found;
  }

  createEndpoint(input: EndpointCreate, now: number): Outcome<EndpointWithSecret> {
    const url = this.#checkUrl(input.url);
    if (!url.ok) return url;
    return this.#storage.transaction(() => {
      if (countEndpoints(this.#sql) >= MAX_ENDPOINTS) {
        return failure(409, "webhook_endpoint_limit", `a fleet has at most ${MAX_ENDPOINTS} webhook endpoints`, { limit: MAX_ENDPOINTS });
      }
      const enabled = input.enabled ?? true;
      // The first enabled endpoint starts with the events that happen from now on.
      if (enabled && countEnabledEndpoints(this.#sql) === 0) skipOutboxBacklog(this.#sql);
      const id = newEndpointId();
      const secret = insertEndpoint(this.#sql, { id, url: url.value, eventTypes: input.eventTypes ?? [], enabled, description: input.description ?? "" }, now);
      return success({ endpoint: endpointView(this.#sql, getEndpointRow(this.#sql, id)!, now), secret });
    });
  }

  listEndpoints(now: number): EndpointView[] {
    return listEndpointRows(this.#sql).map((row) => endpointView(this.#sql, row, now));
  }

  getEndpoint(id: string, now: number): Outcome<EndpointView> {
    const row = this.#endpoint(id);
    return row.ok ? success(endpointView(this.#sql, row.value, now)) : row;
  }

  updateEndpoint(id: string, patch: EndpointPatch, now: number): Outcome<EndpointView> {
    let url: string | undefined;
    if (patch.url !== undefined) {
      const checked = this.#checkUrl(patch.url);
      if (!checked.ok) return checked;
      url = checked.value;
    }
    return this.#storage.transaction(() => {
      const row = this.#endpoint(id);
      if (!row.ok) return row;
      if (patch.enabled === true && row.value.enabled !== 1 && countEnabledEndpoints(this.#sql) === 0) skipOutboxBacklog(this.#sql);
      updateEndpoint(
        this.#sql,
        row.value,
        {
          ...(url === undefined ? {} : { url }),
          ...(patch.eventTypes === undefined ? {} : { eventTypes: patch.eventTypes }),
          ...(patch.description === undefined ? {} : { description: patch.description }),
          ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
        },
        now,
      );
      return success(endpointView(this.#sql, getEndpointRow(this.#sql, id)!, now));
    });
  }

  deleteEndpoint(id: string): Outcome<{ deleted: string }> {
    return this.#storage.transaction(() => {
      const row = this.#endpoint(id);
      if (!row.ok) return row;
      deleteEndpoint(this.#sql, id);
      return success({ deleted: id });
    });
  }

  rotateSecret(id: string, now: number): Outcome<EndpointWithSecret & { previousValidUntil: string }> {
    return this.#storage.transaction(() => {
      const row = this.#endpoint(id);
      if (!row.ok) return row;
      const rotated = rotateSecret(this.#sql, id, now);
      return success({
        endpoint: endpointView(this.#sql, row.value, now),
        secret: rotated.secret,
        previousValidUntil: new Date(rotated.previousValidUntil).toISOString(),
      });
    });
  }

  listAttempts(id: string, before: number | null, limit: number): Outcome<Page<AttemptView>> {
    const row = this.#endpoint(id);
    if (!row.ok) return row;
    const size = Math.min(Math.max(1, limit), PAGE_MAX);
    const items = listAttempts(this.#sql, id, before, size);
    return success({ items, next: items.length === size ? items[items.length - 1]!.seq : null });
  }

  listMessages(id: string, before: number | null, limit: number): Outcome<Page<MessageView & { seq: number }>> {
    const row = this.#endpoint(id);
    if (!row.ok) return row;
    const size = Math.min(Math.max(1, limit), PAGE_MAX);
    const rows = listMessages(this.#sql, id, before, size);
    return success({ items: rows.map((r) => ({ seq: r.seq, ...messageView(r) })), next: rows.length === size ? rows[rows.length - 1]!.seq : null });
  }

  replayMessage(id: string, messageId: string, now: number): Outcome<MessageView> {
    return this.#storage.transaction(() => {
      const endpoint = this.#endpoint(id);
      if (!endpoint.ok) return endpoint;
      const message = getMessage(this.#sql, id, messageId);
      if (message === null) return failure(404, "webhook_message_not_found", `endpoint ${id} has no message ${messageId.slice(0, 64)}`);
      const row = this.#enabledEndpoint(id);
      if (!row.ok) return row;
      replayMessage(this.#sql, messageId, now);
      return success(messageView(getMessage(this.#sql, id, messageId)!));
    });
  }

  replaySince(id: string, since: number, now: number): Outcome<{ replayed: number; limit: number }> {
    return this.#storage.transaction(() => {
      const row = this.#enabledEndpoint(id);
      if (!row.ok) return row;
      return success({ replayed: replaySince(this.#sql, id, since, now, REPLAY_MAX), limit: REPLAY_MAX });
    });
  }

  sendTest(id: string, now: number): Outcome<MessageView> {
    return this.#storage.transaction(() => {
      const row = this.#enabledEndpoint(id);
      if (!row.ok) return row;
      const messageId = newMessageId();
      const body = JSON.stringify(eventEnvelope("webhook.test", { endpointId: id, message: TEST_MESSAGE }, now));
      insertMessage(this.#sql, { id: messageId, endpointId: id, eventType: "webhook.test", outboxId: null, body }, now);
      return success(messageView(getMessage(this.#sql, id, messageId)!));
    });
  }
}
