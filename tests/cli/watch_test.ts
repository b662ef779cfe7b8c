// procconn watch: the refresh loop on a scripted backend, the live view on a fake terminal, then
// the real CLI as a subprocess against real sockets (NDJSON stream, and the live view in a pty).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import process from "node:process";
import { createInterface } from "node:readline";
import { ENTER_SCREEN, LEAVE_SCREEN, type StopSignal, type Terminal } from "../../cli/_screen.ts";
import { BrokenPipe, type TextWriter } from "../../cli/_io.ts";
import { parseArgs } from "../../cli/args.ts";
import { runWatch, type WatchDeps } from "../../cli/watch.ts";
import { validateEvent } from "../../core/events.ts";
import type { ProcessInfo, RawSocket, SocketQuery, SocketSource } from "../../core/source.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DENO = process.execPath;
const NODE = realpathSync("/usr/bin/node");

// --- a scripted backend ------------------------------------------------------------------------

const PROCESSES: Record<number, ProcessInfo> = {
  10: {
    pid: 10,
    name: "zeta",
    path: "/usr/bin/zeta",
    parentPid: 1,
    startTime: "2026-01-01T00:00:00.000Z",
    unavailable: {},
  },
  20: {
    pid: 20,
    name: "alpha",
    path: "/usr/bin/alpha",
    parentPid: 1,
    startTime: "2026-01-01T00:00:00.000Z",
    unavailable: {},
  },
};

function tcp(localPort: number, state: RawSocket["state"], pid: number, remote = true): RawSocket {
  return {
    protocol: "TCP",
    family: "IPv4",
    localAddress: "127.0.0.1",
    localPort,
    remoteAddress: remote ? "127.0.0.1" : null,
    remotePort: remote ? 60000 : null,
    state,
    pids: [pid],
  };
}

const UDP: RawSocket = {
  protocol: "UDP",
  family: "IPv4",
  localAddress: "0.0.0.0",
  localPort: 5353,
  remoteAddress: null,
  remotePort: null,
  state: null,
  pids: [10],
};

/** Listing n returns `listings[n]` (the last one once they run out). */
function scriptedSource(listings: RawSocket[][], fail?: { at: number; error: Error }) {
  const queries: SocketQuery[] = [];
  const closes = { count: 0 };
  const source: SocketSource = {
    close: () => void closes.count++,
    name: "scripted",
    listSockets(query) {
      queries.push(query);
      const n = queries.length - 1;
      if (fail && n === fail.at) return Promise.reject(fail.error);
      return Promise.resolve(structuredClone(listings[Math.min(n, listings.length - 1)]));
    },
    describeProcesses(pids) {
      return Promise.resolve(new Map([...pids].map((pid) => [pid, PROCESSES[pid]])));
    },
  };
  return { source, queries, closes };
}

// alpha (20) listens on 80; zeta (10) has a connection on 50000 and UDP 5353.
const LISTINGS: RawSocket[][] = [
  [tcp(80, "LISTEN", 20, false), tcp(50000, "ESTABLISHED", 10), UDP],
  [tcp(80, "LISTEN", 20, false), tcp(50000, "CLOSE_WAIT", 10), tcp(50001, "SYN_SENT", 20), UDP],
  [tcp(80, "LISTEN", 20, false), tcp(50001, "SYN_SENT", 20), UDP],
];

function captureWriter(options: { breakAfter?: number } = {}) {
  let text = "";
  let writes = 0;
  const writer: TextWriter = {
    write(chunk) {
      if (options.breakAfter !== undefined && writes >= options.breakAfter) {
        return Promise.reject(new BrokenPipe());
      }
      writes++;
      text += chunk;
      return Promise.resolve();
    },
    flush: () => Promise.resolve(),
  };
  return { writer, text: () => text };
}

function fakeTerminal(isTerminal: boolean, size = { columns: 120, rows: 30 }) {
  const state = { listening: 0, stopped: 0, quit: (_signal?: StopSignal): void => {} };
  const terminal: Terminal = {
    isTerminal: () => isTerminal,
    size: () => size,
    listen(onQuit) {
      state.listening++;
      state.quit = onQuit;
      return () => void state.stopped++;
    },
  };
  return { terminal, state };
}

