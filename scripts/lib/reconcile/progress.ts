/**
 * Progress of a long run, on stderr: on a terminal one live line per phase (count, rate, ETA when
 * the total is known); elsewhere (CI, cron, a pipe) plain lines at each phase's start and end and
 * every few seconds in between. stdout stays free for `--json`.
 */

export interface Progress {
  /** Ends the current phase (printing its total) and starts another. */
  phase(name: string, total?: number): void;
  /** Counts `n` more items of the current phase. */
  tick(n?: number): void;
  /** A short status for the current phase (e.g. "export job processing, 40%"). */
  note(text: string): void;
  /** A full line of its own (a warning, a step). */
  log(line: string): void;
  /** Ends the last phase. */
  done(): void;
}

const PLAIN_INTERVAL_MS = 5000;
const TTY_INTERVAL_MS = 100;

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A progress display on `stream`; a terminal gets the live line. */
export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  tty = Boolean(stream.isTTY),
): Progress {
  let name = "";
  let total: number | undefined;
  let count = 0;
  let started = 0;
  let lastDraw = 0;
  let noteText = "";
  let lineOpen = false;

  const status = () => {
    const elapsed = Date.now() - started;
    const rate = elapsed > 0 ? (count * 1000) / elapsed : 0;
    let text = `${name}: ${fmt(count)}${total !== undefined ? `/${fmt(total)}` : ""}`;
    if (count > 0 && elapsed > 500) text += `, ${fmt(rate)}/s`;
    if (total !== undefined && rate > 0 && count < total) {
      text += `, ETA ${duration(((total - count) / rate) * 1000)}`;
    }
    if (noteText) text += ` (${noteText})`;
    return text;
  };
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < (tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS)) return;
    lastDraw = now;
    if (tty) {
      stream.write(`\r\x1b[K${status()}`);
      lineOpen = true;
    } else {
      stream.write(`${status()}\n`);
    }
  };
  const closeLine = () => {
    if (lineOpen) stream.write("\r\x1b[K");
    lineOpen = false;
  };
  const finish = () => {
    if (!name) return;
    closeLine();
    const elapsed = Date.now() - started;
    const seconds = `${(elapsed / 1000).toFixed(1)} s`;
    const rate = elapsed > 0 ? `, ${fmt((count * 1000) / elapsed)}/s` : "";
    stream.write(
      count > 0 ? `${name}: ${fmt(count)} in ${seconds}${rate}\n` : `${name}: done in ${seconds}\n`,
    );
    name = "";
  };

  return {
    phase(next, nextTotal) {
      finish();
      name = next;
      total = nextTotal;
      count = 0;
      noteText = "";
      started = Date.now();
      lastDraw = started;
      if (!tty) stream.write(`${next}...\n`);
      else draw(true);
    },
    tick(n = 1) {
      count += n;
      draw();
    },
    note(text) {
      if (text === noteText) return;
      noteText = text;
      draw(tty);
    },
    log(line) {
      closeLine();
      stream.write(`${line}\n`);
      if (tty && name) draw(true);
    },
    done: finish,
  };
}
