// @ts-check
/**
 * Reads the few facts the executable builds check in a binary's header: its OS and CPU (ELF,
 * PE, Mach-O), and whether a Node single-executable blob was injected into it. Plain
 * JavaScript so the Node build script and the Deno compile wrapper share it.
 *
 * @module
 */

/** The fuse postject flips from `:0` to `:1` when it injects a single-executable blob. */
export const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/** @typedef {"x86_64" | "aarch64" | "other"} Arch */

/** @type {Map<number, Arch>} */
const ELF_MACHINES = new Map([[0x3e, "x86_64"], [0xb7, "aarch64"]]);
/** @type {Map<number, Arch>} */
const PE_MACHINES = new Map([[0x8664, "x86_64"], [0xaa64, "aarch64"]]);
/** @type {Map<number, Arch>} */
const MACHO_CPUS = new Map([[0x01000007, "x86_64"], [0x0100000c, "aarch64"]]);

/**
 * @typedef {object} ExecutableTarget
 * @property {"linux" | "windows" | "darwin"} os The OS the binary is for.
 * @property {Arch} arch Its CPU.
 * @property {"elf" | "pe" | "macho"} format The file format.
 */

/**
 * Tells which OS and CPU an executable is for, from its first bytes.
 *
 * @param {Uint8Array} bytes The start of the file (the PE header may sit a few hundred bytes in;
 *   4 KiB is plenty).
 * @returns {ExecutableTarget | null} The target, or null when the bytes are no ELF, PE or
 *   64-bit Mach-O executable.
 *
 * @example
 * ```js
 * import { executableTarget } from "./_exe_format.mjs";
 * executableTarget(new Uint8Array([0x7f, 0x45, 0x4c, 0x46])); // null: truncated header
 * ```
 */
export function executableTarget(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (/** @type {number} */ n) => bytes.length >= n;
  // ELF: 7f 'E' 'L' 'F'; e_machine (u16) at 18, in the byte order EI_DATA (offset 5) gives.
  if (has(20) && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    const little = bytes[5] === 1;
    const machine = view.getUint16(18, little);
    return { os: "linux", arch: ELF_MACHINES.get(machine) ?? "other", format: "elf" };
  }
  // PE: 'MZ', e_lfanew (u32) at 0x3c points to 'PE\0\0', the COFF machine follows.
  if (has(0x40) && bytes[0] === 0x4d && bytes[1] === 0x5a) {
    const pe = view.getUint32(0x3c, true);
    if (!has(pe + 6)) return null;
    if (view.getUint32(pe, true) !== 0x00004550) return null;
    const machine = view.getUint16(pe + 4, true);
    return { os: "windows", arch: PE_MACHINES.get(machine) ?? "other", format: "pe" };
  }
  // 64-bit Mach-O, little-endian magic feedfacf.
  if (has(8) && view.getUint32(0, true) === 0xfeedfacf) {
    const cpu = view.getUint32(4, true);
    return { os: "darwin", arch: MACHO_CPUS.get(cpu) ?? "other", format: "macho" };
  }
  return null;
}

/**
 * Tells whether a Node binary carries an injected single-executable blob, from its fuse.
 *
 * @param {Uint8Array} bytes The whole executable.
 * @returns {"injected" | "empty" | "no-fuse"} `injected` when the fuse reads `:1`, `empty` for
 *   a plain Node binary (`:0`), `no-fuse` when the binary is no Node build with SEA support.
 *
 * @example
 * ```js
 * import { seaFuseState, SEA_FUSE } from "./_exe_format.mjs";
 * seaFuseState(new TextEncoder().encode(`x${SEA_FUSE}:1x`)); // "injected"
 * ```
 */
export function seaFuseState(bytes) {
  const needle = new TextEncoder().encode(`${SEA_FUSE}:`);
  const at = indexOf(bytes, needle);
  if (at < 0 || at + needle.length >= bytes.length) return "no-fuse";
  const flag = bytes[at + needle.length];
  if (flag === 0x31) return "injected";
  if (flag === 0x30) return "empty";
  return "no-fuse";
}

/**
 * Finds a byte sequence.
 *
 * @param {Uint8Array} haystack Where to look.
 * @param {Uint8Array} needle What to find (not empty).
 * @param {number} [from] Where to start.
 * @returns {number} The offset of the first match, or -1.
 *
 * @example
 * ```js
 * import { indexOf } from "./_exe_format.mjs";
 * indexOf(new Uint8Array([1, 2, 3]), new Uint8Array([2, 3])); // 1
 * ```
 */
export function indexOf(haystack, needle, from = 0) {
  if (needle.length === 0) throw new RangeError("Invalid needle of length 0: expected bytes");
  const first = needle[0];
  const last = haystack.length - needle.length;
  for (
    let i = haystack.indexOf(first, from);
    i !== -1 && i <= last;
    i = haystack.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}
