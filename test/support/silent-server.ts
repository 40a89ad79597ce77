/**
 * A TCP server on 127.0.0.1 that accepts connections and never answers: the
 * endpoint of a dependency that hangs. It reads what it is sent (so the
 * client's writes complete) and writes nothing. With `forwardTo`, it can be
 * told to pipe new connections to a real endpoint instead, to play a
 * dependency whose first attempt hangs and whose retry is answered.
 */
import net, { type AddressInfo, type Socket } from "node:net";

/** Options of {@link startSilentServer}. */
export interface SilentServerOptions {
  /** Where new connections go once {@link SilentServer.setSilent} turned silence off, e.g. `http://127.0.0.1:PORT`. */
  readonly forwardTo?: string;
}

/** A running silent server. */
export interface SilentServer {
  /** e.g. http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Silent connections still open. */
  readonly openSilent: number;
  /** Whether new connections are held silent (the default) or forwarded to `forwardTo`. */
  setSilent(silent: boolean): void;
  /** Resolves when `count` connections have been accepted in all. */
  acceptedCount(count: number): Promise<void>;
  /** Resolves when no silent connection is left open (the clients gave up and closed them). */
  silentClosed(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the server on an ephemeral port. */
export async function startSilentServer(options: SilentServerOptions = {}): Promise<SilentServer> {
  let silence = true;
  const target = options.forwardTo === undefined ? undefined : new URL(options.forwardTo);
  const sockets = new Set<Socket>();
  const silent = new Set<Socket>();
  const waiters = new Set<() => void>();
  let accepted = 0;
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };

  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.once("close", () => {
      sockets.delete(socket);
      silent.delete(socket);
      notify();
    });
    if (silence || target === undefined) {
      silent.add(socket);
      socket.resume();
    } else {
      const upstream = net.connect(Number(target.port), target.hostname);
      upstream.on("error", () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
      socket.once("close", () => upstream.destroy());
    }
    notify();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  /** Resolves once `condition` holds, checked on every accept and close. */
  const until = (condition: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!condition()) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get accepted() {
      return accepted;
    },
    get openSilent() {
      return silent.size;
    },
    setSilent(next) {
      if (!next && target === undefined) throw new Error("the silent server has nowhere to forward to");
      silence = next;
    },
    acceptedCount: (count) => until(() => accepted >= count),
    silentClosed: () => until(() => silent.size === 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