/** Signals a test sends by hand to the event stream, and those runWatch sends again. */
function fakeSignals() {
  const state = { listening: 0, raised: [] as StopSignal[], send: (_: StopSignal): void => {} };
  const watchDeps: Pick<WatchDeps, "signals" | "raise" | "readerGone"> = {
    readerGone: null,
    signals(listener) {
      state.send = listener;
      state.listening++;
      return () => void state.listening--;
    },
    raise: (signal) => void state.raised.push(signal),
  };
  return { state, watchDeps };
}

/** A clock that moves one second per reading, from a fixed start. */
function steppingClock() {
  let t = Date.parse("2026-05-01T12:00:00.000Z");
  return () => new Date((t += 1000) - 1000);
}

function deps(over: Partial<WatchDeps> & { sleeps?: number[] }): WatchDeps {
  return {
    now: steppingClock(),
    sleep: (ms) => {
      over.sleeps?.push(ms);
      return Promise.resolve();
    },
    ...over,
  };
}

/**
 * The scripted source with a socket whose owner was refused, and one other network namespace that
 * holds one more socket at each refresh.
 */
function sourceWithGaps() {
  const scripted = scriptedSource(LISTINGS.map((listing) => [
    ...listing,
    { ...tcp(22, "LISTEN", 0, false), pids: [], ownerReason: "access-denied" as const },
  ]));
  const asked: (number[] | undefined)[] = [];
  scripted.source.otherNetworks = (pids) => {
    asked.push(pids && [...pids]);
    return Promise.resolve([{ namespace: "net:[4026532291]", pids: [812], sockets: asked.length }]);
  };
  return { ...scripted, asked };
}

// --- the event stream --------------------------------------------------------------------------

