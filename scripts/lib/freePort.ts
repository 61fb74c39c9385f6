import * as net from "node:net";

/**
 * A port nothing listens on right now, below Linux's ephemeral range (32768-60999): a port the
 * kernel handed out for listen(0) can be taken by an outgoing connection before the stack binds it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (free) {
      await new Promise((r) => server.close(r));
      return port;
    }
  }
}
