/**
 * Connection records shared by the formatter tests: IPv4 and IPv6, listening and UDP rows with no
 * remote end, rows whose nulls carry reasons, a path with a comma and a quote, and process names
 * a spreadsheet would run as formulas.
 *
 * @module
 */
import type { Connection } from "../../core/record.ts";
import type { Formatter } from "../../formatters/mod.ts";
import { connection } from "../_record.ts";
import { DEFAULT_TABLE_FIELDS } from "../../cli/args.ts";

const conn = connection;

/** sshd listening on every IPv4 address. */
export const SSHD_LISTEN = conn({
  localAddress: "0.0.0.0",
  localPort: 22,
  state: "LISTEN",
  pid: 812,
  processName: "sshd",
  processPath: "/usr/sbin/sshd",
  parentPid: 1,
  processStartTime: "2026-11-20T08:15:00.000Z",
});

/** An IPv6 loopback connection whose process name starts with "=" and path has `,` and `"`. */
export const IPV6_FORMULA = conn({
  family: "IPv6",
  localAddress: "::1",
  localPort: 22,
  remoteAddress: "::1",
  remotePort: 51514,
  state: "ESTABLISHED",
  pid: 4242,
  processName: "=cmd|' /C calc'!A0",
  processPath: 'C:\\Tools\\a,b"c.exe',
  parentPid: 4000,
  services: ["Dnscache", "LanmanWorkstation"],
});

/** A UDP socket nobody owns: the process fields are null because there is no owner. */
export const UDP_NO_OWNER = conn({
  protocol: "UDP",
  family: "IPv6",
  localAddress: "fe80::1%12",
  localPort: 5353,
  unavailable: {
    pid: "no-owner",
    processName: "no-owner",
    processPath: "no-owner",
    parentPid: "no-owner",
  },
});

/** A process procconn may not open: the name is known, the path is not. */
export const ACCESS_DENIED = conn({
  localAddress: "10.0.0.2",
  localPort: 50000,
  remoteAddress: "93.184.216.34",
  remotePort: 443,
  state: "ESTABLISHED",
  pid: 640,
  processName: "@svc-host",
  parentPid: 600,
  unavailable: { processPath: "access-denied", processStartTime: "access-denied" },
});

/** All fixtures, in output order. */
export const ROWS: readonly Connection[] = [SSHD_LISTEN, IPV6_FORMULA, UDP_NO_OWNER, ACCESS_DENIED];

/** The default console-table columns: the CLI's own. */
export const TABLE_FIELDS = DEFAULT_TABLE_FIELDS;

/** Streams the rows through a formatter and returns everything it wrote. */
export function run(
  formatter: Formatter,
  rows: readonly Record<string, unknown>[],
): string {
  let text = formatter.begin();
  for (const row of rows) text += formatter.record(row);
  return text + formatter.end();
}
