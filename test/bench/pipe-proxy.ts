/**
 * The limit the gateway is measured against: a bare `node:http` proxy that
 * pipes each request to the upstream over a keep-alive pool and pipes the
 * answer back, doing nothing else. Run as its own process by the benchmark
 * (`node test/bench/pipe-proxy.ts <upstream origin>`); prints its URL.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

const upstream = new URL(process.argv[2] ?? "http://127.0.0.1:1");
const agent = new http.Agent({ keepAlive: true, scheduling: "lifo", maxFreeSockets: 64 });
// Hop-by-hop headers a proxy must not forward (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "host"]);

const server = http.createServer((incoming, outgoing) => {
  const headers: http.OutgoingHttpHeaders = {};
  for (const name in incoming.headers) if (!HOP_BY_HOP.has(name)) headers[name] = incoming.headers[name];
  const request = http.request(
    { host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers, agent },
    (response) => {
      const answer: http.OutgoingHttpHeaders = {};
      for (const name in response.headers) if (!HOP_BY_HOP.has(name)) answer[name] = response.headers[name];
      outgoing.writeHead(response.statusCode ?? 502, answer);
      response.pipe(outgoing);
    },
  );
  request.on("error", () => outgoing.destroy());
  incoming.pipe(request);
});
server.keepAliveTimeout = 60_000;
process.once("SIGTERM", () => process.exit(0));
server.listen(0, "127.0.0.1", () => console.log(`pipe proxy on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
