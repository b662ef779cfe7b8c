/**
 * Small pieces the Windows engine's helpers share: the result of one lookup, and the address of
 * a buffer.
 *
 * @module
 */
import type { Reason } from "../../core/record.ts";
import { pointerAddress } from "../_native.ts";
import type { NtdllSymbols } from "./_symbols.ts";

/** What one lookup found: a value, or why there is none. */
export type Lookup<T> = { value: T } | { reason: Reason };

/** A lookup that found nothing, for the given reason. */
export function failed(reason: Reason): { reason: Reason } {
  return { reason };
}

/**
 * Returns the address of `bytes[0]`, or null when ntdll's memset is not available. Some APIs
 * write pointers into the buffer they fill that point back into it; this address turns them
 * into offsets. The runtime adapter has no address-of for buffers, so memset(bytes, 0, 0),
 * which writes nothing and returns its first argument, tells it.
 */
export function bufferAddress(nt: NtdllSymbols | undefined, bytes: Uint8Array): bigint | null {
  if (!nt?.memset) return null;
  const address = pointerAddress(nt.memset(bytes, 0, 0n));
  return address === 0n ? null : address;
}
