/**
 * References to the module's own functions. An app serves them from one file, `convex/auth0.ts`
 * (`export * from "convex-auth0-users/functions"`), so each is the path `auth0:<name>`: what
 * `api.auth0.<name>` names in the app's own generated api. Typed from server/functions.ts as
 * Convex's generated api.d.ts types an app's modules.
 */
import { anyApi, type ApiFromModules, type FilterApi, type FunctionReference } from "convex/server";
import type * as functions from "./functions";

/** The file (module path) an app serves the module's functions from. */
export const FUNCTIONS_MODULE = "auth0";

type ModuleApi = ApiFromModules<{ auth0: typeof functions }>;

// anyApi builds any path at run time; the types say which paths exist (as _generated/api.d.ts).
/* eslint-disable @typescript-eslint/no-explicit-any */
export const api: FilterApi<ModuleApi, FunctionReference<any, "public">> = anyApi as any;
export const internal: FilterApi<ModuleApi, FunctionReference<any, "internal">> = anyApi as any;
/* eslint-enable @typescript-eslint/no-explicit-any */
