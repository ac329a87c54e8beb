/**
 * A contender in the lock race (see ./lockRace.ts): a separate process that, told a start time,
 * calls acquireLock at that instant and reports whether it got the lock; told to, releases it.
 */
import type { LockResult } from "../../scripts/lib/reconcile/lock";

// LOCK_MODULE: another implementation to measure (e.g. an earlier version), same signature.
const { acquireLock } = (await import(
  process.env.LOCK_MODULE ?? "../../scripts/lib/reconcile/lock"
)) as typeof import("../../scripts/lib/reconcile/lock");

let held: LockResult | undefined;

process.on("message", (msg: { type: string; at?: number; path?: string; maxRunMs?: number }) => {
  void (async () => {
    if (msg.type === "go") {
      // Sleep until a few ms before the start, then spin: every contender starts together.
      const wait = msg.at! - Date.now() - 5;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      while (Date.now() < msg.at!);
      held = await acquireLock(msg.path!, { maxRunMs: msg.maxRunMs! });
      process.send!({ type: "result", acquired: held.acquired, pid: process.pid });
    } else if (msg.type === "release") {
      if (held?.acquired) await held.release();
      held = undefined;
      process.send!({ type: "released" });
    } else if (msg.type === "exit") {
      process.exit(0);
    }
  })();
});
process.send!({ type: "ready" });
