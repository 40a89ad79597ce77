/**
 * Keep-alive agents whose idle connections close after a while, found by one
 * periodic sweep of the pool rather than by a timer on every connection.
 *
 * Node's agent `timeout` option bounds idle connections with each socket's
 * own timeout, which is also on while the socket serves a request: per call
 * Node refreshed it on every read and write, listened for its 'timeout' and
 * stopped listening, cleared it when the answer ended and set it again when
 * the socket went back to the pool (making and dropping Node's timer list for
 * its duration each time, when one connection serves the calls one after
 * another): a share of the hot path's CPU time (npm run bench) that a bare
 * proxy without the option does not spend. Here a socket going back to the
 * pool is stamped with the sweep from which it has idled long enough, and a
 * sweep every {@link SWEEP_MS}, while the pool holds sockets, takes those past
 * it out of the pool and closes them.
 *
 * As Node's agent does, a server's `Keep-Alive: timeout=N` hint shortens the
 * wait, to close the connection before the server does (a call sent on a
 * connection the server is closing fails): at least a second before the
 * server's time.
 */
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";

/** How often the pool is swept while it holds sockets: an idle socket closes up to two periods before its bound, never after. */
export const SWEEP_MS = 1_000;
/** Node's own margin before a server's keep-alive time (`agentKeepAliveTimeoutBuffer`). */
const SERVER_HINT_MARGIN_MS = 1_000;

const IDLE_UNTIL = Symbol("idleUntil");

/** A pooled socket, stamped with the sweep from which it has idled long enough. */
interface StampedSocket extends Socket {
  [IDLE_UNTIL]?: number;
}

/** What Node's agent sees of a socket's last exchange: the request on it, and its answer (Node's keepSocketAlive reads the same). */
interface LastExchange {
  readonly _httpMessage?: { readonly res?: { readonly headers: http.IncomingHttpHeaders } } | null;
}

type AgentOptions = Omit<http.AgentOptions, "timeout">;

/** An HTTP agent whose idle sockets close after `idleMs` (see the module's note). */
export function createIdleClosingAgent(options: AgentOptions, idleMs: number): http.Agent {
  return new (idleClosing(http.Agent, idleMs))(options);
}

/** An HTTPS agent whose idle sockets close after `idleMs` (see the module's note). */
export function createIdleClosingHttpsAgent(options: AgentOptions & https.AgentOptions, idleMs: number): https.Agent {
  return new (idleClosing(https.Agent, idleMs))(options);
}

// A mixin's base takes any arguments (TypeScript's rule for mixins); both agents take their options.
function idleClosing<T extends new (...args: any[]) => http.Agent>(Base: T, idleMs: number): T {
  return class IdleClosingAgent extends Base {
    #sweeper: NodeJS.Timeout | undefined = undefined;
    /** Sweeps so far: the pool's clock, which needs no reading of the time per call. */
    #sweeps = 0;

    override keepSocketAlive(socket: Socket): boolean {
      // Node's returns whether the socket may stay (typed void): the server's hint may say no.
      if (!(super.keepSocketAlive(socket) as unknown)) return false;
      // The first sweep comes within a period: the socket closes within its bound, at most two periods before it.
      const sweeps = Math.floor(Math.min(idleMs, serverHintMs(socket) - SERVER_HINT_MARGIN_MS) / SWEEP_MS);
      if (sweeps <= 0) return false;
      (socket as StampedSocket)[IDLE_UNTIL] = this.#sweeps + sweeps;
      // Unref'd: an idle connection never keeps the process alive.
      this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
      return true;
    }

    override destroy(): void {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
      super.destroy();
    }

    #sweep(): void {
      this.#sweeps += 1;
      let waiting = 0;
      for (const [name, sockets = []] of Object.entries(this.freeSockets)) {
        const kept = sockets.filter((socket) => ((socket as StampedSocket)[IDLE_UNTIL] ?? 0) > this.#sweeps);
        if (kept.length === sockets.length) {
          waiting += kept.length;
          continue;
        }
        // Out of the pool at once, not on their 'close': the agent skips only destroyed sockets at the
        // front of the list, and hands out the last one (lifo), which may be one just destroyed.
        for (const socket of sockets) if (!kept.includes(socket)) socket.destroy();
        sockets.splice(0, sockets.length, ...kept);
        if (kept.length === 0) delete (this.freeSockets as Record<string, Socket[]>)[name];
        waiting += kept.length;
      }
      if (waiting === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }
  };
}

/** The server's keep-alive time from its last answer's `Keep-Alive: timeout=N`, in ms; Infinity without one. */
function serverHintMs(socket: Socket): number {
  const header = (socket as Socket & LastExchange)._httpMessage?.res?.headers["keep-alive"];
  const hint = Array.isArray(header) ? header[0] : header;
  const seconds = hint === undefined ? undefined : /^timeout=(\d+)/.exec(hint)?.[1];
  return seconds === undefined ? Number.POSITIVE_INFINITY : Number(seconds) * 1000;
}
