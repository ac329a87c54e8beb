import { NextResponse } from "next/server";
import { auth0 } from "@/lib/auth0";

// The session's ID token, for Convex (auth.config.ts's applicationID is the Client ID, the ID
// token's audience). Only the browser holding the session cookie gets it.
export async function GET(request: Request) {
  if (new URL(request.url).searchParams.has("refresh")) {
    await auth0.getAccessToken({ refresh: true }).catch(() => null);
  }
  const session = await auth0.getSession();
  const token = session?.tokenSet.idToken ?? null;
  return NextResponse.json({ token }, { status: token ? 200 : 401 });
}
