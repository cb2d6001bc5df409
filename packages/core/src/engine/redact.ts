/**
 * Redaction of secret values (design §6): every form a secret takes in text that leaves the
 * server is replaced by `***`. Used for notification payloads; made general (any JSON value)
 * so that logs and API answers can use it too.
 */

/** What a secret is replaced by. */
export const REDACTED = "***";

/**
 * Values shorter than this are not redacted: a secret of two characters would turn every
 * text into stars and tell, by where they are, what it is. Documented in docs/semantics.md.
 */
export const MIN_SECRET_LENGTH = 4;

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// UTF-8 bytes without TextEncoder (core sees no platform API): encodeURIComponent writes every
// byte outside its unreserved ASCII set as %XX. A lone surrogate (no UTF-8 form) gives code units.
function utf8(text: string): number[] {
  let encoded: string;
  try {
    encoded = encodeURIComponent(text);
  } catch {
    return [...text].map((c) => c.charCodeAt(0) & 0xff);
  }
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === "%") {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(encoded.charCodeAt(i));
  }
  return bytes;
}

function base64(bytes: readonly number[]): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < chars; c++) out += B64[(n >> (18 - 6 * c)) & 63];
  }
  return out;
}

/**
 * The base64 text a secret's bytes always produce when they are encoded inside a longer text
 * (`user:secret` in a basic-auth header), at each of the three alignments: only the characters
 * made of the secret's bits alone, which do not depend on what comes before or after.
 */
function base64Forms(secret: string): string[] {
  const bytes = utf8(secret);
  const forms: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = [...new Array<number>(shift).fill(0), ...bytes];
    const text = base64(padded);
    const first = Math.ceil((8 * shift) / 6);
    const last = Math.floor((8 * padded.length) / 6);
    const form = text.slice(first, last);
    if (form.length >= MIN_SECRET_LENGTH) forms.push(form);
  }
  // The whole encoding too, with its padding: a secret encoded alone.
  const whole = base64(bytes);
  forms.push(whole + "=".repeat((4 - (whole.length % 4)) % 4));
  return forms;
}

/**
 * Every text form of `secrets` to redact: each as is, JSON-escaped (inside a JSON string),
 * URL-encoded, and in base64 (alone, and inside a longer encoded text). Longest first, so a form
 * that contains another is replaced whole. Secrets shorter than MIN_SECRET_LENGTH are left out.
 */
export function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
    for (const form of base64Forms(secret)) forms.add(form);
  }
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** `text` with every form of `secrets` replaced by `***`. */
export function redactText(text: string, secrets: readonly string[]): string {
  return redactWithForms(text, secretForms(secrets));
}

function redactWithForms(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
  return out;
}

/**
 * A copy of a JSON value with every form of `secrets` replaced by `***` in every string, keys
 * included, at any depth. Other values are kept as they are.
 */
export function redactSecrets<T>(value: T, secrets: readonly string[]): T {
  const forms = secretForms(secrets);
  if (forms.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redactWithForms(v, forms);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[redactWithForms(k, forms)] = walk(item);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}
