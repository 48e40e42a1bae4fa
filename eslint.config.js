// ESLint (flat config), run by `npm run lint`: typescript-eslint's
// recommended rules everywhere, plus the type-aware rules that catch promises
// nobody waits for (a lost rejection in a Durable Object or the runner is a
// silent failure). Formatting is prettier's, not ESLint's.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

// Each TypeScript file is checked with the tsconfig that type-checks it (npm run typecheck); the first that includes it wins.
const PROJECTS = [
  "./tsconfig.json",
  "./src/dashboard/browser/tsconfig.json",
  "./sdk/tsconfig.json",
  "./test/worker/tsconfig.json",
  "./test/tsconfig.json",
  "./examples/tsconfig.json",
  "./examples/worker-client/tsconfig.json",
  "./test/worker-client/tsconfig.json",
];
// TypeScript files no tsconfig includes: linted without type information.
const UNTYPED = ["drizzle.config.ts", "bench/apps/**"];

export default tseslint.config(
  { ignores: ["**/node_modules/", "**/dist/", "build/", ".wrangler/", ".squall/", "bench/out/", "test-artifacts/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx"],
    ignores: UNTYPED,
    languageOptions: { parserOptions: { project: PROJECTS, tsconfigRootDir: dirname(fileURLToPath(import.meta.url)) } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
    },
  },
  {
    // Unused arguments and bindings are fine when named so (an interface's signature, a skipped tuple element).
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  // Plain JavaScript: the CLI's bin, the examples and the scripts' helpers run on Node.
  { files: ["**/*.js", "**/*.mjs"], languageOptions: { globals: globals.node } },
);
