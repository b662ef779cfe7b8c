// `hash` on Linux reads the image a process runs (its /proc/<pid>/exe), not the file now at its
// path: real processes started from a copy of `cat` whose file is then deleted, replaced, or
// hidden behind another mount namespace's, each holding a listening socket to be listed by.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listConnections } from "../../../core/list.ts";
import { ImageHasher } from "../../../core/hash.ts";
import { createLinuxSource } from "../../../ffi/linux/engine.ts";
import { describeProcesses, runningImage } from "../../../ffi/linux/processes.ts";
import { PYTHON, type Running, start, startHeadless } from "./_children.ts";

const onLinux = process.platform === "linux";
const CAT = onLinux ? "/usr/bin/cat" : "";
const isRoot = process.getuid?.() === 0;
const UNSHARE = onLinux && isRoot && spawnSync("unshare", ["--version"]).status === 0
  ? "/usr/bin/unshare"
  : null;

// Opens a listener that the exec'd program inherits, says its port, then becomes argv[1] (cat,
// which ends when the test closes its stdin).
const EXEC_PY = `
import json, os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
os.set_inheritable(s.fileno(), True)
print(json.dumps({"port": s.getsockname()[1]}), flush=True)
os.execv(sys.argv[1], [sys.argv[1]])
`;

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

describe("hash of a running image", { skip: !onLinux || !PYTHON }, () => {
  const dir = mkdtempSync(join(tmpdir(), "procconn-image-"));
  const image = join(dir, "held-image");
  const catHash = onLinux ? sha256(readFileSync(CAT)) : "";
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The record of the listener on `port` owned by `pid`, listed with `hash`. */
  async function listed(pid: number, port: number) {
    const rows = await listConnections({ pids: [pid], hash: true, source: createLinuxSource() });
    const row = rows.find((r) => r.localPort === port);
    assert.ok(row, `no record of port ${port} for pid ${pid}`);
    return row;
  }

  /** Starts `image` (a fresh copy of cat) holding a listener, once it runs that image. */
  async function startCopy() {
    copyFileSync(CAT, image);
    return await execDone(await start<{ port: number }>(PYTHON!, ["-c", EXEC_PY, image]));
  }

  /** The child once it runs `image`: it says its port before it calls exec. */
  async function execDone(child: Running<{ port: number }>) {
    const runs = () => {
      try {
        return readlinkSync(`/proc/${child.child.pid}/exe`) === image;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 250 && !runs(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(runs(), `pid ${child.child.pid} did not start ${image}`);
    return child;
  }

  it("is the image's even after its file was deleted and a decoy took the shown path", async () => {
    const child = await startCopy();
    try {
      unlinkSync(image);
      // The path the kernel shows for it now names this decoy.
      writeFileSync(`${image} (deleted)`, "a decoy, not the image\n");
      const row = await listed(child.child.pid!, child.ready.port);
      assert.equal(row.processPath, `${image} (deleted)`);
      assert.equal(row.imageSha256, catHash);
      assert.equal(row.unavailable.imageSha256, undefined);
    } finally {
      await child.stop();
      rmSync(`${image} (deleted)`, { force: true });
    }
  });

  it("is the image's after another file replaced it at its path", async () => {
    const child = await startCopy();
    try {
      unlinkSync(image);
      writeFileSync(image, "#!/bin/sh\necho replaced\n");
      const row = await listed(child.child.pid!, child.ready.port);
      assert.equal(row.imageSha256, catHash);
      assert.notEqual(row.imageSha256, sha256(readFileSync(image)));
    } finally {
      await child.stop();
      rmSync(image, { force: true });
    }
  });

  it("is the image's when another mount namespace shows another file at its path", {
    skip: UNSHARE ? false : "needs root and unshare(1)",
  }, async () => {
    // Outside: a decoy at the path. Inside: cat's copy mounted over it, and that is what runs.
    writeFileSync(image, "the host's file, not the image\n");
    const inside = join(dir, "inside-image");
    copyFileSync(CAT, inside);
    const script = 'mount --bind "$1" "$2" && exec "$3" -c "$4" "$2"';
    const child = await execDone(
      await start<{ port: number }>({ path: UNSHARE! }, [
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        inside,
        image,
        PYTHON!.path,
        EXEC_PY,
      ]),
    );
    try {
      const row = await listed(child.child.pid!, child.ready.port);
      assert.equal(row.processPath, image);
      assert.equal(row.imageSha256, catHash);
      assert.notEqual(row.imageSha256, sha256(readFileSync(image)));
    } finally {
      await child.stop();
      rmSync(image, { force: true });
    }
  });

  it("is taken through a live thread after the main thread ended (pthread_exit)", async () => {
    const child = await startHeadless();
    try {
      const pid = child.child.pid!;
      const row = await listed(pid, child.ready.port);
      assert.equal(row.imageSha256, sha256(readFileSync(PYTHON!.path)));
    } finally {
      await child.stop();
    }
  });

  it("is refused once the pid names another process or none", async () => {
    const child = await startCopy();
    const pid = child.child.pid!;
    const info = describeProcesses([pid]).get(pid)!;
    try {
      const hasher = new ImageHasher();
      // Described at another start time: the pid was reused since.
      const reused = runningImage({}, pid, "2001-01-01T00:00:00.000Z");
      assert.deepEqual(await hasher.hash(image, reused), { reason: "process-exited" });
      // The same process: its image, even though the file at `image` is the same bytes anyway.
      const same = runningImage({}, pid, info.startTime);
      assert.ok(same.stillSame());
      assert.deepEqual(await hasher.hash("/nonexistent", same), { sha256: catHash });
    } finally {
      await child.stop();
    }
    // Gone: its exe link no longer opens, whatever file is at its path.
    const gone = runningImage({}, pid, info.startTime);
    assert.equal(gone.stillSame(), false);
    assert.deepEqual(await new ImageHasher().hash(image, gone), { reason: "process-exited" });
  });
});
