import js from "@eslint/js";
import tseslint from "typescript-eslint";
import convexPlugin from "@convex-dev/eslint-plugin";
import prettier from "eslint-config-prettier";

export default tseslint.config(
  { ignores: ["node_modules/", "auth0-actions/dist/", "convex/_generated/", "dist/"] },
  // The example app's generated code, as convex codegen writes it.
  { ignores: ["examples/*/convex/_generated/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...convexPlugin.configs.recommended,
  prettier,
  {
    // The module's source is Convex code too, outside `convex/` where the preset looks.
    files: ["server/**/*.ts"],
    plugins: { "@convex-dev": convexPlugin },
    rules: {
      "@convex-dev/no-old-registered-function-syntax": "error",
      "@convex-dev/require-args-validator": "error",
      "@convex-dev/explicit-table-ids": "error",
      "@convex-dev/no-filter-in-query": "warn",
      "@convex-dev/no-top-of-hour-crons": "warn",
      "@convex-dev/no-duplicate-indexes": "error",
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    // The example apps are apps as their developers wrote them: auth.config.ts reads the Auth0
    // tenant from the deployment's variables, as the Convex docs' Auth0 setup does.
    files: ["examples/*/convex/auth.config.ts"],
    rules: { "@convex-dev/no-process-env": "off" },
  },
);
