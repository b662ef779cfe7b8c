/**
 * Child processes for the Linux tests: interpreters found on this machine, and a spawn that
 * waits for the child's first stdout line (JSON) and can be killed with everything it forked.
 *
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import process from "node:process";

/** An interpreter: the real file of its image (what `/proc/<pid>/exe` should show). */
export interface Interpreter {
  /** Absolute path, symlinks resolved. */
  path: string;
}

/** Asks the interpreter itself where its binary is, then resolves symlinks. */
function locate(command: string, args: string[]): Interpreter | null {
  try {
    const reported = execFileSync(command, args, { encoding: "utf8" }).trim();
    return { path: realpathSync(reported) };
  } catch {
    return null;
  }
}

/** Node.js, as `node -p process.execPath` reports itself. */
export const NODE = locate("node", ["-p", "process.execPath"]);
/** Python 3, as `sys.executable` reports itself (a pyenv shim resolves to the real binary). */
export const PYTHON = locate("python3", ["-c", "import sys; print(sys.executable)"]);

/** A running child and the JSON it printed when it was ready. */
export interface Running<T> {
  /** The child process. */
  child: ChildProcess;
  /** The first line it printed, parsed. */
  ready: T;
  /**
   * Closes the child's stdin and waits for it to exit; after 3 s kills it and the extra pids
   * (grandchildren) instead.
   */
  stop(...extraPids: number[]): Promise<void>;
}

/**
 * Spawns `interpreter` with `args` and waits (at most 10 s) for its first stdout line, which
 * must be JSON. The child's stdin stays open: the scripts read it to the end, so they also
 * exit when the test runner dies.
 */
export function start<T>(interpreter: Interpreter, args: string[]): Promise<Running<T>> {
  const child = spawn(interpreter.path, args, { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  const stop = async (...extraPids: number[]) => {
    // End of stdin lets the scripts reap what they forked and exit; SIGKILL is the fallback.
    // Killing a parent first would leave its children to an init that may never reap them.
    child.stdin?.end();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceful = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 3000))),
    ]);
    clearTimeout(timer);
    if (graceful) return;
    for (const pid of [...extraPids, child.pid!]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const fail = (why: string) => {
      clearTimeout(timer);
      stop().then(() => reject(new Error(`${interpreter.path} ${why}; stderr: ${err}`)));
    };
    const timer = setTimeout(() => fail("printed nothing within 10 s"), 10_000);
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const end = out.indexOf("\n");
      if (end < 0) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners("data");
      child.stdout!.resume();
      try {
        resolve({ child, ready: JSON.parse(out.slice(0, end)) as T, stop });
      } catch {
        fail(`printed ${JSON.stringify(out.slice(0, end))}, not JSON`);
      }
    });
    child.once("exit", (code) => {
      if (!out.includes("\n")) fail(`exited with ${code} before it was ready`);
    });
  });
}

// Python whose main thread ends (pthread_exit) while another thread runs on, holding a listener:
// its /proc/<pid>/fd is empty and its exe link unreadable, so ss and lsof show no owner.
const HEADLESS_PY = `
import ctypes, json, socket, sys, threading
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
threading.Thread(target=sys.stdin.read).start()
print(json.dumps({"port": s.getsockname()[1]}), flush=True)
ctypes.CDLL(None).pthread_exit(None)
`;

/**
 * Starts a Python process whose main thread has ended (needs {@linkcode PYTHON}), and returns it
 * once the process's own state reads zombie; it says the port of the listener it holds.
 */
export async function startHeadless(): Promise<Running<{ port: number }>> {
  const child = await start<{ port: number }>(PYTHON!, ["-c", HEADLESS_PY]);
  const status = () => {
    try {
      return readFileSync(`/proc/${child.child.pid}/status`, "latin1");
    } catch {
      return "";
    }
  };
  for (let i = 0; i < 100 && !/^State:\s+Z/m.test(status()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (!/^State:\s+Z/m.test(status())) {
    await child.stop();
    throw new Error("the main thread of the headless child has not ended");
  }
  return child;
}

/**
 * TCP listeners of this process on the given addresses, each on a port the kernel picks.
 *
 * @param addresses One address per listener, such as `127.0.0.1` or `::1`.
 * @returns The servers (close them when done) and their ports, in the order of `addresses`.
 */
export async function listenOn(
  addresses: readonly string[],
): Promise<{ servers: import("node:net").Server[]; ports: number[] }> {
  const { createServer } = await import("node:net");
  const servers = addresses.map(() => createServer());
  await Promise.all(
    servers.map((server, i) =>
      new Promise<void>((done) => server.listen(0, addresses[i], () => done()))
    ),
  );
  return { servers, ports: servers.map((server) => (server.address() as { port: number }).port) };
}
