/**
 * Small misbehaving HTTP servers on 127.0.0.1 that stand in for a Convex deployment in trouble:
 * a closed port, a host that never answers, fixed error replies, and a proxy that fails first and
 * then forwards to a working host. Each records the requests it received.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface FaultServer {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

type Handler = (req: ReceivedRequest, index: number) => FaultReply | "hang" | "stall" | "forward";

/** A fixed reply; `headers` (e.g. content-encoding) are sent as given. */
export interface FaultReply {
  status: number;
  contentType?: string;
  headers?: Record<string, string>;
  body: string | Buffer;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("fault server did not bind");
  return `http://127.0.0.1:${address.port}`;
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
}

/**
 * Starts a server answering each request with `handler`'s choice: a reply, `"hang"` (never
 * answer), `"stall"` (answer headers, then stop mid-body), or `"forward"` (proxy to `forwardTo`).
 */
export async function startFaultServer(handler: Handler, forwardTo?: string): Promise<FaultServer> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const record: ReceivedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body,
      };
      received.push(record);
      const action = handler(record, received.length - 1);
      if (action === "hang") return;
      if (action === "stall") {
        // Headers and the start of a body, then nothing: a reply that never completes.
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"userId":');
        return;
      }
      if (action === "forward") {
        if (!forwardTo) throw new Error("forward without a target");
        const target = new URL(record.path, forwardTo);
        const upstream = httpRequest(
          target,
          { method: record.method, headers: { ...req.headers, host: target.host } },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        upstream.on("error", () => {
          res.writeHead(502);
          res.end();
        });
        upstream.end(body);
        return;
      }
      // A client that stops reading (as it should for a huge reply) resets the socket.
      res.on("error", () => {});
      res.writeHead(action.status, {
        "content-type": action.contentType ?? "application/json",
        ...action.headers,
      });
      res.end(action.body);
    })();
  });
  const url = await listen(server);
  return { url, received, close: closer(server) };
}

/** A URL on 127.0.0.1 where nothing listens: the port was bound, then released. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await closer(server)();
  return url;
}

/** A JSON error reply as the Convex routes write it. */
export function jsonReply(status: number, error: string, message: string) {
  return { status, body: JSON.stringify({ error, message }) };
}
