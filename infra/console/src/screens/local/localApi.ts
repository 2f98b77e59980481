/** Calls that only the local runtime answers, so they are not in the OpenAPI document the typed client is built
 * from: the e-mail outbox (`GET /local/outbox`, infra/local/outbox.py) and the simulated payment provider's
 * outcome switch (`POST /api/v1/dev/payments/{id}/{outcome}`, devstack/). Both speak problem+json on failure. */
import { ApiError, problemMessage } from "../../api/client";
import { tokens } from "../../api/tokens";
import { config, loadConfig } from "../../config";

export interface OutboxItem {
  id: string;
  number: number;
  /** ISO 8601 with offset, or null when the message had no Date header */
  time: string | null;
  subject: string;
  from: string;
  to: string[];
}

export interface OutboxAttachment {
  filename: string;
  contentType: string;
  size: number;
  /** the content as text for text parts (the .ics), else null */
  text: string | null;
  base64: string;
}

export interface OutboxMail extends OutboxItem {
  text: string | null;
  html: string | null;
  attachments: OutboxAttachment[];
}

export type Outcome = "succeed" | "fail" | "process";

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const access = tokens.access();
  if (access) headers.set("authorization", `Bearer ${access}`);
  let response: Response;
  try {
    response = await fetch(`${config().apiBase}${path}`, { ...init, headers, cache: "no-store" });
  } catch (failure) {
    throw new ApiError(`The API could not be reached (${problemMessage(failure)}).`, 0, failure);
  }
  const type = response.headers.get("content-type") ?? "";
  const body: unknown = type.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(problemMessage(body ?? response.statusText), response.status, body);
  if (body === null) throw new ApiError("The answer was not JSON.", response.status, null);
  return body as T;
}

export function outboxList(): Promise<{ items: OutboxItem[] }> {
  return call("/local/outbox");
}

export function outboxMail(id: string): Promise<OutboxMail> {
  return call(`/local/outbox/${encodeURIComponent(id)}`);
}

let probe: Promise<boolean> | null = null;
let known = false;

/** Whether this API is the local runtime's (its outbox answers with a list): asked once per page load. A deployed
 * console gets a 404 from API Gateway, or index.html from its own origin, and never shows the viewer. */
export function probeOutbox(): Promise<boolean> {
  probe ??= loadConfig()
    .then(() => outboxList())
    .then((answer) => Array.isArray(answer.items))
    .catch(() => false)
    .then((found) => (known = found));
  return probe;
}

/** The probe's answer so far (false until it has answered). */
export function outboxKnown(): boolean {
  return known;
}

/** Make the simulated provider report `outcome` for a payment, as the customer at a card form would: it posts
 * signed webhook events to the API, which confirm (or fail) the booking asynchronously. */
export function simulatePayment(
  paymentId: string,
  outcome: Outcome,
): Promise<{ paymentId: string; events: { id: string; type: string }[] }> {
  return call(`/api/v1/dev/payments/${encodeURIComponent(paymentId)}/${outcome}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
}
