/**
 * The process the emulated post-login trigger runs Actions in (see postLogin.ts), apart from the
 * tenant like Auth0's own isolated runtime: the bundle is loaded once (module scope is reused
 * between logins), and each message runs one login and answers what the Action did.
 */
import { createRequire } from "node:module";
import type { Event, PostLoginAPI } from "@auth0/actions/post-login/v3";
import { makeApi, makeEvent } from "../auth0Event";

type Handler = (event: Event, api: PostLoginAPI) => Promise<void>;

interface LoginMessage {
  id: number;
  user: Partial<Event["user"]>;
  secrets: Record<string, string>;
  hostname: string;
  organization?: Event["organization"];
  roles?: string[];
}

const { onExecutePostLogin } = createRequire(import.meta.url)(process.argv[2]) as {
  onExecutePostLogin: Handler;
};

// One login at a time, as the parent sends them, so captured lines belong to that login.
let queue = Promise.resolve();
process.on("message", (message: LoginMessage) => {
  queue = queue.then(async () => {
    const event = makeEvent({
      user: message.user,
      secrets: message.secrets,
      request: { hostname: message.hostname },
      organization: message.organization,
      roles: message.roles,
    });
    const { api, state } = makeApi();
    const log: string[] = [];
    const saved = { log: console.log, error: console.error, warn: console.warn };
    console.log =
      console.error =
      console.warn =
        (...args: unknown[]) => void log.push(args.map(String).join(" "));
    let error: string | undefined;
    try {
      await onExecutePostLogin(event, api);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    } finally {
      Object.assign(console, saved);
    }
    process.send!({
      id: message.id,
      log,
      idTokenClaims: state.idTokenClaims,
      denied: state.denied,
      ...(error ? { error } : {}),
    });
  });
});
process.send!({ ready: true });
