#!/usr/bin/env node
/**
 * The installed `convex-auth0-users` bin: runs scripts/cli.ts, the same dispatcher that this
 * repository's `npm run X` scripts call, through tsx (a runtime dependency). The commands are
 * TypeScript because `sandbox` and `demo` load the app's own convex/ files, which are TypeScript
 * too, and the local Auth0 forks TypeScript workers.
 *
 * tsx is pointed at this package's own tsconfig (bin/tsconfig.json), not the app's: an app's
 * settings (verbatimModuleSyntax, paths) must not change how the package's code is compiled.
 * Children inherit TSX_TSCONFIG_PATH, so forked workers compile the same way.
 */
import process from "node:process";
import { fileURLToPath, URL } from "node:url";
import { register } from "tsx/esm/api";

process.env.TSX_TSCONFIG_PATH ??= fileURLToPath(new URL("./tsconfig.json", import.meta.url));
register();
await import("../scripts/cli.ts");
