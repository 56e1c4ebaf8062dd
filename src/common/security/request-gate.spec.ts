import { Controller, Get, Post, SetMetadata, type Type } from '@nestjs/common';
import { type ModulesContainer } from '@nestjs/core';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import { Permission, Public } from './decorators';
import { tagRouteTargets } from './request-gate';

/** What RequestGate reads back from a Fastify route's config: the route's class and method. */
function targetOf(method: unknown): { classRef: unknown; methodName: string } | undefined {
  const config = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, method as object) as
    Record<symbol, { classRef: unknown; methodName: string }> | undefined;
  const key = config && Object.getOwnPropertySymbols(config)[0];
  return key ? config[key] : undefined;
}

/** A method as found on the class's prototype (own or inherited), the way Nest finds it. */
const methodOf = (classRef: Type, name: string): unknown => (classRef.prototype as Record<string, unknown>)[name];

function container(...controllers: Type[]): ModulesContainer {
  const wrappers = new Map(controllers.map((c) => [c, { metatype: c }]));
  return new Map([['AppModule', { controllers: wrappers }]]) as unknown as ModulesContainer;
}

describe('tagRouteTargets', () => {
  it('tags each route method with its controller and name, keeping route config already there', () => {
    @Controller('things')
    class ThingsController {
      @Get()
      list() {
        return [];
      }

      @Post()
      @SetMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { kept: true })
      create() {
        return {};
      }

      helper() {
        return 'not a route';
      }
    }
    expect(tagRouteTargets(container(ThingsController))).toBe(2);
    const method = (name: string) => methodOf(ThingsController, name);
    expect(targetOf(method('list'))).toEqual({ classRef: ThingsController, methodName: 'list' });
    expect(targetOf(method('create'))).toEqual({ classRef: ThingsController, methodName: 'create' });
    expect(Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, method('create') as object)).toMatchObject({
      kept: true,
    });
    expect(targetOf(method('helper'))).toBeUndefined();
  });

  it('a route method two controllers inherit gets an own copy per controller, so each names its own class', () => {
    abstract class Base {
      @Get()
      @Permission('clients', 'read')
      list() {
        return 'listed';
      }
    }
    @Controller('a')
    @Public()
    class AController extends Base {}
    @Controller('b')
    class BController extends Base {}

    tagRouteTargets(container(AController, BController));
    const a = methodOf(AController, 'list') as () => string;
    const b = methodOf(BController, 'list') as () => string;
    expect(a).not.toBe(b);
    expect(targetOf(a)).toEqual({ classRef: AController, methodName: 'list' });
    expect(targetOf(b)).toEqual({ classRef: BController, methodName: 'list' });
    // The copy keeps the route and permission metadata, and still runs the inherited method.
    expect(Reflect.getMetadata('path', b)).toBe(Reflect.getMetadata('path', a));
    expect(Reflect.getMetadata('security:permission', b)).toEqual({ resource: 'clients', action: 'read' });
    expect(b.call(new BController())).toBe('listed');
  });
});
