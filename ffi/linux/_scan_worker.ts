/**
 * The fd-scan worker: on Deno, a second thread takes pids from the shared claim list and scans
 * their fd directories while the main thread dumps the socket tables, then joins in. Reading
 * fd links is kernel work (about 1.7 µs a link), so two threads finish it in about half the time.
 * It answers each request it is sent, in turn, and stays until the main thread ends it (after
 * one listing, or after the last listing of a `watch`).
 *
 * Loaded only on Deno, and only by `startSocketOwnerScan`; it imports no Node module.
 *
 * @module
 */
import { type FdCalls, FdScanner, PidClaims, type ScanReply, type ScanRequest } from "./fd_scan.ts";
import { LIBC_SYMBOLS, libcCandidates } from "./_libc_symbols.ts";
import { files } from "../_files.ts";

const SCAN_SYMBOLS = {
  open: LIBC_SYMBOLS.open,
  close: LIBC_SYMBOLS.close,
  getdents64: LIBC_SYMBOLS.getdents64,
  readlinkat: LIBC_SYMBOLS.readlinkat,
} as const satisfies Deno.ForeignLibraryInterface;

/** The C library's scan calls, or null (the plain file calls then do the scan). */
function scanCalls(): FdCalls | null {
  for (const name of libcCandidates()) {
    try {
      return Deno.dlopen(name, SCAN_SYMBOLS).symbols;
    } catch {
      // the next candidate
    }
  }
  return null;
}

/** Made at the first request: its buffers and its compiled code serve every later one. */
let scanner: FdScanner | undefined;

function scan(request: ScanRequest): ScanReply {
  const claims = new PidClaims(request.claims);
  if (!claims.start()) {
    return {
      id: request.id,
      ok: true,
      inodes: new Float64Array(0),
      pids: new Int32Array(0),
      incomplete: false,
      scanned: 0,
    };
  }
  scanner ??= new FdScanner(files, scanCalls());
  const inodes: number[] = [];
  const pids: number[] = [];
  const sink = (inode: number, pid: number) => {
    inodes.push(inode);
    pids.push(pid);
  };
  const { scanned, complete } = scanner.scanAll(request.root, claims, sink);
  return {
    id: request.id,
    ok: true,
    inodes: Float64Array.from(inodes),
    pids: Int32Array.from(pids),
    incomplete: !complete,
    scanned,
  };
}

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ScanRequest>) => void) | null;
  postMessage(message: ScanReply, transfer: Transferable[]): void;
};

scope.onmessage = (event) => {
  let reply: ScanReply;
  try {
    reply = scan(event.data);
  } catch (err) {
    reply = {
      id: event.data.id,
      ok: false,
      message: err instanceof Error ? err.message : String(err),
    };
  }
  scope.postMessage(reply, reply.ok ? [reply.inodes.buffer, reply.pids.buffer] : []);
};
