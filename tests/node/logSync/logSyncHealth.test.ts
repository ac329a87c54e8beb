/**
 * How the log sync's health reads for people (check-sync's summary, the doctor's check), and what
 * the log events name (server/logSync/logEvents.ts) for the shapes the end-to-end tests do not reach.
 */
import { describe, expect, test } from "vitest";
import { judgeLogSync, logSyncLines, type LogSyncHealth } from "../../../scripts/lib/logSyncHealth";
import { emptyHints, readLogEvent } from "../../../server/logSync/logEvents";

const NOW = Date.parse("2026-05-01T12:00:00Z");
const healthy: LogSyncHealth = {
  configured: true,
  running: false,
  checkpoint: "9002026000001",
  checkpointDate: NOW - 30_000,
  lagMs: 0,
  lastRunAt: NOW - 20_000,
  lastSuccessAt: NOW - 19_000,
  lastRunUsersRefetched: 3,
  lastRunLogEvents: 7,
  usersRefetchedTotal: 40,
  consecutiveErrors: 0,
  lastError: null,
  stopped: null,
  fullReconcileNeeded: null,
};

describe("judging the log sync's health", () => {
  test("current: pass, with the checkpoint time, lag and users refetched", () => {
    const verdict = judgeLogSync(healthy, NOW);
    expect(verdict.status).toBe("pass");
    expect(verdict.detail).toContain("2026-05-01T11:59:30.000Z");
    expect(verdict.detail).toContain("lag 0 s");
    expect(verdict.detail).toContain("3 user(s) refetched (40 in all)");
  });

  test("off: skipped, saying how to turn it on", () => {
    expect(judgeLogSync({ ...healthy, configured: false }, NOW)).toMatchObject({
      status: "skip",
      detail: expect.stringContaining("AUTH0_LOGS_CLIENT_ID"),
    });
    expect(judgeLogSync(undefined, NOW).status).toBe("skip");
  });

  test("each problem fails with what to do", () => {
    const cases: [Partial<LogSyncHealth>, RegExp][] = [
      [{ stopped: { at: NOW, reason: "past retention: restart" } }, /stopped.*retention/],
      [{ lastRunAt: null, lastSuccessAt: null }, /cron has not run/],
      [
        {
          consecutiveErrors: 6,
          lastSuccessAt: NOW - 600_000,
          lastError: { at: NOW, message: "Auth0 answered 403" },
        },
        /6 failed run\(s\).*403/,
      ],
      [{ lastSuccessAt: NOW - 600_000 }, /no successful run since/],
      [{ lagMs: 900_000 }, /900 s behind/],
      [{ fullReconcileNeeded: { since: NOW, reason: "a bulk import" } }, /full reconcile.*bulk/],
    ];
    for (const [patch, message] of cases) {
      const verdict = judgeLogSync({ ...healthy, ...patch }, NOW);
      expect(verdict.status).toBe("fail");
      expect(verdict.detail).toMatch(message);
    }
    // One failed run right after a success is not yet a problem.
    expect(
      judgeLogSync({ ...healthy, consecutiveErrors: 1, lastError: { at: NOW, message: "x" } }, NOW)
        .status,
    ).toBe("pass");
  });

  test("check-sync's lines: a summary, and a warning when something is wrong", () => {
    expect(logSyncLines(healthy, NOW)).toHaveLength(1);
    const lines = logSyncLines({ ...healthy, lagMs: 900_000 }, NOW);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^ {2}Warning: log sync/);
    expect(logSyncLines(undefined, NOW)).toEqual([]);
  });
});

describe("what a log event names", () => {
  const read = (...events: unknown[]) => {
    const hints = emptyHints();
    for (const e of events) readLogEvent(e, hints);
    return hints;
  };
  const sapi = (method: string, path: string, body?: unknown, response?: unknown) => ({
    type: "sapi",
    details: { request: { method, path, body }, response: { statusCode: 200, body: response } },
  });

  test("linking deletes the secondary user, unlinking brings it back: both are refetched", () => {
    const hints = read(
      sapi("post", "/api/v2/users/auth0%7Cmain/identities", {
        provider: "google-oauth2",
        user_id: "555",
      }),
      sapi("delete", "/api/v2/users/auth0%7Cmain/identities/github/777"),
    );
    expect([...hints.users].sort()).toEqual(["auth0|main", "github|777", "google-oauth2|555"]);
  });

  test("a user's roles or metadata change: the user is refetched; reads are not changes", () => {
    expect([...read(sapi("patch", "/api/v2/users/auth0|a")).users]).toEqual(["auth0|a"]);
    expect([...read(sapi("post", "/api/v2/users/auth0|b/roles", { roles: [] })).users]).toEqual([
      "auth0|b",
    ]);
    expect(read(sapi("get", "/api/v2/users/auth0|c")).users.size).toBe(0);
  });

  test("what names no user asks for a full reconcile instead of guessing", () => {
    const hints = read(
      sapi("post", "/api/v2/users", {}, { message: "no id here" }),
      sapi("post", "/api/v2/jobs/users-imports"),
      sapi("delete", "/api/v2/organizations/org_1/members", { members: "REDACTED" }),
      sapi("delete", "/api/v2/organizations/org_1"),
      { type: "sui" },
      { type: "organization_member_added" },
    );
    expect(hints.users.size).toBe(0);
    expect(hints.reconcileReasons).toHaveLength(6);
  });

  test("organization member codes and member role writes name the member", () => {
    const hints = read(
      { type: "organization_member_added", user_id: "auth0|m1" },
      sapi("post", "/api/v2/organizations/org_1/members/auth0%7Cm2/roles", { roles: ["r"] }),
    );
    expect([...hints.userOrganizations].sort()).toEqual(["auth0|m1", "auth0|m2"]);
  });
});
