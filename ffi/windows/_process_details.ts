/**
 * The process fields read through an open process handle beyond the image path and start time:
 * the command line (ntdll) and the account the process runs as (advapi32); and every process's
 * creation time, read without opening any (ntdll).
 *
 * @module
 */
import { bufferAddress, failed, type Lookup } from "./_common.ts";
import {
  type Advapi32Symbols,
  type Kernel32Symbols,
  type NtdllSymbols,
  PROCESS_COMMAND_LINE_INFORMATION,
  STATUS_ACCESS_DENIED,
  STATUS_BUFFER_OVERFLOW,
  STATUS_BUFFER_TOO_SMALL,
  STATUS_INFO_LENGTH_MISMATCH,
  SYSTEM_PROCESS_INFORMATION_CLASS,
  TOKEN_QUERY,
  TOKEN_USER_CLASS,
} from "./_symbols.ts";
import { decodeProcessCreations, type ProcessCreation } from "./decode.ts";
import {
  decodeCommandLine,
  decodeTokenUser,
  TOKEN_USER_SIZE,
  UNICODE_STRING_SIZE,
} from "./decode_info.ts";

const ATTEMPTS = 4;
/** The smallest first buffer for the process list: about 500 processes with 10 threads each. */
const PROCESS_LIST_BYTES = 512 * 1024;
/** Room for processes and threads started between two calls. */
const PROCESS_LIST_SLACK = 64 * 1024;
/**
 * The first buffer for the next process list: what the last one needed and some room, so that
 * on a busy server each refresh of a watch asks once rather than growing from the smallest again.
 */
let processListBytes = PROCESS_LIST_BYTES;
/** Characters for an account or domain name before asking LookupAccountSidW for more. */
const NAME_CHARS = 256;
const utf16 = new TextDecoder("utf-16le");

/** Statuses that say "call again with ReturnLength bytes". */
const SIZE_STATUSES = new Set([
  STATUS_INFO_LENGTH_MISMATCH,
  STATUS_BUFFER_OVERFLOW,
  STATUS_BUFFER_TOO_SMALL,
]);

/**
 * Reads a process's command line with NtQueryInformationProcess(ProcessCommandLineInformation):
 * the first call asks for the size, the next ones pass a buffer of the size returned.
 */
export function readCommandLine(
  nt: NtdllSymbols | undefined,
  process: Deno.PointerObject,
): Lookup<string> {
  const query = nt?.NtQueryInformationProcess;
  if (!query) return failed("not-supported");
  const returned = new Uint32Array(1);
  let buffer: Uint8Array | null = null;
  let status = query(process, PROCESS_COMMAND_LINE_INFORMATION, null, 0, returned);
  for (let attempt = 1; attempt <= ATTEMPTS && SIZE_STATUSES.has(status); attempt++) {
    const needed = Math.max(returned[0], UNICODE_STRING_SIZE);
    if (buffer && needed <= buffer.length) break; // asks for no more room: give up
    buffer = new Uint8Array(needed);
    status = query(process, PROCESS_COMMAND_LINE_INFORMATION, buffer, buffer.length, returned);
  }
  if (status < 0) {
    return failed(status === STATUS_ACCESS_DENIED ? "access-denied" : "not-supported");
  }
  if (!buffer) return failed("not-supported"); // success without a buffer: nothing was written
  const base = bufferAddress(nt, buffer);
  if (base === null) return failed("not-supported");
  let text: string;
  try {
    text = decodeCommandLine(buffer, base);
  } catch {
    return failed("not-supported");
  }
  // Pseudo-processes (System, Registry, Memory Compression) have an empty command line.
  return text === "" ? failed("not-found") : { value: text };
}

/**
 * Creates the user-name reader of one describeProcesses call: OpenProcessToken(TOKEN_QUERY),
 * GetTokenInformation(TokenUser), then LookupAccountSidW, which may ask a domain controller and
 * so is cached by SID.
 */
export function createUserNameReader(
  k32: Kernel32Symbols,
  adv: Advapi32Symbols | undefined,
  nt: NtdllSymbols | undefined,
): (process: Deno.PointerObject) => Lookup<string> {
  const names = new Map<string, string>();
  return (process) => {
    const closeToken = k32.CloseHandleValue;
    if (!adv?.OpenProcessToken || !adv.GetTokenInformation || !adv.LookupAccountSidW) {
      return failed("not-supported");
    }
    if (!closeToken) return failed("not-supported"); // a token that cannot be closed is not opened
    const handle = new BigUint64Array(1);
    if (!adv.OpenProcessToken(process, TOKEN_QUERY, handle) || handle[0] === 0n) {
      return failed("access-denied");
    }
    const token = handle[0];
    try {
      const user = readTokenUser(adv, nt, token);
      if ("reason" in user) return user;
      let name = names.get(user.value.sidString);
      if (name === undefined) {
        // A SID no account maps to (a deleted user) is shown as the SID, as Windows tools do.
        name = lookupAccount(adv, user.value.sid) ?? user.value.sidString;
        names.set(user.value.sidString, name);
      }
      return { value: name };
    } finally {
      closeToken(token);
    }
  };
}

