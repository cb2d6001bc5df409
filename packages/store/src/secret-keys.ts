import { CausewayError } from "@causeway/core";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";

/** The key file of the embedded default, in the data directory. */
export const SECRET_KEY_FILE = "secret.key";

/** One AES-256 key and its id (the first 12 hex digits of its SHA-256: a wrong key has another id). */
export interface SecretKey {
  readonly id: string;
  readonly key: Buffer;
}

/** A value encrypted with AES-256-GCM: the id of its key, a random 12-byte IV, the auth tag, the ciphertext (base64). */
export interface SealedValue {
  readonly keyId: string;
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

/** Where the key comes from: a key file (created on first use when missing), or a text (an environment variable). */
export type SecretKeySource = { readonly file: string } | { readonly text: string; readonly name: string };

/** The id of a key. */
export function keyIdOf(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 12);
}

/** A new random key. */
export function newSecretKey(): SecretKey {
  const key = randomBytes(32);
  return { id: keyIdOf(key), key };
}

const PREFIX = "enc:v1:";

/**
 * The keys of the integration store: the current one encrypts, every one of them decrypts.
 * During a rotation it holds the new key (current) and the old one (previous), so whatever the
 * database holds at any moment of the rotation decrypts. Values are sealed with AES-256-GCM, a
 * random 12-byte IV each, and opened only when their auth tag checks.
 */
export class SecretKeyRing {
  #keys: SecretKey[];
  /** The key file, when the keys come from one (rotation rewrites it); undefined for a text key. */
  readonly file: string | undefined;

  constructor(keys: readonly SecretKey[], file?: string) {
    if (keys.length === 0) throw new CausewayError("SECRET_KEY_INVALID", "the secret key ring has no key");
    this.#keys = [...keys];
    this.file = file;
  }

  /** The id of the key that encrypts. */
  get currentId(): string {
    return this.#keys[0]!.id;
  }

  /** The ids of every key, current first. */
  get ids(): string[] {
    return this.#keys.map((k) => k.id);
  }

  /** Encrypts `plain` under the current key. */
  seal(plain: string): SealedValue {
    const { id, key } = this.#keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return {
      keyId: id,
      iv: iv.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
      data: data.toString("base64"),
    };
  }

  /** Decrypts a sealed value; SECRET_KEY_INVALID naming the key id when the key is not here or the tag does not check. */
  open(sealed: SealedValue): string {
    const key = this.#keys.find((k) => k.id === sealed.keyId);
    if (key === undefined) throw missingKey(sealed.keyId, this.ids);
    try {
      const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(sealed.iv, "base64"));
      decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
      return Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()]).toString("utf8");
    } catch (error) {
      throw new CausewayError(
        "SECRET_KEY_INVALID",
        `a value sealed with key ${sealed.keyId} does not decrypt (its authentication tag does not match): the stored value was altered`,
        { cause: error },
      );
    }
  }

  /** `seal` as one string (`enc:v1:<keyId>:<iv>:<tag>:<data>`), for a value kept inside JSON text. */
  sealText(plain: string): string {
    const s = this.seal(plain);
    return `${PREFIX}${s.keyId}:${s.iv}:${s.tag}:${s.data}`;
  }

  /** Opens a `sealText` string; any other string is returned as it is (a value stored before encryption). */
  openText(text: string): string {
    const sealed = parseSealedText(text);
    return sealed === undefined ? text : this.open(sealed);
  }

  /** Makes `key` the current key; the others stay, to decrypt what they sealed. */
  promote(key: SecretKey): void {
    this.#keys = [key, ...this.#keys.filter((k) => k.id !== key.id)];
  }

  /** Drops a key that sealed nothing yet (a rotation whose key file could not be written). */
  forget(id: string): void {
    const rest = this.#keys.filter((k) => k.id !== id);
    if (rest.length > 0) this.#keys = rest;
  }

  /** Drops every key but the current one (the end of a rotation). */
  dropPrevious(): void {
    this.#keys = [this.#keys[0]!];
  }

  /** The key file's text: one base64 key a line, current first. */
  toText(): string {
    return this.#keys.map((k) => `${k.key.toString("base64")}\n`).join("");
  }
}

/** The sealed value of a `sealText` string, or undefined for a plain one. */
export function parseSealedText(text: string): SealedValue | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  const [keyId, iv, tag, data] = text.slice(PREFIX.length).split(":");
  if (keyId === undefined || iv === undefined || tag === undefined || data === undefined) return undefined;
  return { keyId, iv, tag, data };
}

function missingKey(id: string, have: readonly string[]): CausewayError {
  return new CausewayError(
    "SECRET_KEY_INVALID",
    `the secret key ${id} is not among the server's keys (${have.join(", ")}): start the server with the key the secrets were encrypted with`,
  );
}

/** The keys of a key text: one base64 key of 32 bytes a line, current first; blank lines and `#` comments skipped. */
export function parseKeyText(text: string, where: string): SecretKey[] {
  const keys: SecretKey[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const key = Buffer.from(line, "base64");
    if (key.length !== 32 || key.toString("base64") !== line) {
      throw new CausewayError(
        "SECRET_KEY_INVALID",
        `${where}, line ${i + 1}: a secret key is 32 bytes in base64 (44 characters), e.g. from \`openssl rand -base64 32\``,
      );
    }
    keys.push({ id: keyIdOf(key), key });
  }
  if (keys.length === 0) throw new CausewayError("SECRET_KEY_INVALID", `${where} holds no key`);
  return keys;
}

/**
 * The key ring of a source. A key file that does not exist is created with a new key, owner-only
 * (0600); one that group or others can read is refused, as ssh refuses a readable key.
 */
export function loadSecretKeys(source: SecretKeySource): SecretKeyRing {
  if ("text" in source) return new SecretKeyRing(parseKeyText(source.text, source.name));
  const { file } = source;
  if (!existsSync(file)) {
    const ring = new SecretKeyRing([newSecretKey()], file);
    writeKeyFile(ring);
    return ring;
  }
  let text: string;
  try {
    const fd = openSync(file, "r");
    try {
      // The mode of what was opened, not of a path someone may swap meanwhile.
      const { mode } = fstatSync(fd);
      if ((mode & 0o077) !== 0) {
        throw new CausewayError(
          "SECRET_KEY_INVALID",
          `the secret key file ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
        );
      }
      text = readFileSync(fd, "utf8");
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof CausewayError) throw error;
    throw new CausewayError(
      "SECRET_KEY_INVALID",
      `cannot read the secret key file ${file}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return new SecretKeyRing(parseKeyText(text, file), file);
}

/**
 * Replaces the ring's key file atomically: a new file beside it (0600), written and fsynced,
 * renamed over the old one, then the directory fsynced. A crash leaves the old file or the new.
 */
export function writeKeyFile(ring: SecretKeyRing): void {
  const file = ring.file;
  if (file === undefined) {
    throw new CausewayError(
      "SECRET_KEY_INVALID",
      "the secret key was given as text (CAUSEWAY_SECRET_KEY): rotate it with a key file (--secret-key-file) instead",
    );
  }
  const tmp = join(dirname(file), `.${SECRET_KEY_FILE}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, ring.toText());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
