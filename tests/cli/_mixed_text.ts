// Text for the stdout writer test: short lines of one-, two-, three- and four-byte characters
// (in UTF-8), so chunks end inside every kind, and single writes far larger than one chunk.
export function mixedParts(): string[] {
  const parts: string[] = [];
  for (let i = 0; i < 30_000; i++) {
    parts.push(`${i} é€😀 ${"ü".repeat(i % 7)}\n`);
    if (i === 10_000) parts.push("€".repeat(700_000) + "\n"); // 2.1 MB as UTF-8
    if (i === 20_000) parts.push("😀".repeat(100_000) + "\n"); // 400 kB
  }
  return parts;
}
