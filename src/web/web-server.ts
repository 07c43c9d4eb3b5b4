import type { Server, ServerWebSocket } from "bun";
import pageText from "./page/index.html" with { type: "text" };
import script from "./page/viewer.js" with { type: "text" };
import { hostHeaderAllowed, showsToken, type WebAddress } from "./web-access.ts";
import { MAX_REPORT_BYTES } from "./web-messages.ts";
import type { ViewerHub } from "./viewer-hub.ts";

/** What Bun may hold unsent for one viewer before it closes it: a few 4K frames. The hub's own bound (a stalled viewer dropped) comes first. */
const BACKPRESSURE_LIMIT_BYTES = 16 * 1024 * 1024;
/** Whoever reaches the page should not be able to make it fetch or run anything else, nor pass the token on. */
const HEADERS = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

export class WebPortError extends Error {}

interface SocketData {
  id: number | undefined;
}

/**
 * The browser viewer's server, at the edge: the page, its script and the
 * WebSocket, nothing else; every request shows the token where one is
 * needed. Sockets and their events go to the ViewerHub.
 */
export class WebViewerServer {
  private constructor(private readonly server: Server<SocketData>) {}

  static open(address: WebAddress, token: string | undefined, hub: ViewerHub, nowMs: () => number): WebViewerServer {
    const query = token === undefined ? "" : `?token=${token}`;
    // Imported as text (embedded in the binary); typed as Bun's HTML bundle, which it is not here.
    const html = (pageText as unknown as string).replace("%QUERY%", query);
    const respond = (body: string | null, status: number, type = "text/plain; charset=utf-8") => new Response(body, { status, headers: { ...HEADERS, "Content-Type": type } });
    let server: Server<SocketData>;
    try {
      server = Bun.serve<SocketData>({
        hostname: address.host,
        port: address.port,
        fetch(request, server) {
          const url = new URL(request.url);
          if (!hostHeaderAllowed(request.headers.get("host"), token) || !showsToken(url, token)) return respond("forbidden: open the URL udpvid printed, with its token\n", 403);
          if (request.method !== "GET" && request.method !== "HEAD") return respond("only GET here\n", 405);
          if (url.pathname === "/") return respond(html, 200, "text/html; charset=utf-8");
          if (url.pathname === "/viewer.js") return respond(script, 200, "text/javascript; charset=utf-8");
          // A page beyond --web-max-viewers is let in and closed at once (1013), so that it can say why.
          if (url.pathname === "/ws") return server.upgrade(request, { data: { id: undefined } }) ? undefined : respond("a WebSocket upgrade was expected\n", 400);
          return respond("not found\n", 404);
        },
        websocket: {
          maxPayloadLength: MAX_REPORT_BYTES,
          backpressureLimit: BACKPRESSURE_LIMIT_BYTES,
          closeOnBackpressureLimit: true,
          idleTimeout: 60,
          sendPings: true,
          open(ws: ServerWebSocket<SocketData>) {
            ws.data.id = hub.join({ send: (data) => ws.send(data), bufferedAmount: () => ws.getBufferedAmount(), close: (code, reason) => ws.close(code, reason) });
          },
          message(ws, message) {
            if (ws.data.id !== undefined) hub.message(ws.data.id, typeof message === "string" ? message : new Uint8Array(message), nowMs());
          },
          drain(ws) {
            if (ws.data.id !== undefined) hub.drained(ws.data.id, nowMs());
          },
          close(ws) {
            if (ws.data.id !== undefined) hub.left(ws.data.id);
          },
        },
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EADDRINUSE") throw new WebPortError(`--web: port ${address.port} on ${address.host} is already in use (pick another, or 0 for any free one)`);
      if (code === "EADDRNOTAVAIL") throw new WebPortError(`--web: ${address.host} is not an address of this machine`);
      throw new WebPortError(`--web: cannot listen on ${address.host}:${address.port} (${error instanceof Error ? error.message : String(error)})`);
    }
    return new WebViewerServer(server);
  }

  get port(): number {
    return this.server.port!;
  }

  close(): void {
    void this.server.stop(true);
  }
}
