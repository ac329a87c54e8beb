import type { AuthConfig } from "convex/server";
import { auth0Providers } from "../server/index";

export default { providers: auth0Providers() } satisfies AuthConfig;
