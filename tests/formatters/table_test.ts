import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createTableFormatter } from "../../formatters/table.ts";
import {
  ACCESS_DENIED,
  IPV6_FORMULA,
  ROWS,
  run,
  SSHD_LISTEN,
  TABLE_FIELDS,
  UDP_NO_OWNER,
} from "./_fixtures.ts";

const LONG_PATH = "C:\\Program Files\\Contoso Corporation\\Background Services\\Telemetry\\" +
  "Current Release\\x64\\updater.exe";
const LONG = { ...ACCESS_DENIED, pid: 9000, processName: "updater.exe", processPath: LONG_PATH };

/** Splits a table into its lines and finds the column starts from the rule under the header. */
function parse(text: string) {
  assert.ok(text.endsWith("\n"), "the table ends with a newline");
  const lines = text.slice(0, -1).split("\n");
  const [header, rule, ...rest] = lines;
  const footer = rest.pop()!;
  assert.match(rule, /^-+( {2}-+)*$/, "the second line is the rule");
  const starts = [...rule.matchAll(/-+/g)].map((m) => m.index!);
  const cells = (line: string) =>
    starts.map((s, i) => line.slice(s, starts[i + 1]).replace(/ +$/, ""));
  return { lines, header, rule, body: rest, footer, starts, cells };
}

