/**
 * The one check of a Convex site URL (`https://<name>.convex.site`), shared by the Post-Login
 * Action (CONVEX_HTTP_URL), the deploy, the doctor and the scripts that call the deployment.
 * Not a Convex function: plain code the bundler and the scripts import.
 */

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The origin of a Convex site URL, or why it is unusable, naming `variable` and never echoing the
 * value whole (it may be a mis-pasted secret). Plain http is accepted only on loopback, for the
 * local stand-in used by tests, the demo and the sandbox.
 */
export function convexSiteOrigin(
  raw: string,
  variable: string,
): { origin: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { problem: `${variable} is not a URL: expected https://<deployment>.convex.site` };
  }
  if (url.hostname.endsWith(".convex.cloud")) {
    const site = url.hostname.replace(/\.convex\.cloud$/, ".convex.site");
    return {
      problem: `${variable} points at ${url.hostname}, the client API, which serves no HTTP routes: use the deployment's .convex.site URL (https://${site})`,
    };
  }
  const local = url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !local) {
    return { problem: `${variable} must be an https URL: https://<deployment>.convex.site` };
  }
  return { origin: url.origin };
}

/** Whether an origin is a Convex cloud site (`*.convex.site`), as opposed to a local stand-in or
 * a proxy in front of one. */
export function isConvexCloudSite(origin: string): boolean {
  return new URL(origin).hostname.endsWith(".convex.site");
}
