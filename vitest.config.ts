import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Three environments, split by folder: Convex functions run in the edge runtime like convex-test
// recommends; the Action, the emulators and scripts run in Node; the React hook in jsdom.
export default defineConfig({
  test: {
    // Vitest runs cores - 1 files at once: one at a time on a 2-core CI machine. Most files spend
    // their time waiting (child processes, emulated build delays, real rate limits), so two at once
    // nearly halve the suite's wall time there; with more cores this is Vitest's own default.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        test: {
          name: "convex",
          include: ["tests/convex/**/*.test.ts"],
          environment: "edge-runtime",
          setupFiles: ["tests/setup/productionLimits.ts"],
          server: { deps: { inline: ["convex-test"] } },
        },
      },
      {
        test: {
          name: "node",
          include: ["tests/node/**/*.test.ts"],
          environment: "node",
          server: { deps: { inline: ["convex-test"] } },
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "react",
          include: ["tests/react/**/*.test.tsx"],
          environment: "jsdom",
          setupFiles: ["tests/setup/productionLimits.ts"],
          // convex-test for import.meta.glob; convex so that its react-auth0 provider sees the mocked
          // @auth0/auth0-react and shares one React context module with the hooks.
          server: { deps: { inline: ["convex-test", "convex"] } },
        },
      },
    ],
  },
});
