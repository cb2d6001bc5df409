import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer, type RunningServer, type ServerOptions } from "@causeway/server";

/** A real server on a one-file line, in a directory of its own, for the CLI's end-to-end tests. */
export interface LineServer {
  /** The temporary directory: `line/causeway.yml` and the data directory `data/`. */
  readonly root: string;
  readonly dataDir: string;
  readonly server: RunningServer;
  /** Stops the server and removes the directory. */
  stop(): Promise<void>;
}

/** Starts a server on `line` (the text of `causeway.yml`), not watching it, logging nothing. */
export async function startLineServer(
  name: string,
  line: string,
  options: Partial<ServerOptions> = {},
): Promise<LineServer> {
  const root = await mkdtemp(join(tmpdir(), `causeway-cli-${name}-`));
  const dataDir = join(root, "data");
  const dir = join(root, "line");
  await mkdir(dir);
  await writeFile(join(dir, "causeway.yml"), line);
  const server = await startServer({
    dir,
    port: 0,
    dataDir,
    env: passthroughEnv(process.env),
    logger: silentLogger,
    watch: false,
    ...options,
  });
  return {
    root,
    dataDir,
    server,
    async stop() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
