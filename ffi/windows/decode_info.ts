/**
 * Pure decoders for the Windows structures that hold pointers into the very buffer the API
 * filled: TCPIP_OWNER_MODULE_BASIC_INFO, UNICODE_STRING (a command line) and TOKEN_USER (a SID).
 * Each takes the buffer's address (`base`) so that a pointer becomes an offset; a pointer that
 * does not land inside the buffer is rejected, never followed.
 *
 * Layouts are x64: pointers are 8 bytes, little-endian.
 *
 * @module
 */

/** Bytes of TCPIP_OWNER_MODULE_BASIC_INFO: `pModuleName` at 0, `pModulePath` at 8. */
export const OWNER_MODULE_BASIC_INFO_SIZE = 16;
/** Bytes of a UNICODE_STRING: Length, MaximumLength, 4 bytes of padding, Buffer at 8. */
export const UNICODE_STRING_SIZE = 16;
/** Bytes of TOKEN_USER (one SID_AND_ATTRIBUTES): `Sid` at 0, `Attributes` at 8. */
export const TOKEN_USER_SIZE = 16;
/** The most sub-authorities a SID can have (SID_MAX_SUB_AUTHORITIES). */
export const SID_MAX_SUB_AUTHORITIES = 15;

const utf16 = new TextDecoder("utf-16le");

/** The two strings of a TCPIP_OWNER_MODULE_BASIC_INFO. */
export interface OwnerModuleInfo {
  /** `pModuleName`: a service name, or the image (or component) name; "" when NULL. */
  name: string;
  /** `pModulePath`: the full path of the module; "" when NULL. */
  path: string;
}

/**
 * Decodes a TCPIP_OWNER_MODULE_BASIC_INFO as GetOwnerModuleFrom*Entry writes it: two pointers
 * to NUL-terminated UTF-16 strings stored after them in the same buffer.
 *
 * @param bytes The buffer the call filled.
 * @param base The address of `bytes[0]`.
 * @returns The module name and path.
 * @throws {RangeError} When the buffer is shorter than the struct, or a pointer does not point
 * inside the buffer.
 *
 * @example
 * ```ts
 * import { decodeOwnerModuleInfo } from "./decode_info.ts";
 * const bytes = new Uint8Array(16); // both pointers NULL
 * decodeOwnerModuleInfo(bytes, 0x1000n); // { name: "", path: "" }
 * ```
 */
export function decodeOwnerModuleInfo(bytes: Uint8Array, base: bigint): OwnerModuleInfo {
  need(bytes, OWNER_MODULE_BASIC_INFO_SIZE, "TCPIP_OWNER_MODULE_BASIC_INFO");
  const view = viewOf(bytes);
  const at = (field: string, offset: number): string => {
    const pointer = view.getBigUint64(offset, true);
    if (pointer === 0n) return "";
    const start = offsetOf(pointer, base, bytes, `TCPIP_OWNER_MODULE_BASIC_INFO.${field}`);
    return wideStringAt(bytes, start);
  };
  return { name: at("pModuleName", 0), path: at("pModulePath", 8) };
}

/**
 * Decides which services an owner module names. A socket bound by a service's thread carries
 * the service's tag (the low 32 bits of the row's `OwningModuleInfo[0]`), and Windows answers for
 * it with the service name as both the module name and its path (`Dnscache`, `Dnscache`); a
 * socket of the process itself carries no tag, and the answer is the image's name and full path
 * (`System` for pid 4). So the module names a service when the row has a tag, or when the name
 * differs from the image's file name; the image itself, or an `.exe` name or `System` without a
 * folder, is no service. Names are compared case-insensitively.
 *
 * @param info The decoded module name and path; the name must not be empty.
 * @param serviceTag The service tag of the row (0: none).
 * @returns `[name]` for a service, `[]` for the image itself.
 *
 * @example
 * ```ts
 * import { servicesFromModule } from "./decode_info.ts";
 * servicesFromModule({ name: "Dnscache", path: "Dnscache" }, 0x5a); // ["Dnscache"]
 * servicesFromModule({ name: "web.exe", path: "C:\\Web\\web.exe" }, 0); // []
 * ```
 */
export function servicesFromModule(info: OwnerModuleInfo, serviceTag: number): string[] {
  const name = info.name.toLowerCase();
  const parts = info.path.split(/[\\/]/);
  if (parts.length > 1) return name === parts.pop()!.toLowerCase() ? [] : [info.name];
  if (serviceTag !== 0) return [info.name];
  return name.endsWith(".exe") || name === "system" ? [] : [info.name];
}

/**
 * Decodes a UNICODE_STRING whose characters are stored in the same buffer, as
 * NtQueryInformationProcess(ProcessCommandLineInformation) writes it. `Length` counts bytes
 * without a terminating NUL. NUL characters inside the text (some programs build their command
 * line with them) become spaces.
 *
 * @param bytes The buffer the call filled.
 * @param base The address of `bytes[0]`.
 * @returns The text; "" when `Length` is 0.
 * @throws {RangeError} When the buffer is shorter than the header, `Length` is odd, or the
 * characters do not lie inside the buffer.
 *
 * @example
 * ```ts
 * import { decodeCommandLine } from "./decode_info.ts";
 * decodeCommandLine(new Uint8Array(16), 0x1000n); // ""
 * ```
 */
