import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import globals from "globals";

// Package boundaries of design §5: each package lists what it must never import.
const pkg = (names, message) => ({ group: names.map((n) => `@causeway/${n}`), message });
const boundaries = {
  core: {
    patterns: [
      { group: ["node:*"], message: "core is pure: no node:* imports (pass I/O in through an interface)." },
      { group: ["@causeway/*"], message: "core imports nothing internal." },
    ],
    paths: ["fs", "path", "child_process", "os", "http", "https", "net", "crypto", "process"].map((name) => ({
      name,
      message: "core is pure: no Node built-ins.",
    })),
  },
  protocol: {
    patterns: [
      { group: ["node:*"], message: "protocol is wire schemas only." },
      { group: ["@causeway/*"], message: "protocol imports nothing internal." },
    ],
  },
  store: { patterns: [pkg(["engine", "runner", "server", "cli", "protocol"], "store depends on core only.")] },
  engine: {
    patterns: [
      pkg(
        ["store", "runner", "server", "cli", "protocol"],
        "engine uses the store and runner through core's ports only; composition roots wire them.",
      ),
    ],
  },
  runner: {
    patterns: [pkg(["store", "engine", "server", "cli"], "runner, cli and web never import server or store code.")],
  },
  server: { patterns: [pkg(["cli"], "the server never imports the CLI.")] },
  cli: {
    patterns: [pkg(["server", "store", "engine", "runner"], "cli talks to the server only through protocol.")],
  },
};

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "coverage/**", "bench/results/**", "**/*.d.ts", "**/*.d.mts"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "*.ts", "packages/cli/bin/*.js"] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    plugins: { "import-x": importX },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "import-x/no-cycle": "error",
      "no-restricted-syntax": [
        "error",
        { selector: "TSEnumDeclaration", message: "use a string-literal union or an as-const object" },
      ],
    },
  },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
  ...Object.entries(boundaries).map(([name, rule]) => ({
    files: [`packages/${name}/src/**/*.ts`],
    rules: { "no-restricted-imports": ["error", rule] },
  })),
  {
    // The web UI runs in the browser and talks to the server only through protocol's route
    // table; of core it reads only the pure console parser.
    files: ["packages/web/src/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["node:*"], message: "the web UI runs in the browser." },
            pkg(
              ["server", "store", "engine", "runner", "cli"],
              "runner, cli and web never import server or store code.",
            ),
          ],
          paths: [
            { name: "@causeway/core", message: "import @causeway/core/console (pure), not core's node-facing index." },
          ],
        },
      ],
    },
  },
  {
    // import-x's cycle check cannot resolve vite's plugin types; a config file is in no cycle.
    files: ["packages/web/vite.config.ts"],
    rules: { "import-x/no-cycle": "off" },
  },
  {
    // The server reads the engine's state through `engine.view` (engine/src/view.ts), never its
    // read model, which is the scheduler's own.
    files: ["packages/server/src/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: "TSEnumDeclaration", message: "use a string-literal union or an as-const object" },
        {
          selector: "MemberExpression[property.name='model'][object.property.name='engine']",
          message: "read the engine through engine.view, not its read model",
        },
        {
          selector: "MemberExpression[property.name='model'][object.name='engine']",
          message: "read the engine through engine.view, not its read model",
        },
      ],
    },
  },
  {
    files: ["**/*.test.ts", "bench/**/*.ts", "scripts/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
    },
  },
);
