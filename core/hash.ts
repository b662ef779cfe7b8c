/**
 * SHA-256 of process images, computed once per distinct file and streamed (a large image is
 * never loaded whole into memory).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import type { Reason } from "./record.ts";
import type { RunningImage } from "./source.ts";

const MAX_ENTRIES = 4096;
const CHUNK = 1024 * 1024;
/** Files open at once: a listing of thousands of processes must not run out of descriptors. */
const OPEN_AT_ONCE = 16;

/** A hash, or why there is none. */
export type HashResult = { sha256: string } | { reason: Reason };

/**
 * Hashes files, remembering each result by the file's identity (device and inode), size and
 * modification time, so processes that run one image cost one read of it.
 */
export class ImageHasher {
  #cache = new Map<string, Promise<HashResult>>();
  #free = OPEN_AT_ONCE;
  #waiting: (() => void)[] = [];

  /**
   * Hashes a process image.
   *
   * @param path The image path, read when there is no `image`.
   * @param image Where the running image itself can be read (the backend's
   *   {@linkcode SocketSource.runningImage}): then that is what is hashed, even when the file at
   *   `path` was deleted, replaced, or is another mount namespace's.
   * @returns The hex SHA-256, or the reason it could not be read.
   */
  async hash(path: string, image?: RunningImage | null): Promise<HashResult> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await this.#hashOpen(path, image);
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }

  async #hashOpen(path: string, image?: RunningImage | null): Promise<HashResult> {
    let file: fsp.FileHandle;
    try {
      file = await fsp.open(image ? image.file : path, "r");
    } catch (err) {
      // The running image's link goes when the process does.
      return { reason: image && missing(err) ? "process-exited" : reasonOf(err) };
    }
    try {
      const st = await file.stat();
      // The link was opened, but the pid may since name another process (reused): its image is
      // not the one the record describes.
      if (image && !image.stillSame()) return { reason: "process-exited" };
      // Where the file system gives no inode (0), the path stands in for the file's identity.
      const key = st.ino
        ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`
        : `${path}\0${st.size}:${st.mtimeMs}`;
      const known = this.#cache.get(key);
      if (known) return await known;
      const pending = digest(file);
      this.#cache.set(key, pending);
      // Bounded: a long watch sees images come and go; the oldest entry goes first.
      if (this.#cache.size > MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
      const result = await pending;
      // A failed read is not remembered: the next listing tries again.
      if ("reason" in result && this.#cache.get(key) === pending) this.#cache.delete(key);
      return result;
    } catch (err) {
      return { reason: reasonOf(err) };
    } finally {
      await file.close().catch(() => {});
    }
  }
}

function missing(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "ENOENT" || code === "ESRCH";
}

function reasonOf(err: unknown): Reason {
  const code = (err as { code?: string }).code;
  return code === "EACCES" || code === "EPERM" ? "access-denied" : "not-found";
}

async function digest(file: fsp.FileHandle): Promise<HashResult> {
  const sha = createHash("sha256");
  const buffer = new Uint8Array(CHUNK);
  let position = 0;
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) break;
      sha.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } catch (err) {
    return { reason: reasonOf(err) };
  }
  return { sha256: sha.digest("hex") };
}
