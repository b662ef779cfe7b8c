import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  GapCounter,
  hiddenOwnersLine,
  ListingNotes,
  notRunningLine,
  otherNetworksLine,
  otherNetworksNote,
  SelectionCheck,
  statsOffLine,
  statsUnsupportedLine,
  unknownStateLine,
} from "../../cli/_gaps.ts";
import type { OtherNetwork, ProcessSummary, SocketSource } from "../../core/source.ts";
import type { Connection } from "../../core/record.ts";
import type { FilterOptions } from "../../core/filter.ts";
import { connection } from "../_record.ts";

function record(over: Partial<Connection>): Connection {
  return connection({ localPort: 80, state: "LISTEN", ...over });
}

function said(rows: Connection[], root: boolean): string[] {
  const gaps = new GapCounter();
  for (const row of rows) gaps.add(row);
  const line = gaps.line(root);
  return line === null ? [] : [line];
}

describe("GapCounter", () => {
  const denied = record({
    pid: 7,
    processPath: null,
    unavailable: { processPath: "access-denied" },
  });
  const alsoDenied = record({ pid: 7, localPort: 81, unavailable: { userName: "access-denied" } });
  const ownerUnknown = record({ pid: null, unavailable: { pid: "access-denied" } });
  const noOwner = record({ pid: null, unavailable: { pid: "no-owner" } });
  const exited = record({ pid: 9, unavailable: { processPath: "process-exited" } });

  it("says nothing when nothing was refused", () => {
    assert.deepEqual(said([noOwner, exited], false), []);
  });

  it("counts processes once, however many of their rows were refused", () => {
    assert.deepEqual(said([denied, alsoDenied, exited], false), [
      "procconn: 1 process could not be fully read (access denied): " +
      "run elevated for paths, command lines and users",
    ]);
  });

  it("counts endpoints whose owner could not be identified, and both in one line", () => {
    assert.deepEqual(said([ownerUnknown, ownerUnknown, denied], false), [
      "procconn: the owner of 2 endpoints could not be identified and 1 process could not be " +
      "fully read (access denied): run elevated for owners, paths, command lines and users",
    ]);
  });

  it("gives no advice to elevate where the backend says this process runs elevated", async () => {
    const source = (elevated: boolean | null): SocketSource => ({
      name: "fake",
      listSockets: () => Promise.resolve([]),
      describeProcesses: () => Promise.resolve(new Map()),
      runsElevated: () => elevated,
    });
    const lines = (elevated: boolean | null) =>
      new ListingNotes({}).addAll([denied]).lines(source(elevated), false);
    assert.deepEqual(await lines(true), [
      "procconn: 1 process could not be fully read (access denied)",
    ]);
    for (const answer of [false, null]) {
      assert.match((await lines(answer))[0], /: run elevated for paths/, `runsElevated ${answer}`);
    }
  });

  it("gives root no advice to elevate", () => {
    assert.deepEqual(said([ownerUnknown, denied], true), [
      "procconn: the owner of 1 endpoint could not be identified and 1 process could not be " +
      "fully read (access denied)",
    ]);
  });
});

