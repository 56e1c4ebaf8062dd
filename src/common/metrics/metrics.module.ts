import { Global, Module } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { JobRuns } from './job-runs';
import { Metrics } from './metrics';
import { MetricsServer } from './metrics-server';

/** Metrics, the jobs' recorder and the /metrics listener, for every module (recording works with metrics off). */
@Global()
@Module({
  providers: [{ provide: Metrics, useFactory: () => new Metrics() }, JobRuns, MetricsServer],
  exports: [Metrics, JobRuns, MetricsServer],
})
export class MetricsModule {}

/**
 * The request histogram: one observe per response, in onResponse (after the answer has gone out), labelled with
 * the matched route pattern that Fastify already holds, never the raw URL. Installed only with METRICS_PORT.
 */
export function instrumentRequests(fastify: FastifyInstance, metrics: Metrics): void {
  metrics.collectProcessDefaults();
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime);
    done();
  });
}
