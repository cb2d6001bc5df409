import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import globals from "globals";

// Package boundaries of design §5: each package lists what it must never import.
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
  cli: {
    patterns: [
      {
        group: ["@causeway/server", "@causeway/store", "@causeway/engine"],
        message: "cli talks to the server only through protocol.",
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "coverage/**", "bench/results/**", "**/*.d.ts"] },
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
  { files: ["packages/core/src/**/*.ts"], rules: { "no-restricted-imports": ["error", boundaries.core] } },
  { files: ["packages/cli/src/**/*.ts"], rules: { "no-restricted-imports": ["error", boundaries.cli] } },
  {
    files: ["**/*.test.ts", "bench/**/*.ts", "scripts/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
    },
  },
);
