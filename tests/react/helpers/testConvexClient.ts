/**
 * A Convex client for `ConvexProviderWithAuth0` whose "deployment" is convex-test: the real
 * `auth0.store` and `auth0.current` run against a real (in-memory) `users` table.
 *
 * It implements the part of `ConvexReactClient` that the provider, `useMutation` and `useQuery`
 * use (`setAuth`, `clearAuth`, `mutation`, `watchQuery`). Like the real client it authenticates
 * with the ID token the provider fetches, turns the token's claims into the identity Convex would
 * (convex-test builds `tokenIdentifier` as `${iss}|${sub}`), runs a mutation under the identity
 * the connection had when it was sent, and re-runs subscribed queries after auth changes and
 * mutations. Results can be held back to reproduce a slow response.
 */
import type { TestConvex } from "convex-test";
import { getFunctionName, type FunctionReference, type UserIdentity } from "convex/server";
import { decodeJwt } from "jose";
import type schema from "../../../convex/schema";

type Fetcher = (args: { forceRefreshToken: boolean }) => Promise<string | null | undefined>;

/** One mutation the hooks sent. */
export interface SentMutation {
  name: string;
  /** `tokenIdentifier` of the identity it ran under; null when sent without auth. */
  tokenIdentifier: string | null;
  /** Delivers a held result (see {@link TestConvexClient.holdResults}). */
  release(): void;
}

interface Watch {
  query: FunctionReference<"query">;
  args: Record<string, unknown>;
  listeners: Set<() => void>;
  result?: { value: unknown } | { error: Error };
}

/** What Convex derives from a verified Auth0 ID token. */
export function identityFromIdToken(token: string): Partial<UserIdentity> {
  const c = decodeJwt(token) as Record<string, unknown>;
  const str = (k: string) => (typeof c[k] === "string" ? (c[k] as string) : undefined);
  return {
    issuer: str("iss"),
    subject: str("sub"),
    tokenIdentifier: `${str("iss")}|${str("sub")}`,
    name: str("name"),
    nickname: str("nickname"),
    email: str("email"),
    emailVerified: typeof c.email_verified === "boolean" ? c.email_verified : undefined,
    pictureUrl: str("picture"),
    updatedAt: str("updated_at"),
    // Convex passes custom claims through (Auth0's org_id, namespaced claims).
    ...Object.fromEntries(
      Object.entries(c).filter(([k]) => k === "org_id" || k.startsWith("https://")),
    ),
  };
}

export class TestConvexClient {
  /** Every mutation sent, in order. */
  readonly sent: SentMutation[] = [];
  private identity: Partial<UserIdentity> | null = null;
  private authGeneration = 0;
  private hold = false;
  private failure: Error | null = null;
  private readonly watches = new Map<string, Watch>();
  private auth: { fetchToken: Fetcher; onChange: (isAuthenticated: boolean) => void } | null = null;

  constructor(private readonly t: TestConvex<typeof schema>) {}

  /** From now on, mutation results wait for `release()` (the mutation itself runs at once). */
  holdResults(hold = true) {
    this.hold = hold;
  }

  /** From now on, mutations fail with this error before reaching the backend (null: stop). */
  failMutations(error: Error | null) {
    this.failure = error;
  }

  // Called by ConvexProviderWithAuth when Auth0 reports a signed-in user (it always passes onChange).
  setAuth(fetchToken: Fetcher, onChange: (isAuthenticated: boolean) => void = () => {}) {
    this.auth = { fetchToken, onChange };
    void this.authenticate(false);
  }

  /** The client's periodic token refresh: fetches a fresh ID token and re-authenticates with it. */
  async refreshToken() {
    await this.authenticate(true);
  }

  private async authenticate(forceRefreshToken: boolean) {
    const auth = this.auth;
    if (!auth) return;
    const generation = ++this.authGeneration;
    const token = await auth.fetchToken({ forceRefreshToken });
    if (generation !== this.authGeneration) return;
    this.identity = token ? identityFromIdToken(token) : null;
    auth.onChange(this.identity !== null);
    await this.refreshQueries();
  }

  clearAuth() {
    this.auth = null;
    this.authGeneration++;
    this.identity = null;
    void this.refreshQueries();
  }

  async mutation(mutation: FunctionReference<"mutation">, args: Record<string, unknown>) {
    const identity = this.identity;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.sent.push({
      name: getFunctionName(mutation),
      tokenIdentifier: identity?.tokenIdentifier ?? null,
      release,
    });
    if (!this.hold) release();
    if (this.failure) {
      const failure = this.failure;
      await released;
      throw failure;
    }
    const backend = identity ? this.t.withIdentity(identity) : this.t;
    const outcome = await backend.mutation(mutation, args).then(
      (value) => ({ value }),
      (error: Error) => ({ error }),
    );
    await this.refreshQueries();
    await released;
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
  }

  watchQuery(query: FunctionReference<"query">, args: Record<string, unknown> = {}) {
    const key = `${getFunctionName(query)}:${JSON.stringify(args)}`;
    const watch = () => {
      let w = this.watches.get(key);
      if (!w) {
        w = { query, args, listeners: new Set() };
        this.watches.set(key, w);
      }
      return w;
    };
    return {
      onUpdate: (callback: () => void) => {
        const w = watch();
        w.listeners.add(callback);
        if (!w.result) void this.runQuery(w);
        return () => {
          w.listeners.delete(callback);
          if (w.listeners.size === 0) this.watches.delete(key);
        };
      },
      localQueryResult: () => {
        const result = this.watches.get(key)?.result;
        if (result && "error" in result) throw result.error;
        return result?.value;
      },
      journal: () => undefined,
    };
  }

  private async runQuery(w: Watch) {
    const backend = this.identity ? this.t.withIdentity(this.identity) : this.t;
    w.result = await backend.query(w.query, w.args).then(
      (value) => ({ value }),
      (error: Error) => ({ error }),
    );
    for (const l of w.listeners) l();
  }

  /** A write made elsewhere (the Action, an event, another tab): re-runs the watched queries, as
   * Convex's reactivity pushes new results to every subscriber. */
  async backendChanged() {
    await this.refreshQueries();
  }

  private async refreshQueries() {
    for (const w of [...this.watches.values()]) await this.runQuery(w);
  }
}
