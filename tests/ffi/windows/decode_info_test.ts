import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeCommandLine,
  decodeOwnerModuleInfo,
  decodeSid,
  decodeTokenUser,
  servicesFromModule,
} from "../../../ffi/windows/decode_info.ts";

// The buffers below are laid out field by field from the x64 definitions (iprtrmib.h
// TCPIP_OWNER_MODULE_BASIC_INFO, winternl.h UNICODE_STRING, winnt.h TOKEN_USER and SID). The
// pointers in them are addresses as the API would write them: `BASE` stands for the address of
// the buffer's first byte.
const BASE = 0x7ff6_1234_5000n;

function putWide(view: DataView, at: number, text: string, terminate = true): number {
  for (let i = 0; i < text.length; i++) view.setUint16(at + 2 * i, text.charCodeAt(i), true);
  if (terminate) view.setUint16(at + 2 * text.length, 0, true);
  return at + 2 * (text.length + (terminate ? 1 : 0));
}

describe("decodeOwnerModuleInfo", () => {
  it("follows pModuleName (0) and pModulePath (8) to the strings after the struct", () => {
    const bytes = new Uint8Array(200).fill(0xcc);
    const view = new DataView(bytes.buffer);
    const pathAt = putWide(view, 16, "Dnscache");
    putWide(view, pathAt, "C:\\Windows\\system32\\svchost.exe");
    view.setBigUint64(0, BASE + 16n, true);
    view.setBigUint64(8, BASE + BigInt(pathAt), true);
    assert.deepEqual(decodeOwnerModuleInfo(bytes, BASE), {
      name: "Dnscache",
      path: "C:\\Windows\\system32\\svchost.exe",
    });
  });

  it("goes where the pointers say, whatever the order and gaps", () => {
    const bytes = new Uint8Array(120);
    const view = new DataView(bytes.buffer);
    putWide(view, 24, "C:\\Tools\\Ünïcode😀.exe");
    putWide(view, 90, "Ünïcode😀.exe");
    view.setBigUint64(0, BASE + 90n, true);
    view.setBigUint64(8, BASE + 24n, true);
    assert.deepEqual(decodeOwnerModuleInfo(bytes, BASE), {
      name: "Ünïcode😀.exe",
      path: "C:\\Tools\\Ünïcode😀.exe",
    });
  });

  it("reads a NULL pointer as an empty string", () => {
    const bytes = new Uint8Array(40);
    const view = new DataView(bytes.buffer);
    putWide(view, 16, "timer.dll");
    view.setBigUint64(0, BASE + 16n, true);
    assert.deepEqual(decodeOwnerModuleInfo(bytes, BASE), { name: "timer.dll", path: "" });
  });

  it("rejects a pointer outside the buffer instead of following it", () => {
    const bytes = new Uint8Array(64);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BASE - 2n, true);
    assert.throws(() => decodeOwnerModuleInfo(bytes, BASE), {
      name: "RangeError",
      message:
        /^Invalid pointer "0x7ff612344ffe" in TCPIP_OWNER_MODULE_BASIC_INFO\.pModuleName: outside the buffer of 64 bytes/,
    });
    view.setBigUint64(0, 0n, true);
    view.setBigUint64(8, BASE + 64n, true);
    assert.throws(() => decodeOwnerModuleInfo(bytes, BASE), /pModulePath: outside the buffer/);
  });

  it("rejects a string that runs off the end of the buffer", () => {
    const bytes = new Uint8Array(24);
    const view = new DataView(bytes.buffer);
    putWide(view, 16, "abcd", false);
    view.setBigUint64(0, BASE + 16n, true);
    assert.throws(() => decodeOwnerModuleInfo(bytes, BASE), /no NUL before the end of the buffer/);
  });

  it("rejects a buffer shorter than the struct", () => {
    assert.throws(() => decodeOwnerModuleInfo(new Uint8Array(15), BASE), {
      name: "RangeError",
      message:
        "Buffer too short for TCPIP_OWNER_MODULE_BASIC_INFO: need 16 bytes, the buffer has 15",
    });
  });
});

