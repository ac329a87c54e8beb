import { defineConfig } from "vitest/config";

// Convex functions run in convex-test, in the edge runtime as convex-test recommends.
export default defineConfig({
  test: {
    environment: "edge-runtime",
    include: ["tests/**/*.test.ts"],
    server: { deps: { inline: ["convex-test"] } },
  },
});
