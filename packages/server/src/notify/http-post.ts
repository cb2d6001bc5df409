import { isPermanentRefusal } from "@causeway/core";
import { DeliveryError } from "./sender.js";

/**
 * POSTs a JSON body and waits for the answer, at most `timeoutMs` for the whole exchange: a 2xx
 * answer resolves; anything else rejects with a `DeliveryError`, permanent when trying again
 * cannot change it (a 4xx refusal, a URL that cannot be sent to: `unusableUrl`, `fetchFailure`).
 */
export async function postJson(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<void> {
  const unusable = unusableUrl(url);
  if (unusable !== undefined) throw new DeliveryError(unusable, true);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Causeway", ...headers },
      body,
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body is read (and dropped) within the same time limit.
    await response.arrayBuffer();
  } catch (error) {
    throw fetchFailure(error, url, timeoutMs);
  }
  if (response.status >= 200 && response.status < 300) return;
  throw new DeliveryError(
    `${hostOf(url)} answered HTTP ${response.status}${response.statusText === "" ? "" : ` ${response.statusText}`}`,
    isPermanentRefusal(response.status),
  );
}

/**
 * Why a URL can never be posted to, whatever its receiver does (undefined: it can be tried): not
 * a URL, a scheme other than http and https (fetch would answer `data:` itself), or credentials
 * in it (fetch refuses them). The reason names the scheme at most, never the URL (its path or
 * query may hold a token).
 */
export function unusableUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "the URL is not valid";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    return `the URL's scheme ${parsed.protocol.slice(0, -1)} is not supported (http or https)`;
  if (parsed.username !== "" || parsed.password !== "")
    return `${parsed.host}: a URL with credentials cannot be fetched (use the integration's secret instead)`;
  return undefined;
}

// undici's reasons (the `cause` of fetch's "fetch failed") that no later attempt changes: a port
// that fetch blocks (the Fetch standard's "bad port" list: 1, 6000, 6667...), a scheme it does
// not fetch, a URL it cannot parse.
const PERMANENT_CAUSES: readonly string[] = ["bad port", "unknown scheme", "not implemented... yet..."];
const PERMANENT_CODES: readonly string[] = ["ERR_INVALID_URL"];

/**
 * The `DeliveryError` of a failed fetch: permanent for a URL fetch will never send to (a blocked
 * port, an invalid URL, an unsupported scheme: trying again cannot help), transient for the rest
 * (a refused or reset connection, a timeout, a name that does not resolve yet), which the outbox
 * retries with its backoff.
 */
export function fetchFailure(error: unknown, url: string, timeoutMs: number): DeliveryError {
  const e = (error instanceof Error ? error : new Error(String(error))) as Error & {
    cause?: { code?: string; message?: string };
  };
  if (e.name === "TimeoutError" || e.name === "AbortError")
    return new DeliveryError(`no answer from ${hostOf(url)} within ${timeoutMs} ms`);
  const code = e.cause?.code;
  const reason = e.cause?.message;
  // fetch's own messages may quote the URL: only its host goes into a message.
  const message = url === "" ? e.message : e.message.split(url).join(hostOf(url));
  if (
    (code !== undefined && PERMANENT_CODES.includes(code)) ||
    (reason !== undefined && PERMANENT_CAUSES.includes(reason))
  )
    return new DeliveryError(`${hostOf(url)}: ${reason ?? code ?? message} (fetch never sends to this URL)`, true);
  return new DeliveryError(`${hostOf(url)}: ${code ?? reason ?? message}`);
}

/** The host of a URL, for messages: never its path or query (they may hold a token). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the URL";
  }
}