describe("runWatch event stream", () => {
  it("writes opened for everything first, then changed, opened and closed, one JSON per line", async () => {
    const { source, queries, closes } = scriptedSource(LISTINGS);
    const out = captureWriter();
    const sleeps: number[] = [];
    const request = parseArgs(["watch", "--count", "3", "--interval", "2s"]);
    const code = await runWatch(request, out.writer, {
      ...deps({ sleeps }),
      source,
      terminal: fakeTerminal(false).terminal,
    });
    assert.equal(code, 0);
    assert.equal(queries.length, 3, "--count 3 means three listings");
    assert.equal(closes.count, 1, "the source is closed once, after the last listing");
    assert.equal(sleeps.length, 2, "no sleep before the first listing or after the last");
    for (const ms of sleeps) assert.ok(ms > 1900 && ms <= 2000, `slept ${ms}`);
    const events = out.text().trimEnd().split("\n").map((line) => validateEvent(JSON.parse(line)));
    assert.deepEqual(
      events.map((e) => [e.time.slice(11, 19), e.event, e.localPort, e.previousState, e.state]),
      [
        ["12:00:00", "opened", 80, null, "LISTEN"],
        ["12:00:00", "opened", 50000, null, "ESTABLISHED"],
        ["12:00:00", "opened", 5353, null, null],
        ["12:00:01", "changed", 50000, "ESTABLISHED", "CLOSE_WAIT"],
        ["12:00:01", "opened", 50001, null, "SYN_SENT"],
        ["12:00:02", "closed", 50000, null, "CLOSE_WAIT"],
      ],
    );
    assert.equal(events[3].pid, 10);
    assert.equal(events[3].processName, "zeta");
  });

  it("applies the filters to every refresh", async () => {
    const { source, queries } = scriptedSource(LISTINGS);
    const selections: (number[] | undefined)[] = [];
    const out = captureWriter();
    const request = parseArgs(["watch", "--count", "2", "--tcp", "--pid", "20"]);
    source.otherNetworks = (pids) => (selections.push(pids && [...pids]), Promise.resolve([]));
    await runWatch(request, out.writer, {
      ...deps({}),
      source,
      terminal: fakeTerminal(false).terminal,
    });
    assert.deepEqual(queries.map((q) => q.protocols), [["TCP"], ["TCP"]]);
    assert.deepEqual(selections, [[20]], "other namespaces are looked at for the selection");
    const events = out.text().trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(events.map((e) => [e.event, e.localPort, e.pid]), [
      ["opened", 80, 20],
      ["opened", 50001, 20],
    ]);
  });

  it("says once on stderr, after the first refresh, what it could not see", async () => {
    const { source, asked } = sourceWithGaps();
    const out = captureWriter();
    const warned: { line: string; eventsBefore: number }[] = [];
    const warn = (line: string) =>
      warned.push({ line, eventsBefore: out.text().split("\n").length - 1 });
    const request = parseArgs(["watch", "--count", "3"]);
    await runWatch(request, out.writer, {
      ...deps({}),
      source,
      terminal: fakeTerminal(false).terminal,
      warn,
      root: false,
    });
    assert.deepEqual(warned, [
      {
        line: "procconn: the owner of 1 endpoint could not be identified (access denied): " +
          "run elevated for owners, paths, command lines and users",
        eventsBefore: 4,
      },
      {
        line: "procconn: 1 socket in another network namespace (pid 812) is not listed: " +
          "run procconn inside it, e.g. nsenter -t 812 -n procconn",
        eventsBefore: 4,
      },
    ]);
    assert.deepEqual(asked, [undefined], "the namespaces are looked at once");
    // Standard output stays pure NDJSON.
    for (const line of out.text().trimEnd().split("\n")) validateEvent(JSON.parse(line));
  });

  it("streams events with --format ndjson even on a terminal", async () => {
    const { source } = scriptedSource(LISTINGS);
    const out = captureWriter();
    const term = fakeTerminal(true);
    const request = parseArgs(["watch", "--count", "1", "--format", "ndjson"]);
    await runWatch(request, out.writer, { ...deps({}), source, terminal: term.terminal });
    assert.equal(term.state.listening, 0);
    assert.equal(out.text().includes(ENTER_SCREEN), false);
    assert.equal(out.text().trimEnd().split("\n").length, 3);
  });

  it("--format table without a terminal is refused, not turned into events", async () => {
    const { source } = scriptedSource(LISTINGS);
    const out = captureWriter();
    const request = parseArgs(["watch", "--count", "1", "--format", "table"]);
    await assert.rejects(
      runWatch(request, out.writer, {
        ...deps({}),
        source,
        terminal: fakeTerminal(false).terminal,
      }),
      (err: Error) =>
        err.name === "UsageError" &&
        /^watch --format table draws a live view on a terminal/.test(err.message),
    );
    assert.equal(out.text(), "");
  });

  it("ends quietly with exit code 0 when standard output is closed", async () => {
    const { source, queries, closes } = scriptedSource(LISTINGS);
    const out = captureWriter({ breakAfter: 1 });
    const request = parseArgs(["watch", "--count", "50"]);
    const code = await runWatch(request, out.writer, {
      ...deps({}),
      source,
      terminal: fakeTerminal(false).terminal,
    });
    assert.equal(code, 0);
    assert.equal(queries.length, 1);
    assert.equal(closes.count, 1);
  });

  it("on a signal finishes the lines it is writing, starts no listing, then ends by the signal", async () => {
    const { source, queries, closes } = scriptedSource(LISTINGS);
    let text = "";
    let writes = 0;
    const signals = fakeSignals();
    const writer: TextWriter = {
      write(chunk) {
        text += chunk;
        // The signal arrives while the first refresh's lines are being written.
        if (++writes === 2) signals.state.send("SIGTERM");
        return new Promise((r) => setTimeout(r, 5));
      },
      flush: () => Promise.resolve(),
    };
    const code = await runWatch(parseArgs(["watch"]), writer, {
      ...deps({}),
      source,
      terminal: fakeTerminal(false).terminal,
      ...signals.watchDeps,
    });
    assert.equal(code, 128 + 15);
    assert.deepEqual(signals.state.raised, ["SIGTERM"]);
    assert.equal(
      signals.state.listening,
      0,
      "the listener is gone before the signal is sent again",
    );
    assert.equal(queries.length, 1, "no listing after the signal");
    assert.equal(closes.count, 1);
    assert.ok(text.endsWith("\n"));
    const events = text.trimEnd().split("\n").map((line) => validateEvent(JSON.parse(line)));
    assert.equal(events.length, 3, "the first refresh's lines, every one whole");
  });

  it("on a second signal ends at once, without waiting for a reader that does not read", async () => {
    const { source } = scriptedSource(LISTINGS);
    let release = () => {};
    const signals = fakeSignals();
    const raised = signals.state.raised;
    let stuck = true;
    const writer: TextWriter = {
      // The first write waits until released; the ones after it do not.
      write: () =>
        stuck ? new Promise<void>((r) => release = () => r(void (stuck = false))) : undefined,
      flush: () => Promise.resolve(),
    };
    const running = runWatch(parseArgs(["watch"]), writer, {
      ...deps({}),
      source,
      terminal: fakeTerminal(false).terminal,
      ...signals.watchDeps,
    });
    for (let i = 0; i < 50 && raised.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 2));
      if (i === 5) signals.state.send("SIGINT");
      if (i === 10) signals.state.send("SIGTERM");
    }
    assert.deepEqual(raised, ["SIGTERM"], "the second signal is sent again while the write waits");
    release();
    assert.equal(await running, 128 + 2);
  });

  it("fails with the listing's error", async () => {
    const { source, closes } = scriptedSource(LISTINGS, {
      at: 1,
      error: new Error("Cannot read tables"),
    });
    const request = parseArgs(["watch", "--count", "3"]);
    await assert.rejects(
      runWatch(request, captureWriter().writer, {
        ...deps({}),
        source,
        terminal: fakeTerminal(false).terminal,
      }),
      /Cannot read tables/,
    );
    assert.equal(closes.count, 1);
  });
});

