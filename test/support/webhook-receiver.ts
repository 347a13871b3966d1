import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback webhook receiver on a free port: it keeps the JSON body of every request and answers each with the
 * next status of `statuses` (the last one repeats). `answer` changes the statuses between requests.
 */
export class WebhookReceiver<Body = unknown> {
  readonly bodies: Body[] = [];
  url = '';
  private next = 0;
  private server: Server | undefined;

  constructor(private statuses: number[] = [200]) {}

  async start(path = '/hook'): Promise<this> {
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => {
        text += c.toString('utf8');
      });
      req.on('end', () => {
        this.bodies.push(JSON.parse(text) as Body);
        res.statusCode = this.statuses[Math.min(this.next++, this.statuses.length - 1)]!;
        res.end();
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    return this;
  }

  /** Answer the following requests with `statuses` (the last one repeats). */
  answer(...statuses: number[]): void {
    this.statuses = statuses;
    this.next = 0;
  }

  /** Stop listening; its URL then refuses connections. */
  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}