describe("servicesFromModule", () => {
  it("names a service whose row has a tag: Windows answers with its name as name and path", () => {
    assert.deepEqual(servicesFromModule({ name: "Dnscache", path: "Dnscache" }, 0x5a), [
      "Dnscache",
    ]);
    assert.deepEqual(servicesFromModule({ name: "svc.exe", path: "svc.exe" }, 7), ["svc.exe"]);
  });

  it("names the service when the module is not the process image", () => {
    assert.deepEqual(
      servicesFromModule({ name: "Dnscache", path: "C:\\Windows\\system32\\svchost.exe" }, 0),
      ["Dnscache"],
    );
    assert.deepEqual(
      servicesFromModule({ name: "iphlpsvc", path: "C:\\Windows\\System32\\iphlpsvc.dll" }, 9),
      ["iphlpsvc"],
    );
  });

  it("gives no service for the image itself, compared case-insensitively, tag or not", () => {
    assert.deepEqual(servicesFromModule({ name: "WEB.EXE", path: "C:\\Web\\web.exe" }, 0), []);
    assert.deepEqual(servicesFromModule({ name: "node.exe", path: "C:/nodejs/node.exe" }, 3), []);
  });

  it("without a folder or a tag, takes an .exe name or System for the image", () => {
    assert.deepEqual(servicesFromModule({ name: "chrome.exe", path: "" }, 0), []);
    assert.deepEqual(servicesFromModule({ name: "System", path: "System" }, 0), []);
    assert.deepEqual(servicesFromModule({ name: "Spooler", path: "" }, 0), ["Spooler"]);
    assert.deepEqual(servicesFromModule({ name: "Spooler", path: "Spooler" }, 0), ["Spooler"]);
  });
});

/** UNICODE_STRING: Length u16 @0 (bytes, no NUL), MaximumLength u16 @2, padding @4, Buffer @8. */
function unicodeString(text: string, options: { at?: number; size?: number } = {}): Uint8Array {
  const at = options.at ?? 16;
  const bytes = new Uint8Array(options.size ?? at + 2 * text.length + 2).fill(0xab);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 2 * text.length, true);
  view.setUint16(2, 2 * text.length + 2, true);
  view.setUint32(4, 0, true);
  view.setBigUint64(8, BASE + BigInt(at), true);
  putWide(view, at, text);
  return bytes;
}

describe("decodeCommandLine", () => {
  it("reads Length bytes at Buffer, not up to a NUL", () => {
    const text = '"C:\\Program Files\\Web\\web.exe" --port 8080';
    assert.equal(decodeCommandLine(unicodeString(text), BASE), text);
  });

  it("turns embedded NULs into spaces", () => {
    assert.equal(decodeCommandLine(unicodeString("app\0-x\0\0y"), BASE), "app -x  y");
  });

  it("reads characters placed anywhere in the buffer", () => {
    assert.equal(
      decodeCommandLine(unicodeString("cmd /c dir", { at: 40, size: 80 }), BASE),
      "cmd /c dir",
    );
  });

  it("reads Length 0 as an empty string without following Buffer", () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(8, 0xdeadn, true);
    assert.equal(decodeCommandLine(bytes, BASE), "");
  });

  it("rejects characters that do not lie inside the buffer", () => {
    const bytes = unicodeString("abcdef");
    assert.throws(() => decodeCommandLine(bytes.subarray(0, bytes.length - 4), BASE), {
      name: "RangeError",
      message: /^Invalid UNICODE_STRING: 12 bytes at offset 16 run past the buffer of 26$/,
    });
    const moved = unicodeString("abc");
    new DataView(moved.buffer).setBigUint64(8, BASE + 4096n, true);
    assert.throws(() => decodeCommandLine(moved, BASE), /UNICODE_STRING\.Buffer: outside/);
  });

  it("rejects an odd Length and a short header", () => {
    const bytes = unicodeString("abc");
    new DataView(bytes.buffer).setUint16(0, 5, true);
    assert.throws(() => decodeCommandLine(bytes, BASE), /Invalid UNICODE_STRING length "5"/);
    assert.throws(() => decodeCommandLine(new Uint8Array(8), BASE), /need 16 bytes/);
  });
});

