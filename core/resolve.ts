/**
 * Reverse DNS for remote addresses: the hosts file first, as the system's own lookups do, then
 * DNS; cached, each lookup time-boxed, a bounded number in flight, so a slow resolver never holds
 * output up for longer than the timeout.
 *
 * @module
 */
import { Resolver } from "node:dns/promises";
import { readFileSync } from "node:fs";
import process from "node:process";
import { parseAddress } from "./address.ts";
import type { Reason } from "./record.ts";

const MAX_ENTRIES = 10_000;

/** Options of {@linkcode ReverseResolver}. */
export interface ResolveOptions {
  /** Longest wait for one lookup, in milliseconds (default 500). */
  timeoutMs?: number;
  /** Lookups in flight at once (default 16). */
  concurrency?: number;
  /** DNS servers (`host:port`) to ask instead of the system's. */
  servers?: string[];
  /**
   * The hosts file to look in before DNS: the system's by default (`/etc/hosts`, on Windows
   * `%SystemRoot%\System32\drivers\etc\hosts`); null to ask DNS only. A missing or unreadable
   * file counts as empty. Under Deno the runtime's resolver itself still answers from the
   * system's hosts file before it asks the servers (Deno offers no way to turn that off), so
   * there null or another file changes only which file procconn reads first; under Node they
   * are honoured as said.
   */
  hostsFile?: string | null;
}

/** A host name, or why there is none. */
export type ResolveResult = { name: string } | { reason: Reason };

/** Resolves addresses to names, each address at most once. */
export class ReverseResolver {
  #cache = new Map<string, Promise<ResolveResult>>();
  #resolver: Resolver;
  #timeoutMs: number;
  #slots: number;
  #waiting: (() => void)[] = [];
  #hostsFile: string | null;
  #hosts: Map<string, string> | null = null;

  /**
   * Sets up a resolver of its own, so that the servers given apply to this one only.
   *
   * @param options Timeout, concurrency and servers.
   */
  constructor(options: ResolveOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 500;
    this.#slots = options.concurrency ?? 16;
    this.#resolver = new Resolver({ timeout: this.#timeoutMs, tries: 1 });
    if (options.servers) this.#resolver.setServers(options.servers);
    this.#hostsFile = options.hostsFile === undefined ? systemHostsFile() : options.hostsFile;
  }

  /**
   * Looks up the name of an address.
   *
   * @param address IPv4 or IPv6 text (a `%scope` suffix is dropped).
   * @returns The hosts file's first name for the address, else the first PTR name, or the reason
   *   there is none (`not-found`, `timeout`).
   */
  lookup(address: string): Promise<ResolveResult> {
    const bare = address.replace(/%.*$/, "").replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1");
    let pending = this.#cache.get(bare);
    if (!pending) {
      // A name from the hosts file does not wait for a slot behind slow DNS queries.
      const key = addressKey(bare);
      const listed = key === null ? undefined : this.#hostNames().get(key);
      pending = listed !== undefined
        ? Promise.resolve({ name: listed })
        : this.#limited(() => this.#lookupOnce(bare));
      this.#cache.set(bare, pending);
      // Bounded, oldest first out; a timeout is not remembered, so a later listing asks again.
      if (this.#cache.size > MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
      pending.then((r) => {
        if ("reason" in r && r.reason === "timeout") this.#cache.delete(bare);
      });
    }
    return pending;
  }

  async #limited<T>(task: () => Promise<T>): Promise<T> {
    while (this.#slots === 0) await new Promise<void>((r) => this.#waiting.push(r));
    this.#slots--;
    try {
      return await task();
    } finally {
      this.#slots++;
      this.#waiting.shift()?.();
    }
  }

  async #lookupOnce(address: string): Promise<ResolveResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<ResolveResult>((resolve) => {
      timer = setTimeout(() => resolve({ reason: "timeout" }), this.#timeoutMs);
    });
    // A PTR query for the address's reverse name, not `reverse`: that one (c-ares under Node)
    // reads /etc/hosts itself, whatever hostsFile says.
    const name = reverseName(address);
    if (name === null) return { reason: "not-found" };
    const query = this.#resolver.resolvePtr(name).then(
      (names): ResolveResult => names.length ? { name: names[0] } : { reason: "not-found" },
      (err): ResolveResult => ({
        reason: (err as { code?: string }).code === "ETIMEOUT" ? "timeout" : "not-found",
      }),
    );
    try {
      return await Promise.race([query, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The hosts file's names by address (the first name given for an address), read once. */
  #hostNames(): Map<string, string> {
    if (this.#hosts) return this.#hosts;
    this.#hosts = new Map();
    if (this.#hostsFile === null) return this.#hosts;
    let text = "";
    try {
      text = readFileSync(this.#hostsFile, "utf8");
    } catch {
      return this.#hosts; // no hosts file: DNS alone, as the system resolver does
    }
    for (const line of text.split(/\r?\n/)) {
      const [address, name] = line.replace(/#.*/, "").trim().split(/\s+/);
      const key = name === undefined ? null : addressKey(address);
      if (key !== null && !this.#hosts.has(key)) this.#hosts.set(key, name);
    }
    return this.#hosts;
  }
}

/** The system's hosts file. */
function systemHostsFile(): string {
  if (process.platform !== "win32") return "/etc/hosts";
  const root = process.env.SystemRoot ?? process.env.windir ?? "C:\\Windows";
  return `${root}\\System32\\drivers\\etc\\hosts`;
}

/**
 * The name a PTR query asks for: `4.3.2.1.in-addr.arpa` for 1.2.3.4, one label per hex digit,
 * last first, under `ip6.arpa` for IPv6. Null when the text is not an address.
 */
function reverseName(text: string): string | null {
  const parsed = parseAddress(text);
  if (parsed === null) return null;
  const bytes = [...parsed.bytes].reverse();
  if (parsed.version === 4) return `${bytes.join(".")}.in-addr.arpa`;
  const digits = bytes.flatMap((b) => [(b & 15).toString(16), (b >> 4).toString(16)]);
  return `${digits.join(".")}.ip6.arpa`;
}

/** One key for every spelling of an address (`::1`, `0:0::1`), or null when it is not one. */
function addressKey(text: string): string | null {
  const parsed = parseAddress(text);
  return parsed && parsed.bytes.join(".");
}