describe("other network namespaces", () => {
  const net = (n: number, pids: number[], sockets: number): OtherNetwork => ({
    namespace: `net:[40265322${n}]`,
    pids,
    sockets,
  });

  it("names one namespace by its first pid, in the singular for one socket", () => {
    assert.equal(
      otherNetworksLine([net(1, [812, 900], 1)]),
      "procconn: 1 socket in another network namespace (pid 812) is not listed: " +
        "run procconn inside it, e.g. nsenter -t 812 -n procconn",
    );
  });

  it("adds up several namespaces and shows at most five pids", () => {
    const nets = [1, 2, 3, 4, 5, 6].map((n) => net(n, [100 * n], n));
    assert.equal(
      otherNetworksLine(nets),
      "procconn: 21 sockets in 6 other network namespaces (pids 100, 200, 300, 400, 500, ...) " +
        "are not listed: run procconn inside each, e.g. nsenter -t 100 -n procconn",
    );
    assert.equal(otherNetworksLine([]), null);
  });

  it("says the count ignores the filters when there are any besides --pid", async () => {
    assert.equal(
      otherNetworksLine([net(1, [812], 3)], true),
      "procconn: 3 sockets in another network namespace (pid 812) are not listed (counted " +
        "without the filters): run procconn inside it, e.g. nsenter -t 812 -n procconn",
    );
    const source: SocketSource = {
      name: "fake",
      listSockets: () => Promise.resolve([]),
      describeProcesses: () => Promise.resolve(new Map()),
      otherNetworks: () => Promise.resolve([net(1, [812], 3)]),
    };
    const note = async (filters: FilterOptions) =>
      (await new ListingNotes(filters).lines(source, true)).join("\n");
    assert.doesNotMatch(await note({}), /counted without the filters/);
    assert.doesNotMatch(await note({ pids: [812] }), /counted without the filters/);
    assert.doesNotMatch(await note({ listening: false }), /counted without the filters/);
    for (
      const filters of [{ port: 80 }, { listening: true }, { name: "x" }, { families: ["IPv6"] }]
    ) {
      assert.match(await note(filters as FilterOptions), /counted without the filters/);
    }
  });

  it("asks the backend about the selected pids, and stays quiet when it cannot answer", async () => {
    const asked: (number[] | undefined)[] = [];
    const source = (answer: () => Promise<OtherNetwork[]>): SocketSource => ({
      name: "fake",
      listSockets: () => Promise.resolve([]),
      describeProcesses: () => Promise.resolve(new Map()),
      otherNetworks: (pids) => (asked.push(pids && [...pids]), answer()),
    });
    const lines = [
      await otherNetworksNote(source(() => Promise.resolve([net(1, [7], 2)])), [7, 8]),
      await otherNetworksNote(source(() => Promise.resolve([])), undefined),
      await otherNetworksNote(source(() => Promise.reject(new Error("EACCES"))), [9]),
    ];
    const plain: SocketSource = { ...source(() => Promise.resolve([])), otherNetworks: undefined };
    lines.push(await otherNetworksNote(plain, undefined));
    assert.deepEqual(asked, [[7, 8], undefined, [9]]);
    assert.match(lines[0]!, /^procconn: 2 sockets in another network namespace \(pid 7\)/);
    assert.deepEqual(lines.slice(1), [null, null, null]);
  });
});