/** A SID: Revision, SubAuthorityCount, IdentifierAuthority (6 bytes BE), SubAuthority[] (LE). */
function sid(authority: number[], subs: number[]): number[] {
  const out = [1, subs.length, ...authority];
  for (const s of subs) out.push(s & 0xff, (s >>> 8) & 0xff, (s >>> 16) & 0xff, s >>> 24);
  return out;
}

describe("decodeSid", () => {
  it("writes well-known and domain SIDs in string form", () => {
    const system = sid([0, 0, 0, 0, 0, 5], [18]);
    assert.deepEqual(decodeSid(new Uint8Array(system), 0), { text: "S-1-5-18", size: 12 });
    const everyone = sid([0, 0, 0, 0, 0, 1], [0]);
    assert.equal(decodeSid(new Uint8Array(everyone), 0).text, "S-1-1-0");
    const user = sid([0, 0, 0, 0, 0, 5], [21, 3623811015, 3361044348, 30300820, 1013]);
    assert.deepEqual(decodeSid(new Uint8Array(user), 0), {
      text: "S-1-5-21-3623811015-3361044348-30300820-1013",
      size: 28,
    });
  });

  it("writes an authority beyond 32 bits in hex", () => {
    const odd = sid([0x01, 0x02, 0, 0, 0, 0x10], [7]);
    assert.equal(decodeSid(new Uint8Array(odd), 0).text, "S-1-0x10200000010-7");
  });

  it("rejects a wrong revision, too many sub-authorities and a short buffer", () => {
    const bad = sid([0, 0, 0, 0, 0, 5], [18]);
    bad[0] = 2;
    assert.throws(() => decodeSid(new Uint8Array(bad), 0), /Invalid SID revision "2"/);
    const many = new Uint8Array(8 + 4 * 16);
    many.set([1, 16, 0, 0, 0, 0, 0, 5]);
    assert.throws(() => decodeSid(many, 0), /Invalid SID sub-authority count "16": at most 15/);
    const cut = new Uint8Array(sid([0, 0, 0, 0, 0, 5], [21, 1, 2])).subarray(0, 19);
    assert.throws(() => decodeSid(cut, 0), {
      name: "RangeError",
      message: /with 3 sub-authorities: need 20 bytes at offset 0, the buffer has 19/,
    });
  });
});

describe("decodeTokenUser", () => {
  it("follows User.Sid (0) to the SID after the struct; Attributes (8) are ignored", () => {
    const sidBytes = sid([0, 0, 0, 0, 0, 5], [21, 0, 0, 0, 1000]);
    const bytes = new Uint8Array(16 + sidBytes.length);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BASE + 16n, true);
    view.setUint32(8, 0x60, true);
    view.setUint32(12, 0xcccccccc, true); // padding
    bytes.set(sidBytes, 16);
    const user = decodeTokenUser(bytes, BASE);
    assert.equal(user.sidString, "S-1-5-21-0-0-0-1000");
    assert.deepEqual([...user.sid], sidBytes);
    assert.equal(user.sid.byteOffset, 16, "a view into the buffer, for LookupAccountSidW");
  });

  it("rejects a SID pointer outside the buffer and a short buffer", () => {
    const bytes = new Uint8Array(28);
    new DataView(bytes.buffer).setBigUint64(0, BASE + 28n, true);
    assert.throws(() => decodeTokenUser(bytes, BASE), /TOKEN_USER\.User\.Sid: outside the buffer/);
    assert.throws(() => decodeTokenUser(new Uint8Array(12), BASE), /TOKEN_USER: need 16 bytes/);
  });
});
