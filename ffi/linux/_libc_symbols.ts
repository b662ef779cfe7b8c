/**
 * The libc symbol table and constants of the Linux backend, as plain data: the main thread binds
 * them through the runtime adapter (`_libc.ts`), the fd-scan worker binds them with
 * `Deno.dlopen` directly, without loading the Node compatibility layer.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;

/** The libc symbols procconn binds on Linux. */
export const LIBC_SYMBOLS = {
  /** `int socket(int domain, int type, int protocol)` */
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /**
   * `ssize_t sendto(int sockfd, const void *buf, size_t len, int flags,
   * const struct sockaddr *dest_addr, socklen_t addrlen)`
   */
  sendto: {
    parameters: [
      "i32", // int sockfd
      "buffer", // const void *buf
      "usize", // size_t len
      "i32", // int flags
      "buffer", // const struct sockaddr *dest_addr
      "u32", // socklen_t addrlen
    ],
    result: "isize",
  },
  /** `ssize_t recv(int sockfd, void *buf, size_t len, int flags)` */
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  /** `int close(int fd)` */
  close: { parameters: ["i32"], result: "i32" },
  /**
   * `int open(const char *pathname, int flags, ...)`: variadic, but the mode argument is read
   * only with O_CREAT or O_TMPFILE, which procconn never passes.
   */
  open: { parameters: ["buffer", "i32"], result: "i32" },
  /** `ssize_t getdents64(int fd, void *dirp, size_t count)`: glibc 2.30 and later, musl. */
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize", optional: true },
  /** `ssize_t readlinkat(int dirfd, const char *pathname, char *buf, size_t bufsiz)` */
  readlinkat: { parameters: ["i32", "buffer", "buffer", "usize"], result: "isize" },
  /** `ssize_t read(int fd, void *buf, size_t count)` */
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /**
   * `ssize_t readv(int fd, const struct iovec *iov, int iovcnt)`, made on another thread: the
   * BPF iterator's output is read while this thread reads the socket tables.
   */
  readvAsync: {
    name: "readv",
    parameters: ["i32", "buffer", "i32"],
    result: "isize",
    nonblocking: true,
  },
  /** `ssize_t pread(int fd, void *buf, size_t count, off_t offset)` */
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  /**
   * `void *memmem(const void *haystack, size_t haystacklen, const void *needle,
   * size_t needlelen)`: a GNU extension that glibc and musl have. The result is taken as an
   * address (0 for NULL), to subtract the haystack's from.
   */
  memmem: {
    parameters: ["buffer", "usize", "buffer", "usize"],
    result: "usize",
    optional: true,
  },
  /** `int poll(struct pollfd *fds, nfds_t nfds, int timeout)` */
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  /** `int sigprocmask(int how, const sigset_t *set, sigset_t *oldset)` */
  sigprocmask: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  /**
   * `long syscall(long number, ...)`, bound for `bpf(int cmd, union bpf_attr *attr,
   * unsigned int size)`: glibc and musl pass the arguments on from the registers, so the
   * variadic call is made as a plain one.
   */
  syscall: {
    parameters: [
      "i64", // long number
      "i64", // int cmd
      "buffer", // union bpf_attr *attr
      "u64", // unsigned int size
    ],
    result: "i64",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** `SOCK_RAW` (the type `ss` opens netlink sockets with; the same number on every arch). */
export const SOCK_RAW = 3;
/** `SOCK_CLOEXEC` = `O_CLOEXEC` (asm-generic; x86 and arm alike). */
export const SOCK_CLOEXEC = 0x80000;
/** `O_RDONLY`. */
export const O_RDONLY = 0;
/** `O_CLOEXEC` (asm-generic; x86 and arm alike). `O_DIRECTORY` differs by arch: not used. */
export const O_CLOEXEC = 0x80000;
/** `SIG_BLOCK` (the same number on x86 and arm). */
export const SIG_BLOCK = 0;
/** `SIG_SETMASK` (the same number on x86 and arm). */
export const SIG_SETMASK = 2;
/** `sizeof(sigset_t)` in glibc and musl (the kernel reads the first 8 bytes). */
export const SIGSET_SIZE = 128;
/** `POLLERR`: for the writing end of a pipe, its reader has closed it. */
export const POLLERR = 0x8;
/** `POLLHUP`: the other end hung up (a terminal, a socket). */
export const POLLHUP = 0x10;
/** `POLLNVAL`: the descriptor is not open. */
export const POLLNVAL = 0x20;
/** `MSG_TRUNC`: with it, `recv` returns a datagram's real length even when it was cut. */
export const MSG_TRUNC = 0x20;

/**
 * The names to try, in order: glibc's soname, then musl's. The process already has its C
 * library mapped, and the loader hands that one back for its soname, so a bare name is safe.
 */
export function libcCandidates(): string[] {
  // Node's process object is read only off Deno: touching it there loads Node compatibility.
  const arch = deno?.build?.arch ??
    // deno-lint-ignore no-explicit-any
    ((globalThis as any).process?.arch === "arm64" ? "aarch64" : "x86_64");
  return ["libc.so.6", `libc.musl-${arch}.so.1`];
}
