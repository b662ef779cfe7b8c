/**
 * Services behind sockets, from the owner-module tables: GetOwnerModuleFrom*Entry names the
 * module that owns a row (the service name for a socket a service opened in svchost.exe).
 *
 * @module
 */
import type { Family, Protocol, Reason } from "../../core/record.ts";
import { bufferAddress, failed, type Lookup } from "./_common.ts";
import {
  ERROR_ACCESS_DENIED,
  ERROR_CALL_NOT_IMPLEMENTED,
  ERROR_INSUFFICIENT_BUFFER,
  ERROR_NOT_FOUND,
  ERROR_NOT_SUPPORTED,
  ERROR_PARTIAL_COPY,
  type IphlpapiSymbols,
  NO_ERROR,
  type NtdllSymbols,
  TCPIP_OWNER_MODULE_INFO_BASIC,
} from "./_symbols.ts";
import { decodeOwnerModuleInfo, servicesFromModule } from "./decode_info.ts";

/** The row of an owner-module table whose services are wanted. */
export interface ModuleQuery {
  /** The table's protocol. */
  protocol: Protocol;
  /** The table's family. */
  family: Family;
  /** The row's owning pid. */
  pid: number;
  /** The whole row, as the table holds it. */
  row: Uint8Array;
  /** The row's `OwningModuleInfo` bytes. */
  owningModuleInfo: Uint8Array;
}

/** Room for the struct and two MAX_PATH strings; grown when the call asks for more. */
const INITIAL_BUFFER = 16 + 2 * 2 * 260;
const ATTEMPTS = 4;
const PID_IDLE = 0;
const PID_SYSTEM = 4;

/**
 * Creates the services lookup of one listing. Rows of one process with the same
 * `OwningModuleInfo` have the same module, so each is asked for once.
 */
export function createServiceLookup(
  ip: IphlpapiSymbols,
  nt: NtdllSymbols | undefined,
): (query: ModuleQuery) => Lookup<string[]> {
  const cache = new Map<string, Lookup<string[]>>();
  let buffer = new Uint8Array(INITIAL_BUFFER);
  const size = new Uint32Array(1);

  function ask(
    call: OwnerModuleCall,
    row: Uint8Array,
    pid: number,
    serviceTag: number,
  ): Lookup<string[]> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      size[0] = buffer.length;
      const rc = call(row, TCPIP_OWNER_MODULE_INFO_BASIC, buffer, size);
      if (rc === ERROR_INSUFFICIENT_BUFFER && size[0] > buffer.length) {
        buffer = new Uint8Array(size[0]);
        continue;
      }
      if (rc !== NO_ERROR) return failed(reasonOf(rc, pid));
      const base = bufferAddress(nt, buffer);
      if (base === null) return failed("not-supported");
      let info;
      try {
        info = decodeOwnerModuleInfo(buffer, base);
      } catch {
        return failed("not-supported");
      }
      // The call succeeds with empty strings for a protected process when not elevated.
      if (info.name === "") return failed("access-denied");
      return { value: servicesFromModule(info, serviceTag) };
    }
    return failed("not-supported");
  }

  return (query) => {
    const call = ownerModuleCall(ip, query.protocol, query.family);
    if (!call) return failed("not-supported");
    if (query.pid === PID_IDLE) return failed("system-process");
    const key = `${query.protocol}${query.family}:${query.pid}:${hex(query.owningModuleInfo)}`;
    let result = cache.get(key);
    if (!result) {
      const info = query.owningModuleInfo;
      // OwningModuleInfo[0]'s low 32 bits: the tag of the service whose thread bound the socket.
      const tag = new DataView(info.buffer, info.byteOffset, info.byteLength).getUint32(0, true);
      result = ask(call, query.row, query.pid, tag);
      cache.set(key, result);
    }
    return result;
  };
}

type OwnerModuleCall = NonNullable<IphlpapiSymbols["GetOwnerModuleFromTcpEntry"]>;

function ownerModuleCall(
  ip: IphlpapiSymbols,
  protocol: Protocol,
  family: Family,
): OwnerModuleCall | null {
  if (protocol === "TCP") {
    return family === "IPv4" ? ip.GetOwnerModuleFromTcpEntry : ip.GetOwnerModuleFromTcp6Entry;
  }
  return family === "IPv4" ? ip.GetOwnerModuleFromUdpEntry : ip.GetOwnerModuleFromUdp6Entry;
}

function reasonOf(rc: number, pid: number): Reason {
  // The System process (the kernel's own sockets) has no module to read, elevated or not.
  if (pid === PID_SYSTEM && rc !== ERROR_NOT_SUPPORTED && rc !== ERROR_CALL_NOT_IMPLEMENTED) {
    return "system-process";
  }
  switch (rc) {
    case ERROR_ACCESS_DENIED:
    case ERROR_PARTIAL_COPY: // the owning process's memory could not be read
      return "access-denied";
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED:
      return "not-supported";
    case ERROR_NOT_FOUND: // no owner (any more)
    default: // any other failure: the lookup found nothing
      return "not-found";
  }
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
