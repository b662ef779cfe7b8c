/**
 * The kernel's TCP state numbers, shared by the `/proc/net/tcp` parser and the sock_diag
 * decoder: both report `sk_state` (include/net/tcp_states.h).
 *
 * @module
 */
import type { TcpState } from "../../core/record.ts";

/** Kernel TCP state number -> netstat's name. */
export const TCP_STATE_BY_CODE: Readonly<Record<number, TcpState>> = {
  0x01: "ESTABLISHED",
  0x02: "SYN_SENT",
  0x03: "SYN_RCVD",
  0x04: "FIN_WAIT1",
  0x05: "FIN_WAIT2",
  0x06: "TIME_WAIT",
  0x07: "CLOSED",
  0x08: "CLOSE_WAIT",
  0x09: "LAST_ACK",
  0x0a: "LISTEN",
  0x0b: "CLOSING",
  // TCP_NEW_SYN_RECV is a request socket; TCP_BOUND_INACTIVE (Linux 6.8) is bound, not in use.
  0x0c: "SYN_RCVD",
  0x0d: "BOUND",
};
