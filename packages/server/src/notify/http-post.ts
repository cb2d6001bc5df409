import { isPermanentRefusal } from "@causeway/core";
import { DeliveryError } from "./sender.js";

/**
 * POSTs a JSON body and waits for the answer, at most `timeoutMs` for the whole exchange: a 2xx
 * answer resolves; anything else rejects with a `DeliveryError` (permanent for a 4xx that trying
 * again will not change).
 */
export async function postJson(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<void> {
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
    const e = error as Error & { cause?: { code?: string; message?: string } };
    if (e.name === "TimeoutError" || e.name === "AbortError")
      throw new DeliveryError(`no answer from ${hostOf(url)} within ${timeoutMs} ms`);
    throw new DeliveryError(`${hostOf(url)}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
  }
  if (response.status >= 200 && response.status < 300) return;
  throw new DeliveryError(
    `${hostOf(url)} answered HTTP ${response.status}${response.statusText === "" ? "" : ` ${response.statusText}`}`,
    isPermanentRefusal(response.status),
  );
}

/** The host of a URL, for messages: never its path or query (they may hold a token). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the URL";
  }
}
