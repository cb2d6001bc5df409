import { REDACTED, secretForms } from "@causeway/core";

/**
 * Redacts the secrets of a run from its console as it streams (design §6): every form core's
 * `secretForms` gives (plain, JSON-escaped, URL-encoded, base64), multi-line secrets included.
 * A secret may be split across two chunks, so the last `longest form - 1` bytes of what came in
 * are held back, as they came, until the next chunk or the end (`flush`): a bounded delay, and
 * only for runs that have secrets. `held` counts them, so that a restart can have them uploaded
 * again. Works on bytes (as latin1 text), so a multi-byte character cut between chunks is never
 * damaged.
 */
export class LogRedactor {
  readonly #forms: readonly string[];
  readonly #keep: number;
  readonly #stars = Buffer.from(REDACTED).toString("latin1");
  #carry = "";

  private constructor(forms: readonly string[]) {
    this.#forms = forms;
    this.#keep = Math.max(...forms.map((f) => f.length)) - 1;
  }

  /** A redactor of `secrets`, or undefined when none is long enough to be redacted. */
  static of(secrets: readonly string[]): LogRedactor | undefined {
    const forms = secretForms(secrets).map((f) => Buffer.from(f, "utf8").toString("latin1"));
    return forms.length === 0 ? undefined : new LogRedactor([...new Set(forms)].sort((a, b) => b.length - a.length));
  }

  /** Console bytes taken and held back, not redacted yet. */
  get held(): number {
    return this.#carry.length;
  }

  /** What of the console so far may be written now, redacted. */
  push(chunk: Uint8Array): Buffer {
    const text = this.#carry + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
    const cut = this.#after(text, Math.max(0, text.length - this.#keep));
    this.#carry = text.slice(cut);
    return Buffer.from(this.#redact(text.slice(0, cut)), "latin1");
  }

  /** `cut`, moved past every secret that starts before it and ends after it (it goes out whole). */
  #after(text: string, cut: number): number {
    for (let moved = true; moved;) {
      moved = false;
      for (const form of this.#forms) {
        const at = text.indexOf(form, Math.max(0, cut - form.length + 1));
        if (at !== -1 && at < cut && at + form.length > cut) {
          cut = at + form.length;
          moved = true;
        }
      }
    }
    return cut;
  }

  /** The rest, at the end of the console. */
  flush(): Buffer {
    const rest = this.#redact(this.#carry);
    this.#carry = "";
    return Buffer.from(rest, "latin1");
  }

  #redact(text: string): string {
    let out = text;
    for (const form of this.#forms) if (out.includes(form)) out = out.split(form).join(this.#stars);
    return out;
  }
}
