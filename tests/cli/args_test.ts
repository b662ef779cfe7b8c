import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_TABLE_FIELDS, parseArgs, UsageError, withPidFile } from "../../cli/args.ts";
import { CONNECTION_FIELDS } from "../../core/record.ts";

function usage(args: string[], pattern: RegExp) {
  assert.throws(() => parseArgs(args), (e: Error) => {
    assert.ok(e instanceof UsageError, `${args.join(" ")}: ${e}`);
    assert.match(e.message, pattern);
    assert.equal(e.message.includes("\n"), false, "one line");
    return true;
  });
}

describe("parseArgs", () => {
  it("maps flags to filters", () => {
    const r = parseArgs([
      "--tcp",
      "-6",
      "--state",
      "listen,TimeWait",
      "--pid",
      "4,88",
      "--name",
      "notepad++",
      "--port",
      "443",
      "--local-port",
      "50000",
      "--remote-port",
      "443",
      "--local",
      "127.0.0.1,::1",
      "--remote",
      "10.0.0.0/8",
      "--listening",
    ]);
    assert.equal(r.action, "list");
    assert.deepEqual(r.filters, {
      protocols: ["TCP"],
      families: ["IPv6"],
      states: ["LISTEN", "TIME_WAIT"],
      pids: [4, 88],
      name: ["notepad++"],
      port: [443],
      localPort: [50000],
      remotePort: [443],
      local: ["127.0.0.1", "::1"],
      remote: ["10.0.0.0/8"],
      listening: true,
    });
  });
  it("both or neither of --tcp/--udp and -4/-6 means both", () => {
    const r = parseArgs(["--tcp", "--udp", "-4", "-6"]);
    assert.equal(r.filters.protocols, undefined);
    assert.equal(r.filters.families, undefined);
  });
  it("refuses --state with --udp alone, which nothing can match", () => {
    usage(
      ["--udp", "--state", "listen,Established"],
      /^--state LISTEN,ESTABLISHED selects TCP endpoints and --udp leaves none: UDP endpoints have no state \(--listening takes in UDP servers\)$/,
    );
    usage(["watch", "--state", "listen", "--udp"], /--udp leaves none/);
    assert.deepEqual(parseArgs(["--udp", "--tcp", "--state", "listen"]).filters.states, ["LISTEN"]);
    assert.equal(parseArgs(["--udp", "--listening"]).filters.listening, true);
  });
  it("refuses --state without LISTEN together with --listening, which nothing can match", () => {
    usage(
      ["--state", "established,TimeWait", "-l"],
      /^--state ESTABLISHED,TIME_WAIT and --listening leave nothing: --listening keeps LISTEN sockets and UDP servers, and --state leaves UDP out \(use one of the two\)$/,
    );
    usage(["watch", "--listening", "--state", "close-wait"], /and --listening leave nothing/);
    const both = parseArgs(["--state", "listen,established", "--listening"]).filters;
    assert.deepEqual([both.states, both.listening], [["LISTEN", "ESTABLISHED"], true]);
  });
  it("defaults: table with the classic columns; json with every field", () => {
    assert.deepEqual(parseArgs([]).fields, DEFAULT_TABLE_FIELDS);
    assert.deepEqual(parseArgs(["--format", "json"]).fields, CONNECTION_FIELDS);
    assert.deepEqual(parseArgs(["--format", "csv", "--fields", "pid,localPort"]).fields, [
      "pid",
      "localPort",
    ]);
  });
  it("colour off with --no-color or NO_COLOR", () => {
    assert.equal(parseArgs([]).color, true);
    assert.equal(parseArgs(["--no-color"]).color, false);
    assert.equal(parseArgs([], { noColorEnv: true }).color, false);
  });
  it("lets BPF be used unless --no-bpf, for every command that lists", () => {
    assert.equal(parseArgs([]).bpf, true);
    assert.equal(parseArgs(["--no-bpf"]).bpf, false);
    assert.equal(parseArgs(["watch", "--no-bpf"]).bpf, false);
    assert.equal(parseArgs(["snapshot", "--out", "x.csv", "--no-bpf"]).bpf, false);
    assert.equal(parseArgs(["tree", "--no-bpf"]).bpf, false);
    assert.match(parseArgs(["--help"]).text, /--no-bpf +Linux: find socket owners/);
  });
  it("tree with --pid or --name takes in the descendants, as --tree does for a listing", () => {
    assert.equal(parseArgs(["tree", "--pid", "5"]).enrich.tree, true);
    assert.equal(parseArgs(["tree", "--name", "sshd"]).enrich.tree, true);
    assert.equal(parseArgs(["tree"]).enrich.tree, false);
    assert.equal(parseArgs(["--pid", "5", "--tree"]).enrich.tree, true);
    assert.equal(parseArgs(["--pid", "5"]).enrich.tree, false);
  });
  it("--enable-stats reads the counters too; --yes confirms it and nothing else", () => {
    const asked = parseArgs(["--enable-stats"]);
    assert.deepEqual([asked.enrich.stats, asked.enrich.enableStats, asked.confirmed], [
      true,
      true,
      false,
    ]);
    assert.equal(parseArgs(["watch", "--enable-stats", "-y"]).confirmed, true);
    const read = parseArgs(["--stats"]);
    assert.deepEqual([read.enrich.stats, read.enrich.enableStats], [true, false]);
    usage(["--yes"], /^--yes answers --enable-stats's question, and --enable-stats is not given$/);
    usage(["--stats", "-y"], /--enable-stats is not given/);
  });
  it("takes a value that starts with - when written --flag=value", () => {
    assert.deepEqual(parseArgs(["--name=-bash"]).filters.name, ["-bash"]);
  });
  it("reads --flag=value, grouped short flags, and adds up a repeated list", () => {
    const r = parseArgs(["--pid=1", "-46l", "--pid", "2", "--format=ndjson"]);
    assert.deepEqual(r.filters.pids, [1, 2]);
    assert.equal(r.filters.families, undefined);
    assert.equal(r.filters.listening, true);
    assert.equal(r.format, "ndjson");
    assert.equal(r.formatGiven, true);
    assert.equal(parseArgs([]).formatGiven, false);
  });
  it("adds up every comma list given twice, and refuses any other value given twice", () => {
    const r = parseArgs([
      "--port=80",
      "--port",
      "443",
      "--state",
      "listen",
      "--state=established",
      "--name",
      "a",
      "--name",
      "b*",
      "--local",
      "::1",
      "--local",
      "10.0.0.0/8",
      "--fields",
      "pid",
      "--fields",
      "localPort",
    ]);
    assert.deepEqual(r.filters.port, [80, 443]);
    assert.deepEqual(r.filters.states, ["LISTEN", "ESTABLISHED"]);
    assert.deepEqual(r.filters.name, ["a", "b*"]);
    assert.equal(r.filters.local?.length, 2);
    assert.deepEqual(r.fields, ["pid", "localPort"]);
    // The same value twice is no contradiction.
    assert.equal(parseArgs(["--format", "json", "--format=json"]).format, "json");
    usage(["--format", "json", "--format", "csv"], /'--format' is given 2 times \("json", "csv"\)/);
    usage(["watch", "--interval", "1s", "--interval", "2s"], /'--interval' is given 2 times/);
    usage(["snapshot", "--out", "a.csv", "--out", "b.csv"], /'--out' is given 2 times/);
  });
  it("names the value typed when one of a repeated list's values is bad, not the lists joined", () => {
    usage(["--pid", "1", "--pid", "2,,3"], /^Invalid pid list "2,,3": it has an empty item/);
    usage(["--state", "listen", "--state", ","], /^Invalid state list ",": it is empty/);
    usage(["--port", ",5", "--port", "1"], /^Invalid port list ",5": it has an empty item/);
    usage(["--fields", "pid", "--fields", "nope"], /^Unknown field "nope"/);
  });
  it("knows no negation but --no-color and --no-bpf", () => {
    for (
      const flag of ["--no-tcp", "--no-udp", "--no-listening", "--no-help", "--color", "--bpf"]
    ) {
      usage([flag], new RegExp(`unknown option '${flag}'`));
    }
  });
  it("takes durations up to 1h in ms, s, m or h, and counts up to 999999999", () => {
    assert.equal(parseArgs(["watch", "--interval", "1h"]).intervalMs, 3_600_000);
    assert.equal(parseArgs(["watch", "--interval", "0.5m"]).intervalMs, 30_000);
    assert.equal(parseArgs(["watch", "--interval", "3"]).intervalMs, 3000);
    usage(["watch", "--interval", "1.5h"], /"1.5h".*100ms to 1h/);
    assert.equal(parseArgs(["watch", "--count", "999999999"]).count, 999_999_999);
    usage(["watch", "--count", "1234567890"], /"1234567890": expected .* from 1 to 999999999$/);
  });
  it("each command has its own options and defaults", () => {
    const snap = parseArgs(["snapshot", "--out", "x.csv", "--append"]);
    assert.deepEqual([snap.action, snap.out, snap.append, snap.format], [
      "snapshot",
      "x.csv",
      true,
      "csv",
    ]);
    const watch = parseArgs(["watch", "--interval", "2s", "--count", "3"]);
    assert.deepEqual([watch.action, watch.intervalMs, watch.count, watch.formatGiven], [
      "watch",
      2000,
      3,
      false,
    ]);
    assert.equal(parseArgs(["--resolve"]).enrich.resolve && 500, 500);
    assert.deepEqual(parseArgs(["--resolve", "--resolve-timeout", "2s"]).enrich.resolve, {
      timeoutMs: 2000,
    });
    usage(
      ["--out", "x.csv"],
      /^procconn does not take '--out', which belongs to procconn snapshot: run procconn snapshot --help$/,
    );
    usage(
      ["--interval", "2s"],
      /^procconn does not take '--interval', which belongs to procconn watch: run procconn watch --help$/,
    );
    usage(
      ["tree", "--count", "2"],
      /^procconn tree does not take '--count', which belongs to procconn watch: run/,
    );
    // A tree draws each endpoint in one form; its columns are not chosen.
    usage(
      ["tree", "--fields", "pid"],
      /^procconn tree does not take '--fields', which belongs to procconn, procconn watch and procconn snapshot: run procconn --help$/,
    );
    usage(
      ["watch", "--version"],
      /^procconn watch does not take '--version', which belongs to procconn: run procconn --help$/,
    );
    usage(["watch", "--bogus"], /unknown option '--bogus': run procconn --help for the options$/);
  });
  it("help and version print text", () => {
    const help = parseArgs(["--help"]);
    assert.equal(help.action, "help");
    assert.match(help.text, /--state <states>/);
    for (const command of [[], ["watch"], ["snapshot"], ["tree"]]) {
      const text = parseArgs([...command, "--help"]).text;
      assert.match(
        text,
        /\S\n\nExit codes: [^\n]+\n$/,
        `${command} --help: a blank line, then the codes`,
      );
    }
    assert.match(help.text, /^Usage: procconn \[watch\|snapshot\|tree\] \[options\]\n/);
    assert.match(help.text, /^ {2}-h, --help +show this help$/m);
    assert.match(help.text, /^ {2}--format <format> +output format \(table, json, ndjson, csv\)$/m);
    for (const line of help.text.split("\n")) assert.ok(line.length <= 80, line);
    assert.match(parseArgs(["snapshot", "-h"]).text, /^Usage: procconn snapshot --out <file>/);
    assert.match(parseArgs(["watch", "--help"]).text, /--interval <duration>/);
    const version = parseArgs(["--version"]);
    assert.equal(version.action, "version");
    assert.match(version.text, /^procconn \d+\.\d+\.\d+ \((deno|node) [\d.]+; \w+ \w+\)\n$/);
  });
  it("takes IPv6 addresses in brackets and numeric zones, as the table prints them", () => {
    const r = parseArgs(["--local", "[::1],[fe80::1%4]/64", "--remote", "fe80::%2/10"]);
    assert.equal(r.action, "list");
    assert.deepEqual(r.filters.local, ["[::1]", "[fe80::1%4]/64"]);
    assert.deepEqual(r.filters.remote, ["fe80::%2/10"]);
  });
  it("reads ports and pids alike: decimal digits, leading zeros allowed, the value in range", () => {
    const r = parseArgs(["--port", "041001,080", "--pid", "015866,00000000000000000001"]);
    assert.equal(r.action, "list");
    assert.deepEqual(r.filters.port, [41001, 80]);
    assert.deepEqual(r.filters.pids, [15866, 1]);
    usage(["--port", "065536"], /^Invalid port "065536": expected a whole number from 0 to 65535,/);
    usage(["--pid", "04294967296"], /^Invalid pid "04294967296": expected a whole number/);
    usage(["--port", "1e3"], /^Invalid port "1e3"/);
    usage(["--pid", "0x10"], /^Invalid pid "0x10"/);
  });
  it("reads ranges of ports FIRST-LAST beside single ports, and refuses broken ones", () => {
    const r = parseArgs([
      "--local-port",
      "49152-65535, 22",
      "--remote-port",
      "0-1023",
      "--port",
      "8080 - 8081,443-443",
    ]);
    assert.deepEqual(r.filters.localPort, [{ from: 49152, to: 65535 }, 22]);
    assert.deepEqual(r.filters.remotePort, [{ from: 0, to: 1023 }]);
    assert.deepEqual(r.filters.port, [{ from: 8080, to: 8081 }, { from: 443, to: 443 }]);
    const expected = "expected a whole number from 0 to 65535, or a range FIRST-LAST such as " +
      "8000-8999";
    for (const bad of ["8000-", "-8000", "1-2-3", "8000-70000", "a-b", "8000..8999", "1 2-3"]) {
      usage(["--port", bad], new RegExp(`^Invalid port "${bad}": ${expected}$`));
    }
    usage(
      ["--local-port", "22,9000-8000"],
      /^Invalid port range "9000-8000": it ends before it starts \(8000 < 9000\)$/,
    );
  });
  it("rejects bad values with one line naming the value and what is allowed", () => {
    usage(["--state", "NOPE"], /"NOPE".*LISTEN/);
    usage(["--port", "70000"], /"70000".*0 to 65535/);
    // A value starting with "-" that the option could never take is refused as a value...
    usage(["--port", "-1"], /^Invalid port "-1": expected a whole number from 0 to 65535, or a/);
    usage(["--pid", "-1"], /^Invalid pid "-1": expected a whole number/);
    usage(["--local", "-10.0.0.1"], /^Invalid address "-10.0.0.1"/);
    // ...one it could take gets the advice to attach it, and an option's name is not a value.
    usage(["--name", "-zsh"], /'--name <globs>' needs a value; .* write --name=-zsh$/);
    usage(["--pid", "-4"], /'--pid <pids>' needs a value/);
    usage(
      ["--pid", "-l"],
      /^option '--pid <pids>' needs a value, and is followed by the option '-l'$/,
    );
    // Another option where the value should be: no advice to write --pid=--tree.
    usage(
      ["--pid", "--tree"],
      /^option '--pid <pids>' needs a value, and is followed by .*'--tree'$/,
    );
    usage(
      ["--fields", "--format=json"],
      /needs a value, and is followed by the option '--format'$/,
    );
    usage(["watch", "--interval", "--count", "2"], /'--interval <duration>' needs a value, and/);
    usage(["--name", "--weird"], /write --name=--weird$/);
    usage(["--port=-1"], /"-1".*0 to 65535/);
    usage(["--name", "-bash"], /write --name=-bash$/);
    usage(["--name", "sshd", "--name", "-bash"], /write --name=-bash$/);
    usage(["--local-port", "80,x"], /"x".*0 to 65535/);
    usage(["--local", "127.0.0.1,nowhere"], /"nowhere"/);
    usage(["--name", ","], /^Invalid name list ",": it is empty; expected a name$/);
    // An empty item is refused the same way in every list, wherever it stands.
    usage(["--port", "80,,443"], /^Invalid port list "80,,443": it has an empty item; expected N/);
    usage(["--pid", "5,"], /^Invalid pid list "5,": it has an empty item/);
    usage(["--pid", " , "], /^Invalid pid list " , ": it is empty/);
    usage(["--state", ",LISTEN"], /^Invalid state list ",LISTEN": it has an empty item/);
    usage(["--local", "::1, ,10.0.0.0/8"], /^Invalid address list .*: it has an empty item/);
    usage(["--fields", "pid,,protocol"], /^Invalid field list "pid,,protocol": it has an empty/);
    usage(["--local", "127.0.0.1%eth0"], /"127.0.0.1%eth0": only link-local IPv6 addresses/);
    usage(["--local", "fe80::1%eth0"], /zone "%eth0" in "fe80::1%eth0": expected an interface/);
    usage(["--remote", "fe80::1%"], /zone "%" in "fe80::1%"/);
    usage(["--local", "[127.0.0.1]"], /Invalid address "\[127.0.0.1\]"/);
    usage(["--local", "[::1]:80"], /Invalid address "\[::1\]:80"/);
    usage(["--remote", "10.0.0.0/33"], /"10.0.0.0\/33".*0 to 32/);
    usage(["--format", "xml"], /"xml".*table, json, ndjson, csv/);
    usage(["--pid"], /'--pid <pids>' needs a value/);
    usage(["--pid", "--tcp"], /'--pid <pids>' needs a value/);
    usage(["-46x"], /unknown option '-x'/);
    usage(["--tcp=yes"], /option '--tcp' takes no value: "--tcp=yes"/);
    usage(["--no-color=1"], /option '--no-color' takes no value/);
    usage(["-4=x"], /option '-4' takes no value/);
    usage(["--TCP"], /unknown option '--TCP'/);
    usage(["--group-by", "host"], /"host".*process/);
    usage(["snapshot"], /'--out <file>' is required/);
    usage(["--", "--port", "80"], /"--port" comes after "--", which ends the options/);
    usage(
      ["--tcp", "--", "watch"],
      /"watch" comes after "--".*the command \(watch, snapshot, tree\) goes first$/,
    );
    usage(["--tcp", "extra"], /"extra" is not an option/);
    usage(
      ["snapshot", "--out", "logs/"],
      /^Invalid file "logs\/": .*names a folder; give a file name$/,
    );
    usage(["snapshot", "--out", "C:\\logs\\"], /"C:\\logs\\": it ends with a path separator/);
    usage(["watch", "--interval", "10ms"], /"10ms".*100ms to 1h/);
    usage(["watch", "--format", "csv"], /"csv".*table, ndjson/);
    usage(["tree", "--format", "csv"], /"csv".*table, json/);
    usage(["--fields", "nope"], /"nope".*localAddress/);
    usage(["--pid", "abc"], /"abc"/);
    usage(["--frobnicate"], /--frobnicate.*--help/);
    usage(["extra"], /too many arguments/);
  });
});

describe("--pid-file", () => {
  const read = (texts: Record<string, string>) => (file: string) =>
    file in texts
      ? Promise.resolve(texts[file])
      : Promise.reject(Object.assign(new Error("os error"), { code: "ENOENT" }));

  it("adds the file's pids, one per line or comma separated, to --pid", async () => {
    const request = await withPidFile(
      parseArgs(["--pid", "4", "--pid-file", "pids.txt"]),
      read({ "pids.txt": "\uFEFF812\r\n4410, 77\n\n  015\t9\n" }),
    );
    assert.deepEqual(request.filters.pids, [4, 812, 4410, 77, 15, 9]);
    // Standard input is "-"; without --pid-file the request is unchanged.
    const stdin = await withPidFile(parseArgs(["--pid-file", "-"]), read({ "-": "5" }));
    assert.deepEqual(stdin.filters.pids, [5]);
    const plain = parseArgs(["--pid", "4"]);
    assert.equal(await withPidFile(plain, read({})), plain);
  });

  it("names the bad item and its line, or the file it cannot read, as a usage error", async () => {
    const refused = async (args: string[], texts: Record<string, string>, pattern: RegExp) => {
      await assert.rejects(withPidFile(parseArgs(args), read(texts)), (e: Error) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.match(e.message, pattern);
        assert.equal(e.message.includes("\n"), false, "one line");
        return true;
      });
    };
    await refused(
      ["--pid-file", "p"],
      { p: "12\n13,-1\n" },
      /^Invalid pid "-1" on line 2 of --pid-file "p": expected whole numbers from 0 to 4294967295, separated by commas, spaces or new lines$/,
    );
    await refused(["--pid-file", "p"], { p: "4294967296" }, /^Invalid pid "4294967296" on line 1/);
    await refused(
      ["--pid-file", "-"],
      { "-": `${"x".repeat(100)}\n` },
      /"x{40}\.\.\." on line 1 of standard input/,
    );
    // An empty list would select every process: refused.
    await refused(
      ["--pid-file", "-"],
      { "-": " \n,\n" },
      /^standard input \(--pid-file -\) has no pid: expected whole numbers/,
    );
    await refused(
      ["--pid-file", "gone.txt"],
      {},
      /^Cannot read --pid-file "gone.txt": there is no such file$/,
    );
  });

  it("selects for --tree and tree; with --enable-stats, standard input needs --yes", () => {
    assert.equal(parseArgs(["--tree", "--pid-file", "p"]).enrich.tree, true);
    assert.equal(parseArgs(["tree", "--pid-file", "p"]).enrich.tree, true);
    assert.equal(parseArgs(["watch", "--pid-file", "p"]).pidFile, "p");
    assert.equal(parseArgs(["--pid", "1"]).pidFile, undefined);
    usage(
      ["--pid-file", "-", "--enable-stats"],
      /^--pid-file - reads standard input, where --enable-stats would ask its question: add --yes/,
    );
    assert.equal(parseArgs(["--pid-file", "-", "--enable-stats", "--yes"]).pidFile, "-");
    usage(["--pid-file", "a", "--pid-file", "b"], /'--pid-file' is given 2 times/);
    usage(["--pid-file="], /'--pid-file <file>' needs a value/);
  });
});
