import { Global, Injectable, Module } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

/**
 * Graceful shutdown for keep-alive clients. Closing the HTTP server at once would also drop idle keep-alive
 * sockets on which a client may already have sent its next request (ECONNRESET for it). Instead, draining
 * answers every request with `Connection: close` and readiness with 503, waits until nothing is in flight
 * and the traffic has gone quiet, and only then lets the server close.
 */
@Injectable()
export class GracefulDrain {
  private inFlight = 0;
  private lastActivity = 0;
  draining = false;

  install(fastify: FastifyInstance): void {
    fastify.addHook('onRequest', async (_request, reply) => {
      this.inFlight++;
      this.lastActivity = Date.now();
      if (this.draining) reply.header('connection', 'close');
    });
    const finished = () => {
      this.inFlight = Math.max(0, this.inFlight - 1);
      this.lastActivity = Date.now();
    };
    fastify.addHook('onResponse', (_request, _reply, done) => {
      finished();
      done();
    });
    // A client that gives up must not keep the drain waiting.
    fastify.addHook('onRequestAbort', (_request, done) => {
      finished();
      done();
    });
  }

  /** Resolves once nothing is in flight and no request came for `quietMs`, or after `maxMs`. */
  async drain(quietMs = 300, maxMs = 10_000): Promise<void> {
    this.draining = true;
    const started = Date.now();
    while (Date.now() - started < maxMs && (this.inFlight > 0 || Date.now() - this.lastActivity < quietMs)) {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

@Global()
@Module({ providers: [GracefulDrain], exports: [GracefulDrain] })
export class GracefulDrainModule {}
