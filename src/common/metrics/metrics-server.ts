import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type AddressInfo } from 'node:net';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { APP_CONFIG } from '../../config/config.module';
import { type AppConfig } from '../../config/app-config';
import { Metrics } from './metrics';

/**
 * `GET /metrics` on METRICS_HOST:METRICS_PORT: a listener of its own (node:http), so the figures are never
 * reachable on the public API port and a scrape never competes with the API's routing, guards or rate limits.
 * It has no authentication: bind it to loopback or a private network.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server?: Server;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { port, host } = this.config.metrics;
    if (port === undefined) return;
    const server = createServer((req, res) => void this.answer(req, res));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = this.address();
    this.logger.log(`metrics on http://${address?.address}:${address?.port}/metrics`);
  }

  /** Where it listens (tests ask with METRICS_PORT=0); undefined when metrics are off. */
  address(): AddressInfo | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return this.reply(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return this.reply(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
    }
    try {
      const { contentType, body } = await this.metrics.exposition();
      this.reply(res, 200, contentType, req.method === 'HEAD' ? '' : body);
    } catch (err) {
      this.logger.warn(`metrics scrape failed: ${(err as Error).message}`);
      this.reply(res, 500, 'text/plain; charset=utf-8', 'Metrics unavailable\n');
    }
  }

  private reply(res: ServerResponse, status: number, contentType: string, body: string): void {
    res.statusCode = status;
    res.setHeader('Content-Type', contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(body);
  }
}