export function decodeCommandLine(bytes: Uint8Array, base: bigint): string {
  need(bytes, UNICODE_STRING_SIZE, "UNICODE_STRING");
  const view = viewOf(bytes);
  const length = view.getUint16(0, true);
  if (length === 0) return "";
  if (length % 2 !== 0) {
    throw new RangeError(`Invalid UNICODE_STRING length "${length}": not a whole number of WCHARs`);
  }
  const start = offsetOf(view.getBigUint64(8, true), base, bytes, "UNICODE_STRING.Buffer");
  if (start + length > bytes.length) {
    throw new RangeError(
      `Invalid UNICODE_STRING: ${length} bytes at offset ${start} run past the buffer of ${bytes.length}`,
    );
  }
  return utf16.decode(bytes.subarray(start, start + length)).replaceAll("\0", " ");
}

/** The SID of a TOKEN_USER. */
export interface TokenUser {
  /** The SID's bytes (a view into the buffer), as LookupAccountSidW takes them. */
  sid: Uint8Array;
  /** The SID in its string form, e.g. `S-1-5-18`. */
  sidString: string;
}

/**
 * Decodes a TOKEN_USER as GetTokenInformation(TokenUser) writes it: a pointer to the SID, which
 * is stored after the struct in the same buffer.
 *
 * @param bytes The buffer the call filled.
 * @param base The address of `bytes[0]`.
 * @returns The SID's bytes and string form.
 * @throws {RangeError} When the buffer is too short, the pointer does not point inside it, or
 * the SID is malformed.
 *
 * @example
 * ```ts
 * import { decodeTokenUser } from "./decode_info.ts";
 * const bytes = new Uint8Array(16 + 12);
 * const view = new DataView(bytes.buffer);
 * view.setBigUint64(0, 0x1000n + 16n, true); // Sid -> right after the struct
 * bytes.set([1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0], 16); // S-1-5-18
 * decodeTokenUser(bytes, 0x1000n).sidString; // "S-1-5-18"
 * ```
 */
export function decodeTokenUser(bytes: Uint8Array, base: bigint): TokenUser {
  need(bytes, TOKEN_USER_SIZE, "TOKEN_USER");
  const start = offsetOf(viewOf(bytes).getBigUint64(0, true), base, bytes, "TOKEN_USER.User.Sid");
  const sid = decodeSid(bytes, start);
  return { sid: bytes.subarray(start, start + sid.size), sidString: sid.text };
}

/**
 * Decodes a SID: Revision (1), SubAuthorityCount, a 6-byte big-endian IdentifierAuthority, then
 * that many little-endian DWORD sub-authorities.
 *
 * @param bytes The buffer holding the SID.
 * @param offset Where it starts.
 * @returns Its string form (`S-1-<authority>-<sub>...`, the authority in hex when it does not
 * fit in 32 bits, as ConvertSidToStringSid writes it) and its size in bytes.
 * @throws {RangeError} When the revision is not 1, there are too many sub-authorities, or the
 * buffer ends inside the SID.
 *
 * @example
 * ```ts
 * import { decodeSid } from "./decode_info.ts";
 * decodeSid(new Uint8Array([1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]), 0);
 * // { text: "S-1-5-18", size: 12 }
 * ```
 */
export function decodeSid(bytes: Uint8Array, offset: number): { text: string; size: number } {
  if (bytes.length - offset < 8) {
    throw new RangeError(
      `Buffer too short for a SID: need 8 bytes at offset ${offset}, the buffer has ${bytes.length}`,
    );
  }
  const revision = bytes[offset];
  const count = bytes[offset + 1];
  if (revision !== 1) throw new RangeError(`Invalid SID revision "${revision}": expected 1`);
  if (count > SID_MAX_SUB_AUTHORITIES) {
    throw new RangeError(
      `Invalid SID sub-authority count "${count}": at most ${SID_MAX_SUB_AUTHORITIES}`,
    );
  }
  const size = 8 + 4 * count;
  if (bytes.length - offset < size) {
    throw new RangeError(
      `Buffer too short for a SID with ${count} sub-authorities: need ${size} bytes at offset ${offset}, the buffer has ${bytes.length}`,
    );
  }
  let authority = 0n;
  for (let i = 2; i < 8; i++) authority = (authority << 8n) | BigInt(bytes[offset + i]);
  const view = viewOf(bytes);
  const parts = [
    "S",
    "1",
    authority < 0x1_0000_0000n ? String(authority) : `0x${authority.toString(16).toUpperCase()}`,
  ];
  for (let i = 0; i < count; i++) parts.push(String(view.getUint32(offset + 8 + 4 * i, true)));
  return { text: parts.join("-"), size };
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(bytes: Uint8Array, size: number, struct: string): void {
  if (bytes.length < size) {
    throw new RangeError(
      `Buffer too short for ${struct}: need ${size} bytes, the buffer has ${bytes.length}`,
    );
  }
}

/** Turns a pointer into an offset in `bytes`, which starts at `base`. */
function offsetOf(pointer: bigint, base: bigint, bytes: Uint8Array, field: string): number {
  const offset = pointer - base;
  if (offset < 0n || offset >= BigInt(bytes.length)) {
    throw new RangeError(
      `Invalid pointer "0x${
        pointer.toString(16)
      }" in ${field}: outside the buffer of ${bytes.length} bytes at 0x${base.toString(16)}`,
    );
  }
  return Number(offset);
}

/** A NUL-terminated UTF-16LE string at `start`; it must end inside the buffer. */
function wideStringAt(bytes: Uint8Array, start: number): string {
  let at = start;
  while (at + 1 < bytes.length && (bytes[at] !== 0 || bytes[at + 1] !== 0)) at += 2;
  if (at + 1 >= bytes.length) {
    throw new RangeError(`Invalid string at offset ${start}: no NUL before the end of the buffer`);
  }
  return utf16.decode(bytes.subarray(start, at));
}
