/** The typed API client: `openapi-fetch` over the `paths` generated from the OpenAPI document the API serves
 * (`npm run generate`), so a contract change breaks `tsc`, not the console's users. */
import createClient, { type Middleware } from "openapi-fetch";

import { config } from "../config";
import type { paths } from "./schema";
import { tokens } from "./tokens";

/** Sends each call to the configured API base (config.json when deployed, this origin locally) with the
 * session's bearer token. The base is only known after loadConfig(), so it is applied per request. */
const toApi: Middleware = {
  async onRequest({ request }) {
    const access = tokens.access();
    if (access && !request.headers.has("authorization")) request.headers.set("authorization", `Bearer ${access}`);
    const url = new URL(request.url, window.location.origin);
    if (url.origin === config().apiBase) return request;
    // Another origin (deployed: config.json's apiBase). The body is read whole, not streamed: a streamed request
    // body needs HTTP/2 in Chromium, and these bodies are small JSON.
    const body = request.method === "GET" || request.method === "HEAD" ? null : await request.arrayBuffer();
    return new Request(`${config().apiBase}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body,
      signal: request.signal,
    });
  },
  onResponse({ request, response }) {
    // Still 401 after the retry below: the session is over (revoked, or the refresh token expired).
    if (response.status === 401 && request.headers.has("authorization")) tokens.onUnauthorised();
    return undefined;
  },
};

const AUTH_ROUTES = /\/api\/v1\/auth\//;

/** fetch, retried once with a fresh access token when a call that carried one is refused with 401: a laptop that
 * slept past the token's expiry delays the background refresh, and the first call after waking must not fail. */
async function fetchRefreshingOnce(input: Request): Promise<Response> {
  const again = input.clone();
  const response = await fetch(input);
  if (response.status !== 401 || !input.headers.has("authorization") || AUTH_ROUTES.test(input.url)) return response;
  if (!(await tokens.refresh())) return response;
  again.headers.set("authorization", `Bearer ${tokens.access() ?? ""}`);
  return fetch(again);
}

export const api = createClient<paths>({ baseUrl: "", fetch: fetchRefreshingOnce });
api.use(toApi);

export interface FieldError {
  location?: string[];
  message?: string;
}

/** A problem+json body (RFC 9457) as one human sentence: its `detail` (or `title`), then each field error. */
export function problemMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  if (error && typeof error === "object") {
    const problem = error as { detail?: unknown; title?: unknown; errors?: unknown };
    const head =
      typeof problem.detail === "string" && problem.detail
        ? problem.detail
        : typeof problem.title === "string" && problem.title
          ? problem.title
          : "The request failed.";
    const fields = Array.isArray(problem.errors)
      ? (problem.errors as FieldError[])
          .map((field) => {
            const where = (field.location ?? []).filter((part) => part !== "body").join(".");
            return where ? `${where}: ${field.message ?? "invalid"}` : (field.message ?? "");
          })
          .filter(Boolean)
      : [];
    return fields.length ? `${head} (${fields.join("; ")})` : head;
  }
  return "The request failed.";
}

/** Thrown by `unwrap` with the problem's sentence; `status` is the HTTP status (0 when the network failed). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problem: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The data of an openapi-fetch answer, or an ApiError carrying its problem+json as a sentence. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await call;
  } catch (failure) {
    throw new ApiError(`The API could not be reached (${problemMessage(failure)}).`, 0, failure);
  }
  if (answer.error !== undefined || !answer.response.ok) {
    throw new ApiError(problemMessage(answer.error), answer.response.status, answer.error);
  }
  return answer.data as T;
}
