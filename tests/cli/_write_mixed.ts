// Writes mixedText() through procconn's stdout writer, under Deno or Node (tsx).
import { stdoutWriter } from "../../cli/_io.ts";
import { mixedParts } from "./_mixed_text.ts";

const out = stdoutWriter();
for (const part of mixedParts()) await out.write(part);
await out.flush();