// --- the live view -----------------------------------------------------------------------------

/** The frames written, each as its lines without the terminal control sequences. */
function frames(text: string): string[][] {
  return text.split("\x1b[H").slice(1).map((frame) =>
    frame.split("\x1b[J")[0].split("\x1b[K\r\n").map((line) =>
      line.endsWith("\x1b[K") ? line.slice(0, -3) : line
    )
  );
}

describe("runWatch live view", () => {
  it("draws frames sorted by process, marks changes in colour, and puts the terminal back", async () => {
    const { source } = scriptedSource(LISTINGS);
    const out = captureWriter();
    const term = fakeTerminal(true);
    const request = parseArgs(["watch", "--count", "3"]);
    const code = await runWatch(request, out.writer, {
      ...deps({}),
      source,
      terminal: term.terminal,
    });
    assert.equal(code, 0);
    const [text, after] = out.text().split(LEAVE_SCREEN);
    assert.ok(text.startsWith(ENTER_SCREEN));
    assert.deepEqual(term.state, { ...term.state, listening: 1, stopped: 1 });

    const [first, second, third] = frames(text);
    assert.match(first[0], /^procconn watch {2}every 1s /);
    assert.equal(
      first[1],
      "3 endpoints | +0 opened  -0 closed  ~0 changed | TCP 2  UDP 1 | LISTEN 1  ESTABLISHED 1",
    );
    // Sorted by process: alpha before zeta; no marks on the first frame.
    const rows = (frame: string[]) => frame.slice(5);
    assert.deepEqual(rows(first).map((l) => l.slice(0, 2) + l.split(/\s+/)[1]), [
      "  TCP",
      "  TCP",
      "  UDP",
    ]);
    assert.match(rows(first)[0], /127\.0\.0\.1:80 .*LISTEN .*alpha/);
    assert.match(rows(first)[1], /127\.0\.0\.1:50000 .*ESTABLISHED .*zeta/);

    const GREEN = "\x1b[32m", RED = "\x1b[31m", YELLOW = "\x1b[33m";
    // The changes come right after the count, before a narrow terminal cuts the line.
    assert.match(second[1], /^\d+ endpoints \| \+1 opened {2}-0 closed {2}~1 changed \| /);
    const opened = rows(second).find((l) => l.includes(":50001"))!;
    const changed = rows(second).find((l) => l.includes(":50000"))!;
    assert.ok(opened.startsWith(GREEN + "+ ") && opened.endsWith("\x1b[39m"), opened);
    assert.ok(changed.startsWith(YELLOW + "~ ") && changed.includes("CLOSE_WAIT"), changed);
    assert.ok(rows(second).indexOf(opened) < rows(second).indexOf(changed), "alpha before zeta");

    const closed = rows(third).find((l) => l.includes(":50000"))!;
    assert.ok(closed.startsWith(RED + "- "), closed);
    assert.match(third[1], /^3 endpoints .*-1 closed/);
    // Closed rows are shown for one refresh only: nothing else carries a mark.
    assert.equal(rows(third).filter((l) => l.startsWith("\x1b[3")).length, 1);

    // The count ran out: the last frame stays in view on the normal screen, as plain lines.
    assert.deepEqual(after.split("\n"), [
      third[0].replace("(q quits)", "(last refresh)"),
      ...third.slice(1),
      "",
    ]);
  });

  it("uses signs instead of colour when colour is off", async () => {
    const { source } = scriptedSource(LISTINGS);
    const out = captureWriter();
    const request = parseArgs(["watch", "--count", "2", "--no-color"]);
    await runWatch(request, out.writer, {
      ...deps({}),
      source,
      terminal: fakeTerminal(true).terminal,
    });
    const second = frames(out.text())[1];
    assert.equal(second.some((l) => l.includes("\x1b[")), false, "no escape codes in a line");
    assert.ok(second.some((l) => l.startsWith("+ ") && l.includes(":50001")));
    assert.ok(second.some((l) => l.startsWith("~ ") && l.includes(":50000")));
  });

  it("keeps to the terminal height and counts the rows left out", async () => {
    const many = Array.from({ length: 40 }, (_, i) => tcp(1000 + i, "LISTEN", 20, false));
    const { source } = scriptedSource([many]);
    const out = captureWriter();
    await runWatch(parseArgs(["watch", "--count", "1"]), out.writer, {
      ...deps({}),
      source,
      terminal: fakeTerminal(true, { columns: 100, rows: 12 }).terminal,
    });
    const [frame] = frames(out.text());
    assert.equal(frame.length, 12);
    assert.equal(frame[11], "  … 34 more rows: narrow the view with filters");
  });

  it("shows what it could not see under the counts, kept up to date, within the height", async () => {
    const { source, asked } = sourceWithGaps();
    const out = captureWriter();
    const warned: string[] = [];
    await runWatch(parseArgs(["watch", "--count", "2"]), out.writer, {
      ...deps({}),
      source,
      terminal: fakeTerminal(true, { columns: 200, rows: 8 }).terminal,
      warn: (line) => warned.push(line),
      root: true,
    });
    assert.deepEqual(warned, [], "nothing on stderr under the full-screen view");
    assert.equal(asked.length, 2);
    const [first, second] = frames(out.text());
    assert.deepEqual(first.slice(2, 5), [
      "the owner of 1 endpoint could not be identified (access denied)",
      "1 socket in another network namespace (pid 812) is not listed: " +
      "run procconn inside it, e.g. nsenter -t 812 -n procconn",
      "",
    ]);
    assert.match(second[3], /^2 sockets in another network namespace/);
    // 8 lines: title, counts, two notes, blank, header, rule, and one line of rows left.
    assert.equal(first.length, 8);
    assert.match(first[7], /^ {2}… 4 more rows/);
  });

  it("quits at once when asked, and puts the terminal back", async () => {
    const { source, queries, closes } = scriptedSource(LISTINGS);
    const out = captureWriter();
    const term = fakeTerminal(true);
    const request = parseArgs(["watch"]); // no --count: runs until quit
    const code = await runWatch(request, out.writer, {
      now: steppingClock(),
      source,
      terminal: term.terminal,
      sleep: (_ms, signal) => {
        if (queries.length === 2) term.state.quit();
        assert.equal(signal.aborted, queries.length === 2);
        return Promise.resolve();
      },
    });
    assert.equal(code, 0);
    assert.equal(queries.length, 2);
    assert.equal(closes.count, 1);
    assert.equal(term.state.stopped, 1);
    assert.ok(out.text().endsWith(LEAVE_SCREEN));
  });

  it("on a signal puts the terminal back, then ends by the signal; a key quits with 0", async () => {
    const { source } = scriptedSource(LISTINGS);
    const out = captureWriter();
    const term = fakeTerminal(true);
    const raised: StopSignal[] = [];
    const code = await runWatch(parseArgs(["watch"]), out.writer, {
      now: steppingClock(),
      source,
      terminal: term.terminal,
      sleep: () => Promise.resolve(term.state.quit("SIGHUP")),
      raise: (signal) => void raised.push(signal),
    });
    assert.equal(code, 128 + 1);
    assert.deepEqual(raised, ["SIGHUP"]);
    assert.equal(term.state.stopped, 1);
    assert.ok(out.text().endsWith(LEAVE_SCREEN));
  });

  it("puts the terminal back when the listing fails", async () => {
    const { source } = scriptedSource(LISTINGS, { at: 1, error: new Error("Cannot read tables") });
    const out = captureWriter();
    const term = fakeTerminal(true);
    await assert.rejects(
      runWatch(parseArgs(["watch", "--count", "3"]), out.writer, {
        ...deps({}),
        source,
        terminal: term.terminal,
      }),
      /Cannot read tables/,
    );
    assert.equal(term.state.stopped, 1);
    assert.ok(out.text().endsWith(LEAVE_SCREEN));
  });
});