describe("a selection that names no running process", () => {
  const table: ProcessSummary[] = [
    { pid: 1, parentPid: 0, name: "init", startTime: null },
    { pid: 812, parentPid: 1, name: "nginx", startTime: null },
  ];

  it("names the pids that do not run and the --name patterns that match nothing", () => {
    assert.equal(
      notRunningLine([4242], undefined, table),
      "procconn: no process runs with pid 4242",
    );
    assert.equal(
      notRunningLine([4242, 4243, 812], ["ngnix", "httpd*"], table),
      'procconn: no process runs with pids 4242, 4243, and none matches --name "ngnix", "httpd*"',
    );
    assert.equal(notRunningLine([], "ngnix", table), 'procconn: no process matches --name "ngnix"');
    assert.equal(
      notRunningLine([4242, 4242, 1, 4243, 4242], undefined, table),
      "procconn: no process runs with pids 4242, 4243",
      "each pid once, however often it was given",
    );
    // Running without sockets: the empty listing is the answer, nothing to add.
    assert.equal(notRunningLine([812], "NGINX.exe", table), null);
  });

  it("says which process a thread id belongs to", () => {
    const threads = (id: number) => id === 4894 ? 812 : null;
    assert.equal(
      notRunningLine([4894, 4242], undefined, table, threads),
      "procconn: no process runs with pid 4242, and 4894 is a thread of pid 812 " +
        "(--pid 812 lists its sockets)",
    );
  });

  it("a name of 15 bytes that starts a longer process name is taken for one ps cut short", () => {
    const named = [...table, {
      pid: 900,
      parentPid: 1,
      name: "longexe_name_is_here",
      startTime: null,
    }];
    assert.equal(
      notRunningLine([], "longexe_name_is", named),
      'procconn: no process matches --name "longexe_name_is", and "longexe_name_is" is the start ' +
        'of the name "longexe_name_is_here" as ps cuts it (--name "longexe_name_is*" matches it)',
    );
    // Shorter, or with a wildcard: an ordinary miss.
    assert.equal(
      notRunningLine([], "longexe_name", named),
      'procconn: no process matches --name "longexe_name"',
    );
  });

  it("names ten pids and counts the rest, and groups thread ids by their process", () => {
    const many = Array.from({ length: 2500 }, (_, i) => 10_000 + i);
    const line = notRunningLine(many, undefined, table)!;
    assert.equal(
      line,
      "procconn: no process runs with pids 10000, 10001, 10002, 10003, 10004, 10005, 10006, " +
        "10007, 10008, 10009 and 2490 more",
    );
    // Threads of init (1), selected itself, say nothing; those of nginx (812) are one part.
    const threadsOf = (id: number) => id >= 60 && id < 80 ? 1 : id >= 900 && id < 903 ? 812 : null;
    assert.equal(
      notRunningLine(
        [1, ...Array.from({ length: 20 }, (_, i) => 60 + i), 900, 901, 902],
        undefined,
        table,
        threadsOf,
      ),
      "procconn: 900, 901, 902 are threads of pid 812 (--pid 812 lists its sockets)",
    );
    // Threads of twelve processes: ten are named, the rest counted.
    const owners = (id: number) => id >= 5000 ? 100 + Math.floor((id - 5000) / 2) : null;
    const ids = Array.from({ length: 24 }, (_, i) => 5000 + i);
    assert.match(
      notRunningLine(ids, undefined, table, owners)!,
      /^procconn: 5000, 5001 are threads of pid 100 \(--pid 100 lists its sockets\), and .*, and 5018, 5019 are threads of pid 109 \(--pid 109 lists its sockets\), and 4 more are threads of 2 other processes$/,
    );
  });

  function source(processes: () => Promise<ProcessSummary[]>) {
    const calls = { count: 0 };
    const fake: SocketSource = {
      name: "fake",
      listSockets: () => Promise.resolve([]),
      describeProcesses: () => Promise.resolve(new Map()),
      listProcesses: () => (calls.count++, processes()),
    };
    return { fake, calls };
  }

  it("reads the process table only when a selected pid kept no row, or for a name", async () => {
    const { fake, calls } = source(() => Promise.resolve(table));
    const seen = new SelectionCheck({ pids: [812, 7] });
    seen.add(record({ pid: 812 }));
    seen.add(record({ pid: 7 }));
    assert.deepEqual(await seen.lines(fake, false), []);
    assert.deepEqual(await new SelectionCheck({}).lines(fake, false), []);
    assert.equal(calls.count, 0);
    const named = new SelectionCheck({ name: "nginx" });
    named.add(record({ pid: 812 }));
    assert.deepEqual(await named.lines(fake, true), []);
    assert.equal(calls.count, 0, "root: a name that kept rows needs no second look");
    assert.deepEqual(await named.lines(fake, false), []);
    assert.equal(calls.count, 1);
    calls.count = 0;

    const gone = new SelectionCheck({ pids: [812, 9999] });
    gone.add(record({ pid: 812 }));
    assert.deepEqual(await gone.lines(fake, false), ["procconn: no process runs with pid 9999"]);
    assert.equal(calls.count, 1);
    // A table that cannot be read leaves the note out; the listing succeeded.
    const broken = source(() => Promise.reject(new Error("EACCES"))).fake;
    assert.deepEqual(await new SelectionCheck({ pids: [1] }).lines(broken, false), []);
  });

  it("asks the backend once about every selected id no process has, whether it is a thread", async () => {
    const asked: number[][] = [];
    const { fake } = source(() => Promise.resolve(table));
    fake.processesOfThreads = (ids) => (asked.push([...ids]), new Map([[4894, 1]]));
    const check = new SelectionCheck({ pids: [812, 4894, 4242, 4243] });
    assert.deepEqual(await check.lines(fake, false), [
      "procconn: no process runs with pids 4242, 4243, and 4894 is a thread of pid 1 " +
      "(--pid 1 lists its sockets)",
    ]);
    // 812 runs (it had no row): it is no thread's id to look up.
    assert.deepEqual(asked, [[4894, 4242, 4243]]);
  });

  it("says which selected processes hide their sockets from this user", async () => {
    const asked: number[][] = [];
    const { fake } = source(() => Promise.resolve(table));
    fake.hiddenOwners = (pids) => (asked.push([...pids]), Promise.resolve([812]));
    const check = new SelectionCheck({ pids: [1, 812, 9999] });
    check.add(record({ pid: 1 }));
    assert.deepEqual(await check.lines(fake, false), [
      "procconn: no process runs with pid 9999",
      "procconn: the open files of pid 812 (nginx) could not be read (access denied), so its " +
      "sockets are not listed: run elevated",
    ]);
    // Only the running processes without rows are asked about; --name adds those it matches.
    const named = new SelectionCheck({ name: "NGINX" });
    assert.equal(
      (await named.lines(fake, true))[0],
      "procconn: the open files of pid 812 " +
        "(nginx) could not be read (access denied), so its sockets are not listed",
    );
    assert.deepEqual(asked, [[812], [812]]);
    // A name that kept rows of one process still names another it matches that hides its own.
    asked.length = 0;
    const two = [...table, { pid: 813, parentPid: 1, name: "nginx", startTime: null }];
    const { fake: both } = source(() => Promise.resolve(two));
    both.hiddenOwners = (pids) => (asked.push([...pids]), Promise.resolve([812]));
    const partly = new SelectionCheck({ name: "nginx" });
    partly.add(record({ pid: 813 }));
    assert.match((await partly.lines(both, false))[0], /open files of pid 812 \(nginx\)/);
    // With --pid and --name, only the pids that also match the name are asked about.
    const narrowed = new SelectionCheck({ pids: [1, 812], name: "nginx" });
    await narrowed.lines(both, true);
    assert.deepEqual(asked, [[812], [812]]);
    fake.hiddenOwners = () => Promise.reject(new Error("EIO"));
    assert.deepEqual(await new SelectionCheck({ pids: [812] }).lines(fake, false), []);
  });

  it("names several hidden processes by their pids, at most five", () => {
    assert.equal(hiddenOwnersLine([], table, false), null);
    assert.equal(
      hiddenOwnersLine([1, 2, 3, 4, 5, 6], table, true),
      "procconn: the open files of 6 processes (pids 1, 2, 3, 4, 5, ...) could not be read " +
        "(access denied), so their sockets are not listed",
    );
  });

  it("writes a hidden process's name on the one line, without its control characters", () => {
    const odd = [{ pid: 9, parentPid: 1, name: "x\n\x1b]0;pwned\x07", startTime: null }];
    assert.equal(
      hiddenOwnersLine([9], odd, true),
      "procconn: the open files of pid 9 (x ?]0;pwned?) could not be read (access denied), so " +
        "its sockets are not listed",
    );
  });

  it("ListingNotes says refusals, the selection and other namespaces, in that order", async () => {
    const { fake } = source(() => Promise.resolve(table));
    fake.otherNetworks = () =>
      Promise.resolve([{ namespace: "net:[4026532291]", pids: [77], sockets: 3 }]);
    const notes = new ListingNotes({ pids: [4242] });
    assert.deepEqual(await notes.lines(fake, true), [
      "procconn: no process runs with pid 4242",
      "procconn: 3 sockets in another network namespace (pid 77) are not listed: " +
      "run procconn inside it, e.g. nsenter -t 77 -n procconn",
    ]);
    const all = new ListingNotes({}).addAll([
      record({ pid: null, unavailable: { pid: "access-denied" } }),
    ]);
    const written: string[] = [];
    await all.report({ ...fake, otherNetworks: undefined }, (line) => written.push(line));
    assert.deepEqual(written, [
      "procconn: the owner of 1 endpoint could not be identified (access denied)" +
      (process.getuid?.() === 0 ? "" : ": run elevated for owners, paths, command lines and users"),
    ]);
  });

  it("says how many connections have their TCP statistics switched off, after the refusals", async () => {
    const off = { bytesIn: "not-enabled", bytesOut: "not-enabled" } as const;
    const notes = new ListingNotes({}).addAll([
      record({ pid: null, unavailable: { pid: "access-denied" } }),
      record({ unavailable: off }),
      record({ unavailable: off }),
      record({ unavailable: { bytesIn: "not-applicable" } }),
    ]);
    const { fake } = source(() => Promise.resolve(table));
    assert.deepEqual((await notes.lines(fake, true)).slice(1), [
      "procconn: 2 connections have their TCP statistics switched off, so they have no " +
      "counters: --enable-stats switches them on (it asks first)",
    ]);
    assert.equal(
      statsOffLine(1),
      "procconn: 1 connection has its TCP statistics switched off, so it has no counters: " +
        "--enable-stats switches them on (it asks first)",
    );
    assert.equal(statsOffLine(0), null);
  });

  it("counts the endpoints in a state it does not know, after the refusals", async () => {
    const notes = new ListingNotes({}).addAll([
      record({ pid: null, unavailable: { pid: "access-denied" } }),
      record({ state: "UNKNOWN" }),
      record({ state: "ESTABLISHED" }),
      record({ state: "UNKNOWN" }),
    ]);
    const { fake } = source(() => Promise.resolve(table));
    assert.deepEqual((await notes.lines(fake, true)).slice(1), [
      "procconn: 2 TCP endpoints are in a state this version does not know (a newer kernel?): " +
      "they are listed with state UNKNOWN",
    ]);
    assert.equal(
      unknownStateLine(1, { name: "windows-iphlpapi" }),
      "procconn: 1 TCP endpoint is in a state this version does not know (a newer Windows?): " +
        "it is listed with state UNKNOWN",
    );
    assert.equal(unknownStateLine(0, { name: "windows-iphlpapi" }), null);
  });

  it("counts the connections whose counters the backend cannot read, and says why", async () => {
    const notes = new ListingNotes({}).addAll([
      record({ unavailable: { bytesIn: "not-supported" } }),
      record({ unavailable: { bytesIn: "not-supported" } }),
      record({ unavailable: { bytesIn: "not-applicable" } }),
      record({ unavailable: {} }),
    ]);
    const { fake } = source(() => Promise.resolve([]));
    const why = "the TCP tables were read from /proc/net, which has none (they come through " +
      "netlink sock_diag, not used here: netlink is turned off)";
    const lines = await notes.lines({ ...fake, countersUnavailable: () => why }, true);
    assert.deepEqual(lines.filter((line) => line.includes("counters")), [
      `procconn: 2 connections have no TCP counters: ${why}`,
    ]);
    assert.equal(
      statsUnsupportedLine(1, { name: "windows-iphlpapi" }),
      "procconn: 1 connection has no TCP counters: this Windows does not answer " +
        "GetPerTcpConnectionEStats for them",
    );
    assert.equal(
      statsUnsupportedLine(3, { name: "other" }),
      "procconn: 3 connections have no TCP counters: the other backend cannot read them on " +
        "this system",
    );
    assert.equal(statsUnsupportedLine(0, { name: "other" }), null);
  });
});
