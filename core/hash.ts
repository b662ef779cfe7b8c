/**
 * SHA-256 of process images, computed once per distinct file and streamed (a large image is
 * never loaded whole into memory).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream, promises as fsp } from "node:fs";
import type { Reason } from "./record.ts";

const MAX_ENTRIES = 4096;

/** A hash, or why there is none. */
export type HashResult = { sha256: string } | { reason: Reason };

/** Hashes files, remembering each result by path, size and modification time. */
export class ImageHasher {
  #cache = new Map<string, Promise<HashResult>>();

  /**
   * Hashes a file.
   *
   * @param path The image path.
   * @returns The hex SHA-256, or the reason it could not be read.
   */
  async hash(path: string): Promise<HashResult> {
    let key: string;
    try {
      const st = await fsp.stat(path);
      key = `${path}\0${st.size}\0${st.mtimeMs}`;
    } catch (err) {
      return { reason: reasonOf(err) };
    }
    let pending = this.#cache.get(key);
    if (!pending) {
      pending = hashFile(path);
      this.#cache.set(key, pending);
      // Bounded: a long watch sees images come and go; the oldest entry goes first.
      if (this.#cache.size > MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return await pending;
  }
}

function reasonOf(err: unknown): Reason {
  const code = (err as { code?: string }).code;
  return code === "EACCES" || code === "EPERM" ? "access-denied" : "not-found";
}

function hashFile(path: string): Promise<HashResult> {
  return new Promise((resolve) => {
    const digest = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => digest.update(chunk))
      .on("error", (err) => resolve({ reason: reasonOf(err) }))
      .on("end", () => resolve({ sha256: digest.digest("hex") }));
  });
}
