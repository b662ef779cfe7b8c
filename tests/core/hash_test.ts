import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageHasher } from "../../core/hash.ts";

describe("ImageHasher", () => {
  const dir = mkdtempSync(join(tmpdir(), "procconn-hash-"));
  const file = join(dir, "image.bin");

  it("hashes a file larger than one read chunk", async () => {
    const data = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) & 0xff);
    writeFileSync(file, data);
    const expected = createHash("sha256").update(data).digest("hex");
    assert.deepEqual(await new ImageHasher().hash(file), { sha256: expected });
  });

  it("recomputes when the file changes (size or mtime), not otherwise", async () => {
    const hasher = new ImageHasher();
    writeFileSync(file, "one");
    const first = await hasher.hash(file);
    writeFileSync(file, "two");
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const second = await hasher.hash(file);
    assert.notDeepEqual(first, second);
    assert.deepEqual(second, { sha256: createHash("sha256").update("two").digest("hex") });
  });

  it("keeps at most 16 files open, however many hashes are asked for at once", async () => {
    writeFileSync(file, "shared");
    const hasher = new ImageHasher();
    let open = 0, most = 0;
    const image = {
      file,
      stillSame: () => {
        most = Math.max(most, ++open); // asked while the file is open
        return true;
      },
    };
    const results = await Promise.all(
      Array.from({ length: 200 }, () => hasher.hash(file, image).finally(() => open--)),
    );
    assert.ok(results.every((r) => "sha256" in r));
    assert.ok(most >= 2 && most <= 16, `${most} files were open at once`);
  });

  it("says why there is no hash", async () => {
    assert.deepEqual(await new ImageHasher().hash(join(dir, "missing")), { reason: "not-found" });
    if (process.getuid?.() !== 0) {
      writeFileSync(file, "secret");
      chmodSync(file, 0);
      assert.deepEqual(await new ImageHasher().hash(file), { reason: "access-denied" });
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