function readTokenUser(
  adv: Advapi32Symbols,
  nt: NtdllSymbols | undefined,
  token: bigint,
): Lookup<{ sid: Uint8Array; sidString: string }> {
  const getInfo = adv.GetTokenInformation!;
  const returned = new Uint32Array(1);
  getInfo(token, TOKEN_USER_CLASS, null, 0, returned);
  let buffer: Uint8Array | null = null;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const needed = Math.max(returned[0], TOKEN_USER_SIZE);
    if (buffer && needed <= buffer.length) return failed("access-denied");
    buffer = new Uint8Array(needed);
    if (getInfo(token, TOKEN_USER_CLASS, buffer, buffer.length, returned)) break;
    if (attempt === ATTEMPTS) return failed("access-denied");
  }
  const base = bufferAddress(nt, buffer!);
  if (base === null) return failed("not-supported");
  try {
    return { value: decodeTokenUser(buffer!, base) };
  } catch {
    return failed("not-supported");
  }
}

/** `DOMAIN\user` (or just `user` when the domain is empty), or null when the SID is unknown. */
function lookupAccount(adv: Advapi32Symbols, sid: Uint8Array): string | null {
  const lookup = adv.LookupAccountSidW!;
  const nameChars = new Uint32Array(1);
  const domainChars = new Uint32Array(1);
  const use = new Uint32Array(1);
  let nameCapacity = NAME_CHARS;
  let domainCapacity = NAME_CHARS;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const name = new Uint16Array(nameCapacity);
    const domain = new Uint16Array(domainCapacity);
    nameChars[0] = nameCapacity;
    domainChars[0] = domainCapacity;
    if (lookup(null, sid, name, nameChars, domain, domainChars, use)) {
      const user = text(name, nameChars[0]);
      const where = text(domain, domainChars[0]);
      return where === "" ? user : `${where}\\${user}`;
    }
    // Too small: the counts now hold the characters needed, NUL included.
    if (nameChars[0] <= nameCapacity && domainChars[0] <= domainCapacity) return null;
    nameCapacity = Math.max(nameCapacity, nameChars[0]);
    domainCapacity = Math.max(domainCapacity, domainChars[0]);
  }
  return null;
}

/** The characters before the count or the first NUL, whichever comes first. */
function text(chars: Uint16Array, count: number): string {
  let end = Math.min(count, chars.length);
  const nul = chars.indexOf(0);
  if (nul !== -1 && nul < end) end = nul;
  return utf16.decode(chars.subarray(0, end));
}

/**
 * Reads every process's parent and creation time with
 * NtQuerySystemInformation(SystemProcessInformation), which opens no process: the start time of
 * a process this user may not open, and whether a pid still names the same process later (the
 * same creation time) rather than another one started since with the pid.
 *
 * @param nt ntdll's symbols, when loaded.
 * @returns The table by pid, or null when ntdll or the call does not answer (the caller does
 *   without: start times stay as the process handles gave them).
 */
export function readProcessCreations(
  nt: NtdllSymbols | undefined,
): Map<number, ProcessCreation> | null {
  if (!nt?.NtQuerySystemInformation) return null;
  let size = processListBytes;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const buffer = new Uint8Array(size);
    const written = new Uint32Array(1);
    const status = nt.NtQuerySystemInformation(
      SYSTEM_PROCESS_INFORMATION_CLASS,
      buffer,
      size,
      written,
    );
    if (status === 0) {
      const filled = written[0] > 0 && written[0] <= size ? written[0] : size;
      processListBytes = Math.max(PROCESS_LIST_BYTES, filled + PROCESS_LIST_SLACK);
      try {
        return decodeProcessCreations(buffer.subarray(0, filled));
      } catch {
        return null; // A list that does not decode is no list: nothing is taken from it.
      }
    }
    if (!SIZE_STATUSES.has(status)) return null;
    // Processes start between the calls: ask for more than was said.
    size = Math.max(2 * size, written[0] + PROCESS_LIST_SLACK);
  }
  return null;
}
