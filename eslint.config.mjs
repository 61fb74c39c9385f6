// ESLint for the TypeScript in this repository: typescript-eslint's recommended rules, no type
// information needed (fast enough for the edit-test loop).
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["node_modules/", "**/dist/", ".pulumi-state/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  // Layout is Prettier's: no stylistic rule may disagree with it.
  prettier,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    // Tests read untyped JSON (plans, state exports, API bodies): `any` there is the honest type.
    files: ["test/**/*.ts", "services/*/test/**/*.ts", "services/*/bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
