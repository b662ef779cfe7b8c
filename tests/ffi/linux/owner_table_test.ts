import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OwnerMap, sortPairs } from "../../../ffi/linux/owner_table.ts";

/** The table as plain [inode, pids] pairs. */
function entries(owners: OwnerMap): [number, number[]][] {
  return [...owners.finish().byInode].map(([inode, pids]) => [inode, [...pids]]);
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The table built the obvious way: a Map of sets. */
function reference(pairs: readonly (readonly [number, number])[]): [number, number[]][] {
  const map = new Map<number, Set<number>>();
  for (const [inode, pid] of pairs) {
    if (!map.has(inode)) map.set(inode, new Set());
    map.get(inode)!.add(pid);
  }
  return [...map].sort((a, b) => a[0] - b[0]).map(([inode, pids]) => [
    inode,
    [...pids].sort((a, b) => a - b),
  ]);
}

describe("OwnerMap", () => {
  it("lists each socket's pids ascending, each once, however they arrived", () => {
    const owners = new OwnerMap();
    // As the BPF iterator may give them: pid 5 through two file tables, 8 between them.
    for (const [inode, pid] of [[1, 5], [1, 5], [2, 5], [1, 8], [1, 5], [3, 2], [2, 4]]) {
      owners.add(inode, pid);
    }
    const { byInode, incomplete } = owners.finish();
    assert.deepEqual([...byInode], [[1, [5, 8]], [2, [4, 5]], [3, [2]]]);
    assert.equal(byInode.size, 3);
    assert.deepEqual([...byInode.keys()], [1, 2, 3]);
    assert.equal(incomplete, false);
  });

  it("answers get and has by inode, and nothing for an inode no process holds", () => {
    const owners = new OwnerMap();
    for (const inode of [900, 20, 4000, 7]) owners.add(inode, inode + 1);
    const { byInode } = owners.finish();
    assert.deepEqual(byInode.get(20), [21]);
    assert.deepEqual(byInode.get(4000), [4001]);
    assert.equal(byInode.get(21), undefined);
    assert.equal(byInode.get(0), undefined);
    assert.equal(byInode.has(7), true);
    assert.equal(byInode.has(8), false);
  });

  it("hands every socket of a lone holder the same frozen list", () => {
    const owners = new OwnerMap();
    owners.add(10, 3);
    owners.add(11, 3);
    owners.add(12, 3);
    owners.add(12, 4);
    const { byInode } = owners.finish();
    assert.equal(byInode.get(10), byInode.get(11));
    assert.ok(Object.isFrozen(byInode.get(10)));
    assert.deepEqual(byInode.get(12), [3, 4]);
  });

  it("gives an empty table for an empty scan, and starts afresh after finish", () => {
    const owners = new OwnerMap();
    assert.deepEqual(entries(owners), []);
    owners.add(5, 6);
    assert.deepEqual(entries(owners), [[5, [6]]]);
    assert.deepEqual(entries(owners), []);
  });

  it("matches a Map of sets on 20,000 random pairs, past its first capacity", () => {
    const next = random(7);
    const pairs: [number, number][] = [];
    for (let i = 0; i < 20_000; i++) {
      pairs.push([1 + Math.floor(next() * 5_000), 1 + Math.floor(next() * 300)]);
    }
    const owners = new OwnerMap();
    for (const [inode, pid] of pairs) owners.add(inode, pid);
    assert.deepEqual(entries(owners), reference(pairs));
  });

  it("keeps inodes of 2^31 and more, and the largest pids, exact", () => {
    const pairs: [number, number][] = [
      [2 ** 32 - 1, 4_194_303],
      [2 ** 31, 1],
      [2 ** 31 - 1, 4_194_303],
      [2 ** 32 - 1, 2],
      [3, 2 ** 22 + 5],
    ];
    const owners = new OwnerMap();
    for (const [inode, pid] of pairs) owners.add(inode, pid);
    assert.deepEqual(entries(owners), reference(pairs));
  });

  it("moves to two arrays when a pair past the one-key limits comes after thousands that fit", () => {
    const next = random(3);
    const pairs: [number, number][] = [];
    for (let i = 0; i < 3_000; i++) {
      pairs.push([1 + Math.floor(next() * 800), 1 + Math.floor(next() * 50)]);
    }
    pairs.push([2 ** 31 + 7, 5], [12, 2 ** 22], [12, 3]);
    const owners = new OwnerMap();
    owners.reserve(2_000);
    for (const [inode, pid] of pairs) owners.add(inode, pid);
    const { byInode } = owners.finish();
    assert.deepEqual(
      [...byInode].map(([inode, pids]) => [inode, [...pids]]),
      reference(pairs),
    );
    assert.equal(byInode.size, reference(pairs).length);
    assert.deepEqual(byInode.get(2 ** 31 + 7), [5]);
    assert.ok(byInode.get(12)!.includes(2 ** 22));
  });

  it("takes a reservation of the pairs to come, larger or smaller than they are", () => {
    for (const reserved of [0, 10, 5_000]) {
      const owners = new OwnerMap();
      owners.add(1, 1);
      owners.reserve(reserved);
      for (let i = 0; i < 2_500; i++) owners.add(2 + i, 7);
      const { byInode } = owners.finish();
      assert.equal(byInode.size, 2_501, `reserved ${reserved}`);
      assert.deepEqual(byInode.get(2_501), [7]);
    }
  });
});

describe("sortPairs", () => {
  it("sorts pairs past the one-key limits by inode, then pid", () => {
    const next = random(5);
    const count = 3_000;
    const inodes = new Float64Array(count);
    const pids = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      inodes[i] = Math.floor(next() * 2 ** 32);
      pids[i] = Math.floor(next() * 2 ** 23);
    }
    const expected = Array.from(inodes, (inode, i) => [inode, pids[i]])
      .sort((a, b) => (a[0] - b[0]) || (a[1] - b[1]));
    const sorted = sortPairs(inodes, pids);
    assert.deepEqual(Array.from(sorted.inodes, (inode, i) => [inode, sorted.pids[i]]), expected);
  });
});
