/**
 * Renders hooks under the real `ConvexProviderWithAuth0` with the fake Auth0 SDK, or under the real
 * `ConvexProviderWithAuth` with a Next.js app's `useAuth` on `@auth0/nextjs-auth0` (both fakes
 * share one session), and a Convex client backed by convex-test (see the helpers next to this file).
 */
import { cleanup, renderHook } from "@testing-library/react";
import { convexTest } from "convex-test";
import { ConvexProviderWithAuth, useConvexAuth } from "convex/react";
import { ConvexProviderWithAuth0 } from "convex/react-auth0";
import { useSyncExternalStore, type ReactNode } from "react";
import { afterEach, beforeEach, expect, vi } from "vitest";
import schema from "../../../convex/schema";
import { auth0, session } from "./fakeAuth0";
import { tokenRequests, tokenRouteFetch, useAuthFromNextjsAuth0 } from "./fakeNextjsAuth0";
import { TestConvexClient } from "./testConvexClient";

const modules = import.meta.glob("../../../convex/**/*.*s");

/** The deployment's Auth0 tenant: `auth0.store` only merges identities of configured issuers. */
export const DOMAIN = "tenant.us.auth0.com";
export const ISS = `https://${DOMAIN}/`;

/** Which React auth setup the app has. */
export type Provider = "auth0-react" | "nextjs-auth0";
export const PROVIDERS: Provider[] = ["auth0-react", "nextjs-auth0"];

/** The signed-in Auth0 user id as the app reads it from its SDK (both read the one session). */
export function useSessionSubject(): string | undefined {
  const s = useSyncExternalStore(session.subscribe, session.get);
  return session.user(s)?.sub;
}

/** Renders its children only once Convex has accepted the user: a signed-in-only page. */
function WhenSignedIn({ children }: { children: ReactNode }) {
  return useConvexAuth().isAuthenticated ? children : null;
}

/**
 * Renders `hook` under the providers; `states` records every value it returned, in order.
 * `strict` renders in React StrictMode; `signedInOnly` mounts the hook only once signed in, the
 * way a page behind a login does (StrictMode then runs its mount effects twice while signed in).
 */
export function renderWithConvex<T>(
  hook: () => T,
  options: { strict?: boolean; signedInOnly?: boolean; provider?: Provider } = {},
) {
  process.env.AUTH0_DOMAIN = DOMAIN;
  auth0.reset();
  const t = convexTest({ schema, modules, transactionLimits: true });
  const client = new TestConvexClient(t);
  const states: T[] = [];
  tokenRequests.length = 0;
  const page = (children: ReactNode) =>
    options.signedInOnly ? <WhenSignedIn>{children}</WhenSignedIn> : children;
  const wrapper =
    options.provider === "nextjs-auth0"
      ? ({ children }: { children: ReactNode }) => {
          return (
            <ConvexProviderWithAuth client={client} useAuth={useAuthFromNextjsAuth0}>
              {page(children)}
            </ConvexProviderWithAuth>
          );
        }
      : ({ children }: { children: ReactNode }) => (
          <ConvexProviderWithAuth0 client={client}>{page(children)}</ConvexProviderWithAuth0>
        );
  // The page's `fetch` reaches the app's token route (only the Next.js setup calls it).
  if (options.provider === "nextjs-auth0") vi.stubGlobal("fetch", tokenRouteFetch);
  const rendered = renderHook(
    () => {
      const value = hook();
      states.push(value);
      return value;
    },
    { wrapper, reactStrictMode: options.strict ?? false },
  );
  return { t, client, states, ...rendered };
}

/** Lets pending promises and timers (the client's async auth and queries) run. */
export function settle(ms = 30): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Registers the per-test guards every hook test file needs: unmount after each test (without
 * vitest globals Testing Library does not do it by itself, and the fake Auth0 is shared), and fail
 * on any console.error, through which React reports effects' unhandled problems and act() misuse.
 */
export function installReactTestGuards(): void {
  let errorSpy: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    errorSpy = vi.spyOn(console, "error");
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
    expect(errorSpy).not.toHaveBeenCalled();
    errorSpy.mockRestore();
  });
}
