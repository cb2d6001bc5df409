export { openSqliteStore, compileSqliteStoreOptions, DATABASE_FILE } from "./sqlite-store.js";
export type { SqliteStoreOptions, CompiledSqliteStoreOptions, SqliteStores } from "./sqlite-store.js";
export { acquireDataDirLock, LOCK_FILE } from "./data-dir-lock.js";
export type { DataDirLock } from "./data-dir-lock.js";
export { FileBlobStore } from "./blob-store.js";
export { FileLogStore } from "./log-store.js";
export { fileError, sqliteError } from "./disk-errors.js";
export {
  SecretKeyRing,
  SECRET_KEY_FILE,
  keyIdOf,
  loadSecretKeys,
  newSecretKey,
  parseKeyText,
  parseSealedText,
  writeKeyFile,
} from "./secret-keys.js";
export type { SecretKey, SecretKeySource, SealedValue } from "./secret-keys.js";
