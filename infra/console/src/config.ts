/** Where the API lives. Deployed, `config.json` next to index.html names it (written at deploy time);
 * locally the runtime serves the console and the API from one origin, so the fallback is this page's origin. */
export interface ConsoleConfig {
  apiBase: string;
}

let loaded: ConsoleConfig | null = null;

export async function loadConfig(): Promise<ConsoleConfig> {
  if (loaded) return loaded;
  let apiBase = window.location.origin;
  try {
    const answer = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
    if (answer.ok && (answer.headers.get("content-type") ?? "").includes("json")) {
      const body = (await answer.json()) as Partial<ConsoleConfig>;
      if (typeof body.apiBase === "string" && body.apiBase) apiBase = body.apiBase.replace(/\/+$/, "");
    }
  } catch {
    // No config.json (the local runtime): same origin.
  }
  loaded = { apiBase };
  return loaded;
}

export function config(): ConsoleConfig {
  if (!loaded) throw new Error("loadConfig() has not finished");
  return loaded;
}
