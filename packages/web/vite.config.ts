import react from "@vitejs/plugin-react";
import { defaultClientConditions, defineConfig, loadEnv } from "vite";

export default defineConfig(({ mode }) => {
  // `vite dev` proxies the API to a Causeway server (CAUSEWAY_URL), so the session cookie and
  // the event stream stay same-origin, as they are when the server serves dist/.
  const target = loadEnv(mode, ".", "CAUSEWAY_").CAUSEWAY_URL ?? "http://127.0.0.1:4811";
  return {
    plugins: [react()],
    base: "/",
    // protocol and core are read as TypeScript sources (their `source` export condition).
    resolve: { conditions: ["source", ...defaultClientConditions] },
    build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
    worker: { format: "es" as const },
    server: { proxy: { "/api": { target }, "/hooks": { target } } },
  };
});