// --- the real CLI ------------------------------------------------------------------------------

// A node child that takes commands on stdin, one per line, and answers with one JSON line:
//   listen  -> opens a TCP listener on 127.0.0.1 that accepts and keeps connections half-open
//   close   -> closes every accepted connection and every listener
const SERVER = `
const net = require("net");
const servers = [], sockets = [];
const say = (o) => console.log(JSON.stringify(o));
require("readline").createInterface({ input: process.stdin }).on("line", (cmd) => {
  if (cmd === "listen") {
    const s = net.createServer({ allowHalfOpen: true }, (c) => { sockets.push(c); c.resume(); });
    servers.push(s);
    s.listen(0, "127.0.0.1", () => say({ port: s.address().port }));
  } else if (cmd === "close") {
    for (const c of sockets) c.destroy();
    let left = servers.length;
    for (const s of servers) s.close(() => --left || say({ closed: true }));
  }
});
say({ pid: process.pid });
`;

interface Line {
  [key: string]: unknown;
}

/** Reads JSON lines from a stream and lets a test wait for one that matches. */
function lineReader(stream: NodeJS.ReadableStream) {
  const seen: Line[] = [];
  let wake = () => {};
  createInterface({ input: stream }).on("line", (line) => {
    try {
      seen.push(JSON.parse(line));
    } catch {
      seen.push({ unparsed: line });
    }
    wake();
  });
  return {
    seen,
    async waitFor(what: string, pred: (line: Line) => boolean, ms = 10_000): Promise<Line> {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = seen.find(pred);
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(
            `No ${what} within ${ms} ms; saw: ${JSON.stringify(seen).slice(0, 3000)}`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 250));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}

/** Deno's arguments that run `procconn watch` from the checkout. */
const RUN_WATCH = ["run", "-A", "--no-check", "main.ts", "watch"];

describe("procconn watch as a subprocess", () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("streams opened, changed (ESTABLISHED -> CLOSE_WAIT) and closed for a real process", async () => {
    const server = spawn(NODE, ["-e", SERVER], { stdio: ["pipe", "pipe", "inherit"] });
    children.push(server);
    const replies = lineReader(server.stdout!);
    const command = async (cmd: string, pred: (l: Line) => boolean) => {
      const before = replies.seen.length;
      server.stdin!.write(cmd + "\n");
      return await replies.waitFor(
        `answer to ${cmd}`,
        (l) => replies.seen.indexOf(l) >= before && pred(l),
      );
    };
    const { pid } = await replies.waitFor("server pid", (l) => typeof l.pid === "number");
    // A first listener that exists before the watch starts: its `opened` event on the first
    // refresh shows that the baseline has been read.
    const early = (await command("listen", (l) => typeof l.port === "number")).port;

    const watch = spawn(DENO, [
      ...RUN_WATCH,
      "--format",
      "ndjson",
      "--interval",
      "200ms",
      "--tcp",
      "--pid",
      String(pid),
      "--count",
      "300",
    ], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    children.push(watch);
    let stderr = "";
    watch.stderr!.on("data", (d) => (stderr += d));
    const events = lineReader(watch.stdout!);
    const event = (what: string, pred: (e: Line) => boolean) =>
      events.waitFor(what, pred).catch((err) => {
        throw new Error(`${err.message}\nwatch stderr: ${stderr}`);
      });

    const first = await event(
      "opened event of the early listener",
      (e) => e.event === "opened" && e.localPort === early,
    );
    assert.equal(first.pid, pid);
    assert.equal(first.state, "LISTEN");

    // A listener opened while the watch runs.
    const port = (await command("listen", (l) => typeof l.port === "number")).port as number;
    const opened = await event(
      "opened LISTEN",
      (e) => e.event === "opened" && e.localPort === port && e.state === "LISTEN",
    );
    assert.equal(opened.pid, pid);
    assert.equal(opened.processName, "node");
    assert.equal(opened.previousState, null);

    // A client in this process; the accepted end belongs to the server child.
    const client = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) =>
      client.once("connect", resolve).once("error", reject)
    );
    const clientPort = client.localPort!;
    const accepted = await event(
      "opened ESTABLISHED",
      (e) => e.event === "opened" && e.localPort === port && e.remotePort === clientPort,
    );
    assert.equal(accepted.state, "ESTABLISHED");
    assert.equal(accepted.pid, pid);

    // The client closes; the server keeps its end open, which then waits in CLOSE_WAIT.
    client.end();
    const changed = await event(
      "changed to CLOSE_WAIT",
      (e) => e.event === "changed" && e.localPort === port && e.remotePort === clientPort,
    );
    assert.equal(changed.previousState, "ESTABLISHED");
    assert.equal(changed.state, "CLOSE_WAIT");
    assert.equal(changed.pid, pid);

    // The server closes everything: the listener and the half-open connection are gone.
    await command("close", (l) => l.closed === true);
    const closedListener = await event(
      "closed LISTEN",
      (e) => e.event === "closed" && e.localPort === port && e.state === "LISTEN",
    );
    assert.equal(closedListener.pid, pid);
    const closedConn = await event(
      "closed connection",
      (e) => e.event === "closed" && e.localPort === port && e.remotePort === clientPort,
    );
    assert.equal(closedConn.pid, pid);
    client.destroy();

    // Each identity is opened once before it is closed, and every line is a valid event.
    for (const line of events.seen) validateEvent(line);
    const order = events.seen.filter((e) => e.localPort === port && e.remotePort === null)
      .map((e) => e.event);
    assert.deepEqual(order, ["opened", "closed"]);
    watch.kill("SIGTERM");
  });

  it("ends by SIGTERM, as a program that does not catch it, after whole lines only", async () => {
    const listener = net.createServer();
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    const port = (listener.address() as net.AddressInfo).port;
    try {
      const watch = spawn(DENO, [
        ...RUN_WATCH,
        "--port",
        String(port),
        "--interval",
        "10s",
      ], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      children.push(watch);
      let stdout = "";
      let stderr = "";
      watch.stderr!.on("data", (chunk) => stderr += chunk);
      const exited = new Promise<[number | null, string | null]>((resolve) =>
        watch.on("exit", (code, signal) => resolve([code, signal]))
      );
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no event in 30 s: ${stderr}`)), 30_000);
        watch.stdout!.on("data", (chunk) => {
          stdout += chunk;
          if (stdout.includes("\n")) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      watch.kill("SIGTERM");
      const [code, signal] = await exited;
      assert.deepEqual([code, signal], [null, "SIGTERM"], stderr);
      assert.ok(stdout.endsWith("\n"), stdout);
      const event = validateEvent(JSON.parse(stdout));
      assert.deepEqual([event.event, event.localPort, event.pid], ["opened", port, process.pid]);
    } finally {
      listener.close();
    }
  });

  it("ends quietly when the reader of its output goes away (watch | head -1)", () => {
    const r = spawnSync("bash", [
      "-c",
      `"${DENO}" run -A --no-check main.ts watch --interval 100ms --count 50 | head -1; ` +
      "exit ${PIPESTATUS[0]}",
    ], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    // No error; only the notes of what the first refresh could not see, if any.
    for (const line of r.stderr.split("\n").filter(Boolean)) {
      assert.match(line, /\(access denied\)|other network namespace|another network namespace/);
    }
    validateEvent(JSON.parse(r.stdout));
  });

  it("ends when its reader goes away even while nothing changes (Linux: no write needed)", () => {
    // One listener that stays as it is: after the first event the stream has nothing to write,
    // so only noticing the closed pipe without writing can end it.
    const holder = "require('net').createServer().listen(0, '127.0.0.1', () => " +
      "console.log('ready')); setTimeout(() => {}, 120000)";
    const dir = mkdtempSync(join(tmpdir(), "procconn-watch-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const started = Date.now();
    const r = spawnSync("bash", [
      "-c",
      `node -e "${holder}" > "$READY/ready" & holder=$!; ` +
      `for i in $(seq 100); do grep -q ready "$READY/ready" && break; sleep 0.1; done; ` +
      `"${DENO}" run -A --no-check main.ts watch --tcp --pid $holder --interval 1s | head -1; ` +
      "rc=${PIPESTATUS[0]}; kill $holder; exit $rc",
    ], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, READY: dir },
    });
    assert.equal(r.signal, null, `still running after ${Date.now() - started} ms: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const event = validateEvent(JSON.parse(r.stdout));
    assert.equal(event.event, "opened");
    assert.equal(event.state, "LISTEN");
  });

  const script = spawnSync("script", ["--version"], { encoding: "utf8" });
  const noPty = script.status === 0 ? false : "util-linux script(1), which gives a pty, is missing";
  for (const [key, name] of [["q", "q"], ["\x03", "Ctrl-C"]]) {
    it(
      `on a terminal: the live view quits on ${name} and leaves the terminal as it found it`,
      { skip: noPty },
      async () => {
        // script(1) runs the command on a pseudo-terminal and forwards our stdin to it. The
        // command runs procconn's main() and then, in the same process (runtimes put the terminal
        // back when they exit), asks stty whether raw mode is off again.
        const dir = mkdtempSync(join(tmpdir(), "procconn-watch-"));
        after(() => rmSync(dir, { recursive: true, force: true }));
        const probe = join(dir, "probe.ts");
        writeFileSync(
          probe,
          `import { main } from ${JSON.stringify(new URL("main.ts", "file://" + ROOT).href)};\n` +
            `import { spawnSync } from "node:child_process";\n` +
            `const code = await main(["watch", "--interval", "200ms", "--tcp", "--pid", "1"]);\n` +
            `const stty = spawnSync("stty", ["-a"], { stdio: ["inherit", "pipe", "inherit"] });\n` +
            `console.log("exit=" + code + "\\n" + stty.stdout);\n`,
        );
        const inner = `"${DENO}" run -A --no-check --config deno.json "${probe}"`;
        const env: Record<string, string | undefined> = { ...process.env, TERM: "xterm" };
        // no-color.org: only a NO_COLOR that is not empty turns colour off.
        if (name === "Ctrl-C") env.NO_COLOR = "";
        else delete env.NO_COLOR;
        const term = spawn("script", ["-qec", inner, "/dev/null"], {
          cwd: ROOT,
          stdio: ["pipe", "pipe", "pipe"],
          env,
        });
        children.push(term);
        let text = "";
        term.stdout!.on("data", (d) => (text += d));
        const until = async (what: string, pred: () => boolean, ms = 10_000) => {
          const deadline = Date.now() + ms;
          while (!pred()) {
            if (Date.now() > deadline) {
              throw new Error(`No ${what}; output: ${JSON.stringify(text)}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        };
        await until("first frame", () => text.includes("procconn watch") && text.includes("Proto"));
        term.stdin!.write(key);
        await until("exit", () => term.exitCode !== null);
        assert.equal(term.exitCode, 0);
        const enter = text.indexOf(ENTER_SCREEN), leave = text.lastIndexOf(LEAVE_SCREEN);
        assert.ok(enter >= 0 && leave > enter, "entered and left the full-screen view");
        assert.ok(text.slice(enter, leave).includes("\x1b[1mProto"), "bold header: colour is on");
        const afterwards = text.slice(leave);
        assert.match(afterwards, /exit=0/);
        assert.equal(afterwards.includes("\x1b[?1049h"), false);
        assert.match(afterwards, /(^|[\s;])icanon([\s;]|$)/m, "canonical mode is back");
        assert.match(afterwards, /(^|[\s;])echo([\s;]|$)/m, "echo is back");
      },
    );
  }
});
