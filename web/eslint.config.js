import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules", "../src/runyard/server/studio_dist"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ["scripts/**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
  {
    rules: {
      // User data is text, always: the one HTML sink is the sanitized Markdown module.
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: "render data as text (textContent / JSX)" },
        { property: "outerHTML", message: "render data as text" },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
);
