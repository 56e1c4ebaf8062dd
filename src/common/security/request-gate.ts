import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  Logger,
  NotFoundException,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { ModuleRef, type ModulesContainer } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { MetadataScanner } from '@nestjs/core/metadata-scanner';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isObservable, lastValueFrom } from 'rxjs';
import { AppException } from '../http/app.exception';
import { bodyPending, closeAfterAnswer } from '../http/request-timeouts';
import { ApiKeyRateLimitGuard, RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { AuthenticationGuard } from './authentication.guard';
import { AuthorizationGuard } from './authorization.guard';

/**
 * A request's body is read only for a caller who may send it (API.md, Conventions). Nest runs guards inside
 * the route handler, after Fastify has read and parsed the body; so the app's guards run here instead, in a
 * Fastify `preParsing` hook, from the head alone: the IP's rate limits, the credential (with an API key's IP
 * allow-list), the key's own budget and the route's permission, in that order, the very guard instances and
 * route metadata Nest would use. A refusal is answered (401/403/429) without reading the body, with
 * `Connection: close` when a body is still owed, so the connection goes once the answer is out.
 *
 * RequestGateGuard, the one APP_GUARD, finds the decision made and lets the request through; it decides
 * itself only for a request the hook could not (none today: every controller route is tagged), so nothing
 * ever goes unguarded.
 */

/** The guards, in the order they run: IP limits before credentials, credentials before the key's own budget. */
export const REQUEST_GUARDS = [RateLimitGuard, AuthenticationGuard, ApiKeyRateLimitGuard, AuthorizationGuard] as const;

/** Which controller method a Fastify route runs: set on the route's config by `tagRouteTargets`. */
interface RouteTarget {
  classRef: Type;
  methodName: string;
}

const ROUTE_TARGET = Symbol('hearth:route-target');
/** A controller method, as Nest and Reflect metadata see it. */
type Method = (...args: unknown[]) => unknown;
const decided = new WeakSet<FastifyRequest>();

function routeTarget(request: FastifyRequest): RouteTarget | undefined {
  const config = request.routeOptions?.config as unknown as Record<symbol, unknown> | undefined;
  return config?.[ROUTE_TARGET] as RouteTarget | undefined;
}

/**
 * Before Nest registers its routes: every controller route method gets its class and name in its Fastify
 * route config (Nest's @RouteConfig metadata, which the Fastify adapter copies onto the route). A method
 * function inherited by several controllers gets an own copy per controller first, so each route names its
 * own class (class-level metadata such as @Public may differ between them).
 */
export function tagRouteTargets(modules: ModulesContainer): number {
  const scanner = new MetadataScanner();
  const owner = new Map<Method, Type>();
  let tagged = 0;
  for (const module of modules.values()) {
    for (const { metatype } of module.controllers.values()) {
      if (typeof metatype !== 'function') continue;
      const classRef = metatype as Type;
      const prototype = classRef.prototype as Record<string, unknown>;
      for (const methodName of scanner.getAllMethodNames(prototype)) {
        const found = prototype[methodName];
        if (typeof found !== 'function' || Reflect.getMetadata(PATH_METADATA, found) === undefined) continue;
        let method = found as Method;
        const taken = owner.get(method);
        if (taken && taken !== classRef) method = ownCopy(prototype, methodName, method);
        owner.set(method, classRef);
        const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, method) ?? {}) as Record<
          string | symbol,
          unknown
        >;
        const target: RouteTarget = { classRef, methodName };
        Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, [ROUTE_TARGET]: target }, method);
        tagged++;
      }
    }
  }
  return tagged;
}

/** An own method on `prototype` that calls the inherited one, with its metadata (routes, docs, guards). */
function ownCopy(prototype: Record<string, unknown>, name: string, inherited: Method): Method {
  const copy = {
    [name](this: unknown, ...args: unknown[]): unknown {
      return inherited.apply(this, args);
    },
  }[name]!;
  for (const key of Reflect.getOwnMetadataKeys(inherited))
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, inherited), copy);
  Object.defineProperty(prototype, name, { value: copy, writable: true, configurable: true, enumerable: false });
  return copy;
}

function hasEmptyParam(request: FastifyRequest): boolean {
  const params = (request.params ?? {}) as Record<string, unknown>;
  return Object.entries(params).some(([name, value]) => value === '' && name !== '*');
}

/** Nest's own not-found answer (its not-found handler throws exactly this). */
function notFound(request: FastifyRequest, reply: FastifyReply): NotFoundException {
  closeAfterAnswer(request, reply);
  return new NotFoundException(`Cannot ${request.method} ${request.raw.url ?? request.url}`);
}

@Injectable()
export class RequestGate implements OnModuleInit {
  private guards: CanActivate[] = [];
  private readonly logger = new Logger('RequestGate');

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    this.guards = REQUEST_GUARDS.map((guard) => this.moduleRef.get<CanActivate>(guard, { strict: false }));
  }

  /** Runs every guard in order; throws the first refusal (a guard answering false is 403, as in Nest). */
  async decide(context: ExecutionContext): Promise<void> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!this.guards.length) throw new Error('RequestGate: the guards are not resolved yet');
    for (const guard of this.guards) {
      const result = guard.canActivate(context);
      const allowed = isObservable(result) ? await lastValueFrom(result) : await result;
      if (!allowed) throw AppException.forbidden();
    }
    decided.add(request);
  }

  /** The `preParsing` hook: the decision from the head, for every controller route. */
  install(fastify: FastifyInstance): void {
    fastify.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply) => {
      const target = routeTarget(request);
      if (!target) {
        // No route matched: answered as Nest's not-found handler would, without reading a body.
        if (request.is404 && bodyPending(request)) throw notFound(request, reply);
        return;
      }
      // An empty route parameter (`/v1/clients/` for `/v1/clients/:id`): Nest's Fastify adapter answers 404
      // before the route's guards, so this does too (and still without reading the body).
      if (hasEmptyParam(request)) throw notFound(request, reply);
      const handler = (target.classRef.prototype as Record<string, Method>)[target.methodName]!;
      const context = new ExecutionContextHost([request, reply, undefined], target.classRef, handler);
      context.setType('http');
      try {
        await this.decide(context);
      } catch (err) {
        closeAfterAnswer(request, reply);
        throw err;
      }
    });
  }

  /** For RequestGateGuard: a request whose route was not tagged (logged: it should not happen). */
  async decideLate(context: ExecutionContext): Promise<void> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    this.logger.warn(`${request.method} ${request.routeOptions?.url ?? request.url}: guards ran after the body`);
    await this.decide(context);
  }
}

/** The app's one APP_GUARD: the decision RequestGate made from the head, or made now if it could not. */
@Injectable()
export class RequestGateGuard implements CanActivate {
  constructor(private readonly gate: RequestGate) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!decided.has(request)) await this.gate.decideLate(context);
    return true;
  }
}
