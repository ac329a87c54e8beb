/**
 * The deploy's planning, as pure functions: the post-login binding list, the input checks, and
 * the event stream's plan and verification. No tenant is called (see deploy.test.ts for that).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { deployCommit, parsePosition, readDeployInputs } from "../../scripts/lib/deploy/inputs";
import { importAssets } from "../../scripts/lib/deploy/apply";
import { planBindings, planEventStream, type DeployPlan } from "../../scripts/lib/deploy/plan";
import {
  DeployInputError,
  loadTenantSpec,
  type EventStreamSpec,
  type TenantSpec,
} from "../../scripts/lib/deploy/spec";
import { eventStreamProblems } from "../../scripts/lib/deploy/verify";
import type { TenantEventStream } from "../../scripts/lib/managementApi";

const ROOT = resolve(import.meta.dirname, "../..");
const BUNDLE = resolve(ROOT, "auth0-actions/dist/post-login.js");
const OURS = "convex-auth0-users-post-login";
const CLIENT_ID = "deploy-ci-client";
const CLIENT_SECRET = randomBytes(24).toString("base64url");
const ACTION_SECRET = randomBytes(32).toString("base64url");
const EVENTS_TOKEN = randomBytes(32).toString("base64url");
const STREAM = "convex-auth0-users";

describe("binding list planning", () => {
  const current = [
    { actionId: "1", actionName: "a", displayName: "A" },
    { actionId: "2", actionName: OURS, displayName: "old name" },
    { actionId: "3", actionName: "b", displayName: "B" },
  ];
  const me = { actionName: OURS, displayName: "Sync user to Convex" };
  const names = (list: { actionName: string }[]) => list.map((b) => b.actionName);

  it("keeps every other Action in order and puts ours where configured", () => {
    expect(names(planBindings(current, me, { kind: "last" }))).toEqual(["a", "b", OURS]);
    expect(names(planBindings(current, me, { kind: "first" }))).toEqual([OURS, "a", "b"]);
    expect(names(planBindings(current, me, { kind: "before", actionName: "b" }))).toEqual([
      "a",
      OURS,
      "b",
    ]);
    expect(names(planBindings(current, me, { kind: "after", actionName: "b" }))).toEqual([
      "a",
      "b",
      OURS,
    ]);
    expect(planBindings(current, me, { kind: "last" })[0].displayName).toBe("A");
    expect(planBindings([], me, { kind: "last" })).toEqual([me]);
  });

  it("refuses a position relative to an Action that is not bound", () => {
    expect(() => planBindings(current, me, { kind: "before", actionName: "nope" })).toThrow(
      /no Action of that name is bound to post-login/,
    );
  });

  it("records a commit only in characters that cannot form a keyword marker", () => {
    expect(deployCommit(" 0123abc ")).toBe("0123abc");
    expect(deployCommit("abc##AUTH0_ACTION_SECRET##")).toBe("unknown");
    expect(deployCommit(undefined)).toMatch(/^([0-9a-f]{40}(-dirty)?|unknown)$/);
  });

  it("parses positions and rejects others", () => {
    expect(parsePosition(undefined)).toEqual({ kind: "last" });
    expect(parsePosition("after:My Action")).toEqual({ kind: "after", actionName: "My Action" });
    expect(parsePosition("middle")).toBeUndefined();
    expect(parsePosition("before:")).toBeUndefined();
  });

  it("names every missing or malformed variable without printing values", () => {
    const spec: TenantSpec = {
      actionName: OURS,
      codePath: BUNDLE,
      supportedTriggers: [{ id: "post-login", version: "v3" }],
      dependencies: [],
      secrets: [
        { name: "CONVEX_HTTP_URL", variable: "CONVEX_HTTP_URL" },
        { name: "AUTH0_ACTION_SECRET", variable: "AUTH0_ACTION_SECRET" },
        { name: "CONVEX_TIMEOUT_MS", variable: "CONVEX_TIMEOUT_MS" },
      ],
      bindingDisplayName: "x",
    };
    let error: DeployInputError | undefined;
    try {
      readDeployInputs(
        {
          AUTH0_DOMAIN: "https://tenant.us.auth0.com/",
          CONVEX_HTTP_URL: "https://happy-otter-123.convex.cloud",
          AUTH0_ACTION_SECRET: 'q7"Zx',
          CONVEX_TIMEOUT_MS: "fast",
        },
        spec,
      );
    } catch (err) {
      error = err as DeployInputError;
    }
    expect(error).toBeInstanceOf(DeployInputError);
    const text = error!.problems.join("\n");
    expect(text).toContain("AUTH0_DEPLOY_CLIENT_ID, AUTH0_DEPLOY_CLIENT_SECRET");
    expect(text).toMatch(/AUTH0_DOMAIN must be a bare domain/);
    expect(text).toMatch(
      /CONVEX_HTTP_URL points at happy-otter-123\.convex\.cloud, the client API/,
    );
    expect(text).toMatch(/AUTH0_ACTION_SECRET is shorter than 32 characters/);
    expect(text).toMatch(/CONVEX_TIMEOUT_MS must be a whole number/);
    expect(text).not.toContain('q7"Zx');
  });
});

describe("event stream planning", () => {
  const UNIT_SITE = "https://happy-otter-123.convex.site";
  const UNIT_ENDPOINT = `${UNIT_SITE}/auth0/events`;
  const streamSpec: EventStreamSpec = {
    name: STREAM,
    subscriptions: ["user.created", "user.updated", "user.deleted"],
    endpointPath: "/auth0/events",
    tokenVariable: "AUTH0_EVENTS_TOKEN",
  };
  const spec: TenantSpec = {
    actionName: OURS,
    codePath: BUNDLE,
    supportedTriggers: [{ id: "post-login", version: "v3" }],
    dependencies: [],
    secrets: [
      { name: "CONVEX_HTTP_URL", variable: "CONVEX_HTTP_URL" },
      { name: "AUTH0_ACTION_SECRET", variable: "AUTH0_ACTION_SECRET" },
    ],
    bindingDisplayName: "x",
    eventStream: streamSpec,
  };
  const baseEnv = {
    AUTH0_DOMAIN: "tenant.us.auth0.com",
    AUTH0_DEPLOY_CLIENT_ID: CLIENT_ID,
    AUTH0_DEPLOY_CLIENT_SECRET: CLIENT_SECRET,
    // A trailing slash must not give the stream a "//auth0/events" endpoint.
    CONVEX_HTTP_URL: `${UNIT_SITE}/`,
    AUTH0_ACTION_SECRET: ACTION_SECRET,
  };
  const inputs = (token: string | undefined) =>
    readDeployInputs({ ...baseEnv, AUTH0_EVENTS_TOKEN: token }, spec);
  const tenantStream = (overrides: Partial<TenantEventStream> = {}): TenantEventStream => ({
    id: "est_1",
    name: STREAM,
    status: "enabled",
    subscriptions: ["user.deleted", "user.created", "user.updated"],
    destinationType: "webhook",
    endpoint: UNIT_ENDPOINT,
    authorizationMethod: "bearer",
    ...overrides,
  });

  it("reads the stream tenant.yaml declares", async () => {
    expect((await loadTenantSpec()).eventStream).toEqual(streamSpec);
  });

  it("rejects a tenant.yaml whose stream token is a literal value", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "tenant-yaml-"));
    try {
      const path = join(tmp, "tenant.yaml");
      const text = readFileSync(resolve(ROOT, "auth0-actions/tenant.yaml"), "utf8");
      expect(text).toContain('token: "##AUTH0_EVENTS_TOKEN##"');
      await writeFile(path, text.replace('"##AUTH0_EVENTS_TOKEN##"', '"hard-coded-token"'));
      await expect(loadTenantSpec(path)).rejects.toThrow(
        /webhook_authorization.token must have a value of the form ##VARIABLE##/,
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it("refuses a weak or reused events token without printing it, and carries any other verbatim", () => {
    const problems = (token: string) => {
      try {
        inputs(token);
      } catch (err) {
        return (err as DeployInputError).problems.join("\n");
      }
      return "";
    };
    expect(problems("too-short")).toMatch(/AUTH0_EVENTS_TOKEN is shorter than 32 characters/);
    expect(problems("a".repeat(40))).toMatch(/AUTH0_EVENTS_TOKEN .*not a random value/);
    const quoted = `${randomBytes(32).toString("base64url")}"##X##`;
    expect(inputs(quoted).eventsToken).toBe(quoted);
    expect(problems(ACTION_SECRET)).toMatch(/AUTH0_EVENTS_TOKEN equals AUTH0_ACTION_SECRET/);
    for (const token of ["too-short", ACTION_SECRET]) {
      expect(problems(token)).not.toContain(token);
    }
    expect(inputs(EVENTS_TOKEN).eventsToken).toBe(EVENTS_TOKEN);
    // A loopback http URL is fine for the Action in development, not for an Auth0 webhook.
    expect(() =>
      readDeployInputs(
        { ...baseEnv, CONVEX_HTTP_URL: "http://127.0.0.1:3211", AUTH0_EVENTS_TOKEN: EVENTS_TOKEN },
        spec,
      ),
    ).toThrow(/Auth0 delivers events only to https endpoints/);
    expect(
      readDeployInputs({ ...baseEnv, CONVEX_HTTP_URL: "http://127.0.0.1:3211" }, spec).eventsToken,
    ).toBeUndefined();
  });

  it("with AUTH0_EVENTS_ORGANIZATIONS=true, subscribes the stream to the organization events too", () => {
    const withOrgs = readDeployInputs(
      { ...baseEnv, AUTH0_EVENTS_TOKEN: EVENTS_TOKEN, AUTH0_EVENTS_ORGANIZATIONS: "true" },
      spec,
    );
    const create = planEventStream(streamSpec, withOrgs, [], undefined);
    expect(create.subscriptions).toEqual([
      "user.created",
      "user.updated",
      "user.deleted",
      "organization.created",
      "organization.updated",
      "organization.deleted",
      "organization.member.added",
      "organization.member.deleted",
      "organization.member.role.assigned",
      "organization.member.role.deleted",
    ]);
    // A stream subscribed to the user events only is updated to add them.
    expect(planEventStream(streamSpec, withOrgs, [tenantStream()], undefined)).toMatchObject({
      change: "update",
      reasons: ["the subscriptions are [user.deleted, user.created, user.updated]"],
    });
    expect(() =>
      readDeployInputs(
        { ...baseEnv, AUTH0_EVENTS_TOKEN: EVENTS_TOKEN, AUTH0_EVENTS_ORGANIZATIONS: "yes" },
        spec,
      ),
    ).toThrow(/AUTH0_EVENTS_ORGANIZATIONS must be true or false/);
  });

  it("is off without a token, and otherwise creates, keeps or updates the stream", () => {
    expect(planEventStream(streamSpec, inputs(undefined), undefined, undefined).change).toBe("off");
    const on = inputs(EVENTS_TOKEN);
    const create = planEventStream(streamSpec, on, [], undefined);
    expect(create).toMatchObject({ change: "create", endpoint: UNIT_ENDPOINT, tenant: null });
    const foreign = tenantStream({ id: "est_2", name: "other", endpoint: "https://x.example" });
    expect(planEventStream(streamSpec, on, [foreign, tenantStream()], undefined)).toMatchObject({
      change: "none",
      reasons: [],
      tenant: { id: "est_1" },
    });
    expect(planEventStream(streamSpec, on, [tenantStream()], "--force-event-stream")).toMatchObject(
      { change: "update", reasons: ["--force-event-stream"] },
    );
    const drifted = tenantStream({
      status: "disabled",
      endpoint: "https://old-otter-1.convex.site/auth0/events",
      subscriptions: ["user.created"],
      authorizationMethod: "basic",
    });
    expect(planEventStream(streamSpec, on, [drifted], undefined).reasons).toEqual([
      "the status is disabled",
      "the endpoint is https://old-otter-1.convex.site/auth0/events",
      "the subscriptions are [user.created]",
      "the authorization method is basic",
    ]);
  });

  it("refuses an ambiguous name or a stream of that name that is not a webhook", () => {
    const on = inputs(EVENTS_TOKEN);
    expect(() =>
      planEventStream(streamSpec, on, [tenantStream(), tenantStream({ id: "est_9" })], undefined),
    ).toThrow(/2 event streams are named "convex-auth0-users"/);
    expect(() =>
      planEventStream(
        streamSpec,
        on,
        [tenantStream({ destinationType: "eventbridge" })],
        undefined,
      ),
    ).toThrow(/has a eventbridge destination/);
  });

  it("the import holds only the sections that change, and the stream never when off or current", () => {
    const plan = (
      action: DeployPlan["action"]["change"],
      bindings: boolean,
      stream: DeployPlan["eventStream"],
    ): DeployPlan => ({
      action: {
        name: OURS,
        change: action,
        reasons: [],
        localHeader: "// header",
        tenantHeader: null,
        tenantVersion: null,
        tenantCommit: null,
      },
      secrets: [],
      bindings: {
        change: bindings,
        current: [],
        desired: [{ actionName: OURS, displayName: "x" }],
      },
      eventStream: stream,
    });
    const off = inputs(undefined);
    const on = inputs(EVENTS_TOKEN);
    const streamOff = planEventStream(streamSpec, off, undefined, undefined);
    const streamCurrent = planEventStream(streamSpec, on, [tenantStream()], undefined);
    const streamCreate = planEventStream(streamSpec, on, [], undefined);
    const sections = (assets: Record<string, unknown>) => Object.keys(assets).sort();
    expect(sections(importAssets(spec, off, plan("create", true, streamOff)))).toEqual([
      "actions",
      "triggers",
    ]);
    expect(sections(importAssets(spec, on, plan("update", false, streamCurrent)))).toEqual([
      "actions",
    ]);
    expect(sections(importAssets(spec, on, plan("none", true, streamCurrent)))).toEqual([
      "triggers",
    ]);
    const streamOnly = importAssets(spec, on, plan("none", false, streamCreate));
    expect(sections(streamOnly)).toEqual(["eventStreams"]);
    // Auth0 never returns the token: each import of the stream carries the real value.
    expect(streamOnly.eventStreams).toMatchObject([
      {
        name: STREAM,
        status: "enabled",
        destination: {
          configuration: {
            webhook_endpoint: UNIT_ENDPOINT,
            webhook_authorization: { method: "bearer", token: EVENTS_TOKEN },
          },
        },
      },
    ]);
  });

  it("verification names every way the stream differs", () => {
    const plan = planEventStream(streamSpec, inputs(EVENTS_TOKEN), [], undefined);
    expect(eventStreamProblems(plan, [tenantStream()])).toEqual({
      stream: tenantStream(),
      problems: [],
    });
    expect(eventStreamProblems(plan, []).problems).toEqual([
      `event stream "${STREAM}" is not in the tenant`,
    ]);
    const wrong = tenantStream({
      status: "disabled",
      subscriptions: ["user.created", "user.updated", "user.deleted", "organization.created"],
      authorizationMethod: "custom_header",
    });
    expect(eventStreamProblems(plan, [wrong]).problems).toEqual([
      `event stream "${STREAM}": the status is disabled, expected enabled`,
      `event stream "${STREAM}": the subscriptions are [user.created, user.updated, user.deleted, organization.created], expected [user.created, user.updated, user.deleted]`,
      `event stream "${STREAM}": the authorization method is custom_header, expected bearer`,
    ]);
  });
});
