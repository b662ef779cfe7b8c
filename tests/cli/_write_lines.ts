// Writes numbered lines (3 MB) through procconn's stdout writer; exits 1 with the writer's error.
import { stdoutWriter } from "../../cli/_io.ts";

const out = stdoutWriter();
try {
  for (let i = 0; i < 100_000; i++) await out.write(`line ${i} ${"x".repeat(20)}\n`);
  await out.flush();
} catch (err) {
  console.error((err as Error).message);
  Deno.exit(1);
}