describe("createTableFormatter", () => {
  it("buffers the rows: begin and record write nothing, end writes the table", () => {
    const f = createTableFormatter({ fields: TABLE_FIELDS });
    assert.equal(f.begin(), "");
    assert.equal(f.record(SSHD_LISTEN), "");
    assert.match(f.end(), /^Proto {2}/);
  });

  it("titles the columns and joins address and port into one column", () => {
    const { header, cells } = parse(run(createTableFormatter({ fields: TABLE_FIELDS }), ROWS));
    assert.deepEqual(cells(header), [
      "Proto",
      "Local Address",
      "Remote Address",
      "State",
      "PID",
      "Process",
      "Parent",
      "Path",
    ]);
  });

  it("aligns every line on the same column starts", () => {
    const { header, body, starts } = parse(
      run(createTableFormatter({ fields: TABLE_FIELDS, width: 0 }), ROWS),
    );
    assert.equal(starts.length, 8);
    for (const line of [header, ...body]) {
      for (const s of starts) {
        assert.notEqual(line[s], " ", `a cell starts at column ${s} of ${JSON.stringify(line)}`);
        if (s > 0) assert.equal(line.slice(s - 2, s), "  ", `two spaces before column ${s}`);
      }
    }
  });

  it("writes addr:port with IPv6 in brackets, *:* for no remote end, reasons and dashes", () => {
    const { body, cells } = parse(run(createTableFormatter({ fields: TABLE_FIELDS }), ROWS));
    assert.deepEqual(body.map(cells), [
      ["TCP", "0.0.0.0:22", "*:*", "LISTEN", "812", "sshd", "1", "/usr/sbin/sshd"],
      [
        "TCP",
        "[::1]:22",
        "[::1]:51514",
        "ESTABLISHED",
        "4242",
        "=cmd|' /C calc'!A0",
        "4000",
        'C:\\Tools\\a,b"c.exe',
      ],
      [
        "UDP",
        "[fe80::1%12]:5353",
        "*:*",
        "-",
        "<no-owner>",
        "<no-owner>",
        "<no-owner>",
        "<no-owner>",
      ],
      [
        "TCP",
        "10.0.0.2:50000",
        "93.184.216.34:443",
        "ESTABLISHED",
        "640",
        "@svc-host",
        "600",
        "<access-denied>",
      ],
    ]);
  });

  it("shows a reason only for a null value", () => {
    const row = { pid: 5, processName: null, unavailable: { pid: "no-owner", processName: "x" } };
    const { body, cells } = parse(
      run(createTableFormatter({ fields: ["pid", "processName", "userName"] }), [row]),
    );
    assert.deepEqual(cells(body[0]), ["5", "<x>", "-"]);
  });

  it("shows an empty list as a dash, and a list as its items", () => {
    const rows = [{ pid: 5, services: [] }, { pid: 6, services: ["Dnscache", "W32Time"] }];
    const { body, cells } = parse(
      run(createTableFormatter({ fields: ["pid", "services"] }), rows),
    );
    assert.deepEqual(body.map(cells), [["5", "-"], ["6", "Dnscache, W32Time"]]);
  });

  it("keeps address and port apart when only one of the pair is chosen", () => {
    const { header, body, cells } = parse(
      run(createTableFormatter({ fields: ["localAddress", "remotePort"] }), [IPV6_FORMULA]),
    );
    assert.deepEqual(cells(header), ["Local Address", "Remote Port"]);
    assert.deepEqual(cells(body[0]), ["::1", "51514"]);
  });

  it("shows the missing remote end of a listener as *, in its own columns as in *:*", () => {
    const listener = { pid: 5, remoteAddress: null, remotePort: null, state: "LISTEN" };
    for (
      const [fields, expected] of [
        [["remoteAddress", "pid"], ["*", "5"]],
        [["pid", "remotePort"], ["5", "*"]],
        [["pid", "remotePort", "remoteAddress"], ["5", "*:*"]],
      ]
    ) {
      const { body, cells } = parse(run(createTableFormatter({ fields }), [listener]));
      assert.deepEqual(cells(body[0]), expected, fields.join());
    }
  });

  it("derives titles from field names of any case style", () => {
    const fields = ["snapshotTime", "hostName", "remoteIPAddress", "bytes_in", "event-kind"];
    const { header, cells } = parse(run(createTableFormatter({ fields }), []));
    assert.deepEqual(cells(header), [
      "Snapshot Time",
      "Host Name",
      "Remote IP Address",
      "Bytes In",
      "Event Kind",
    ]);
  });

  it("ends with a footer counting the rows", () => {
    assert.equal(
      parse(run(createTableFormatter({ fields: TABLE_FIELDS }), ROWS)).footer,
      "4 endpoints",
    );
    assert.equal(
      parse(run(createTableFormatter({ fields: TABLE_FIELDS }), [SSHD_LISTEN])).footer,
      "1 endpoint",
    );
  });

  it("writes the header, the rule and a zero count for zero rows", () => {
    assert.equal(
      run(createTableFormatter({ fields: ["protocol", "localAddress", "localPort", "pid"] }), []),
      "Proto  Local Address  PID\n-----  -------------  ---\n0 endpoints\n",
    );
  });

  it("cuts a title wider than its values before it cuts any value", () => {
    const row = {
      localAddress: "::1",
      localPort: 80,
      remoteAddress: "::1",
      remotePort: 81,
      pid: 4,
      processName: "python3.11",
    };
    const fields = [
      "localAddress",
      "localPort",
      "remoteAddress",
      "remotePort",
      "pid",
      "processName",
    ];
    const wide = parse(run(createTableFormatter({ fields, width: 0 }), [row]));
    assert.deepEqual(wide.cells(wide.header), [
      "Local Address",
      "Remote Address",
      "PID",
      "Process",
    ]);
    // 13 + 14 + 3 + 10 and three gaps: 46 columns; at 40 only the titles give way, each to
    // its short form.
    const t = parse(run(createTableFormatter({ fields, width: 40 }), [row]));
    for (const line of t.lines) assert.ok(line.length <= 40, `${line.length}: ${line}`);
    assert.deepEqual(t.cells(t.body[0]), ["[::1]:80", "[::1]:81", "4", "python3.11"]);
    assert.deepEqual(t.cells(t.header), ["Local", "Remote", "PID", "Process"]);
  });

  it("keeps titles apart when narrowed: short forms, never two cut alike", () => {
    const fields = ["bytesIn", "bytesOut", "segmentsIn", "segmentsOut", "parentPid", "sessionId"];
    const row = {
      bytesIn: 1,
      bytesOut: 2,
      segmentsIn: 3,
      segmentsOut: 4,
      parentPid: 1,
      sessionId: 1,
    };
    const t = parse(run(createTableFormatter({ fields, width: 40 }), [row]));
    for (const line of t.lines) assert.ok(line.length <= 40, `${line.length}: ${line}`);
    assert.deepEqual(t.cells(t.header), ["B In", "B Out", "Seg In", "Seg Out", "PPID", "Sess"]);
    // Where a title fits, it stays whole; a title without a short form is cut as before.
    const roomy = parse(run(createTableFormatter({ fields, width: 0 }), [row]));
    assert.deepEqual(roomy.cells(roomy.header), [
      "Bytes In",
      "Bytes Out",
      "Segments In",
      "Segments Out",
      "Parent",
      "Session",
    ]);
    const plain = parse(run(createTableFormatter({ fields: ["someLongField", "x"], width: 8 }), [
      { someLongField: 1, x: 2 },
    ]));
    assert.deepEqual(plain.cells(plain.header), ["Some…", "X"]);
  });

  it("lets a reason in a counter column give way down to the short title", () => {
    const fields = ["localAddress", "localPort", "bytesIn", "bytesOut"];
    const why = { bytesIn: "not-applicable", bytesOut: "not-applicable" };
    const rows = [
      {
        localAddress: "127.0.0.1",
        localPort: 41001,
        bytesIn: null,
        bytesOut: null,
        unavailable: why,
      },
      { localAddress: "127.0.0.1", localPort: 41002, bytesIn: 0, bytesOut: 1, unavailable: {} },
    ];
    const t = parse(run(createTableFormatter({ fields, width: 32 }), rows));
    for (const line of t.lines) assert.ok(line.length <= 32, `${line.length}: ${line}`);
    assert.deepEqual(t.cells(t.body[1]), ["127.0.0.1:41002", "0", "1"], "the address kept whole");
    assert.deepEqual(t.cells(t.header), ["Local Address", "B In", "B Out"]);
  });

  it("fits width 60 by cutting text columns, keeping every row and column", () => {
    const rows = [...ROWS, LONG];
    const wide = parse(run(createTableFormatter({ fields: TABLE_FIELDS, width: 0 }), rows));
    assert.ok(wide.lines.some((l) => l.length > 60), "the unfitted table is wider than 60");
    const t = parse(run(createTableFormatter({ fields: TABLE_FIELDS, width: 60 }), rows));
    for (const line of t.lines) assert.ok(line.length <= 60, `${line.length}: ${line}`);
    assert.equal(t.starts.length, 8);
    assert.deepEqual(t.body.map((l) => t.cells(l)[0]), ["TCP", "TCP", "UDP", "TCP", "TCP"]);
    assert.deepEqual(t.body.map((l) => t.cells(l)[3]), [
      "LISTEN",
      "ESTABLISHED",
      "-",
      "ESTABLISHED",
      "ESTABLISHED",
    ]);
    assert.equal(t.footer, "5 endpoints");
    assert.match(t.cells(t.body[4])[7], /^….+$/);
  });

  it("fits 120 columns by default, cutting the path first and keeping its file name", () => {
    const rows = [...ROWS, LONG];
    const wide = parse(run(createTableFormatter({ fields: TABLE_FIELDS, width: 0 }), rows));
    assert.ok(wide.lines.some((l) => l.length > 120), "the unfitted table is wider than 120");
    const t = parse(run(createTableFormatter({ fields: TABLE_FIELDS }), rows));
    assert.ok(t.lines.every((l) => l.length <= 120));
    const path = t.cells(t.body[4])[7];
    assert.ok(path.startsWith("…") && path.endsWith("\\x64\\updater.exe"), path);
    assert.deepEqual(
      t.body.map((l) => t.cells(l).slice(1, 3)),
      wide.body.map((l) => wide.cells(l).slice(1, 3)),
      "the addresses are not cut while the path can give way",
    );
  });

  it("gives way in two rounds: path, name and addresses to their floors, then below them", () => {
    const mapped = {
      ...ACCESS_DENIED,
      family: "IPv6",
      localAddress: "::ffff:127.0.0.1",
      localPort: 8131,
      remoteAddress: "::ffff:127.0.0.1",
      remotePort: 36694,
      pid: 12345,
      processName: "python3",
      parentPid: 1,
      processPath: "/root/.pyenv/versions/3.11.7/bin/python3.11",
      unavailable: {},
    };
    const at = (width: number) => {
      const t = parse(run(createTableFormatter({ fields: TABLE_FIELDS, width }), [mapped]));
      assert.ok(t.lines.every((l) => l.length <= width), `fits ${width}`);
      const [, local, remote, , , name, , path] = t.cells(t.body[0]);
      return { local, remote, name, path };
    };
    // The path gives way first and keeps its file name...
    assert.deepEqual(at(110), {
      local: "[::ffff:127.0.0.1]:8131",
      remote: "[::ffff:127.0.0.1]:36694",
      name: "python3",
      path: "…7/bin/python3.11",
    });
    // ...then, at its floor, the addresses go down to theirs (21), keeping the port...
    const floors = at(100);
    assert.match(floors.local, /^\[::ffff:1.*….*\]:8131$/);
    assert.match(floors.remote, /^\[::ffff:1.*….*\]:36694$/);
    assert.deepEqual([floors.local.length, floors.remote.length], [21, 21]);
    assert.ok(floors.path.endsWith("/python3.11") && floors.path.length <= 16, floors.path);
    // ...and only then does the path go below its floor, before the addresses go below theirs.
    const below = at(95);
    assert.deepEqual([below.local, below.remote], [floors.local, floors.remote]);
    assert.equal(below.name, "python3");
    assert.match(below.path, /^…on3\.11$/);
  });

  it("does not fit with width 0", () => {
    const t = parse(run(createTableFormatter({ fields: TABLE_FIELDS, width: 0 }), [LONG]));
    assert.equal(t.cells(t.body[0])[7], LONG_PATH);
  });

  it("leaves a table that fits unchanged", () => {
    const fitted = run(createTableFormatter({ fields: TABLE_FIELDS, width: 120 }), ROWS);
    assert.equal(fitted, run(createTableFormatter({ fields: TABLE_FIELDS, width: 0 }), ROWS));
  });

  it("keeps all columns when even the cut columns cannot reach the width", () => {
    const t = parse(run(createTableFormatter({ fields: TABLE_FIELDS, width: 20 }), ROWS));
    assert.equal(t.starts.length, 8);
    assert.equal(t.body.length, 4);
  });

  it("does not cut a column that only holds numbers", () => {
    const rows = [{ name: "x".repeat(40), count: 1234567890 }];
    const t = parse(run(createTableFormatter({ fields: ["name", "count"], width: 30 }), rows));
    assert.deepEqual(t.cells(t.body[0]), ["x".repeat(17) + "…", "1234567890"]);
  });

  it("cuts a long reason in a number column before it cuts addresses", () => {
    const t = parse(run(createTableFormatter({ fields: TABLE_FIELDS, width: 90 }), [
      IPV6_FORMULA,
      ACCESS_DENIED,
      UDP_NO_OWNER,
    ]));
    assert.ok(t.lines.every((l) => l.length <= 90));
    assert.deepEqual(t.cells(t.body[2]).slice(0, 5), [
      "UDP",
      "[fe80::1%12]:5353",
      "*:*",
      "-",
      "<no…",
    ]);
  });

  it("pads by display width, so wide characters keep the columns aligned", () => {
    const text = run(createTableFormatter({ fields: ["processName", "pid"] }), [
      { processName: "进程", pid: 1 },
      { processName: "abcdef", pid: 2 },
    ]);
    assert.equal(text, "Process  PID\n-------  ---\n进程     1\nabcdef   2\n2 endpoints\n");
  });

  it("replaces control and bidirectional formatting characters", () => {
    const text = run(createTableFormatter({ fields: ["processName", "commandLine"] }), [{
      processName: "a\x1b[2Jb\u202ec",
      commandLine: "x\ny\tz",
    }]);
    assert.ok(!text.includes("\x1b") && !text.includes("\u202e"));
    const t = parse(text);
    assert.deepEqual(t.cells(t.body[0]), ["a?[2Jb?c", "x y z"]);
  });

  it("makes the header bold only when colour is allowed", () => {
    const plain = run(createTableFormatter({ fields: TABLE_FIELDS }), ROWS);
    assert.ok(!plain.includes("\x1b"));
    const colored = run(createTableFormatter({ fields: TABLE_FIELDS, color: true }), ROWS);
    const [header, ...rest] = colored.split("\n");
    assert.equal(header, `\x1b[1m${plain.split("\n")[0]}\x1b[22m`);
    assert.ok(!rest.join("\n").includes("\x1b"));
  });

  it("rejects a width that is not a whole number >= 0", () => {
    for (const width of [-1, 1.5, NaN]) {
      assert.throws(
        () => createTableFormatter({ fields: ["pid"], width }),
        (err: Error) => err instanceof RangeError && err.message.includes(`"${width}"`),
      );
    }
  });
});
