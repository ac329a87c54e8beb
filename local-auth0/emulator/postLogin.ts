/**
 * The post-login trigger as Auth0 runs it: the built bundle, in a runtime of its own (a child
 * process, postLoginWorker.ts, that trusts the given CA), `onExecutePostLogin` called with an
 * `event` built from the stored user and an `api` that records claims and denials, within the
 * 20 s a whole login flow has. What the Action prints is captured as its log lines.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Event } from "@auth0/actions/post-login/v3";
import type { StoredUser } from "./users";

/** The whole post-login flow's budget on Auth0. */
export const LOGIN_FLOW_LIMIT_MS = 20_000;

export interface PostLoginResult {
  /** Lines the Action printed (Auth0's real-time logs). */
  log: string[];
  idTokenClaims: Record<string, unknown>;
  /** Reasons given to `api.access.deny`; empty when the login goes on. */
  denied: string[];
  /** The Action threw or ran past the limit: Auth0 fails the login. */
  error?: string;
  ms: number;
}

export interface PostLoginOptions {
  user: StoredUser;
  secrets: Record<string, string>;
  /** The domain the login went through (tenant or custom domain). */
  hostname: string;
  organization?: Event["organization"];
  roles?: string[];
}

export interface PostLoginTrigger {
  run(o: PostLoginOptions): Promise<PostLoginResult>;
  close(): void;
}

const WORKER = resolve(import.meta.dirname, "postLoginWorker.ts");

/** Starts the Action's runtime for the bundle at `bundlePath`, trusting `caPath` for https. */
export async function startPostLogin(
  bundlePath: string,
  caPath?: string,
): Promise<PostLoginTrigger> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child: ChildProcess = fork(WORKER, [bundlePath], {
    execArgv: ["--import", tsx],
    env: { ...process.env, ...(caPath ? { NODE_EXTRA_CA_CERTS: caPath } : {}) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await new Promise<void>((ready, fail) => {
    child.once("message", () => ready());
    child.once("exit", (code) => fail(new Error(`the Action runtime exited (${code})`)));
  });
  let next = 0;
  const pending = new Map<number, (r: Omit<PostLoginResult, "ms">) => void>();
  child.on("message", (m: { id?: number } & Omit<PostLoginResult, "ms">) => {
    if (m.id !== undefined) pending.get(m.id)?.(m);
  });
  return {
    async run(o) {
      const id = ++next;
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const result = await Promise.race([
          new Promise<Omit<PostLoginResult, "ms">>((done) => {
            pending.set(id, done);
            child.send({ id, ...o });
          }),
          new Promise<Omit<PostLoginResult, "ms">>((done) => {
            timer = setTimeout(
              () =>
                done({
                  log: [],
                  idTokenClaims: {},
                  denied: [],
                  error: `the login flow ran past ${LOGIN_FLOW_LIMIT_MS} ms`,
                }),
              LOGIN_FLOW_LIMIT_MS,
            );
          }),
        ]);
        return { ...result, ms: Date.now() - started };
      } finally {
        clearTimeout(timer);
        pending.delete(id);
      }
    },
    close() {
      child.kill();
    },
  };
}
