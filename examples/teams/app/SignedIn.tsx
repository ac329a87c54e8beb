"use client";

import type { ReactNode } from "react";
import { useStoreUserEffect } from "./useStoreUserEffect";

/** Renders its children once the signed-in user's row exists; a login link otherwise. */
export function SignedIn({ children }: { children: ReactNode }) {
  const { isLoading, isAuthenticated } = useStoreUserEffect();
  if (isLoading) return <p>Loading…</p>;
  if (!isAuthenticated) {
    // A plain link: the SDK's /auth/login route starts the login (no prefetch).
    return <a href="/auth/login">Log in</a>;
  }
  return children;
}
