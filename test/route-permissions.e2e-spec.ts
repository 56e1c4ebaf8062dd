import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { ANY_PRINCIPAL, IS_PUBLIC, PERMISSION, USERS_ONLY } from '../src/common/security/decorators';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * Every route is either @Public() or declares who may call it (@Permission, @UsersOnly or @AnyPrincipal).
 * A route added without a declaration fails this test instead of shipping open or half-guarded.
 */
describe('every route declares its access', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('has no undeclared handler', () => {
    const reflector = t.app.get(Reflector);
    const undeclared: string[] = [];
    const publicRoutes: string[] = [];
    let count = 0;
    for (const wrapper of t.app.get(DiscoveryService).getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!controller || !wrapper.instance) continue;
      const proto = Object.getPrototypeOf(wrapper.instance) as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        if (Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        count++;
        const targets = [handler as () => unknown, controller];
        const route = `${RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number]} ${String(Reflect.getMetadata(PATH_METADATA, controller))}/${String(Reflect.getMetadata(PATH_METADATA, handler))} (${controller.name}.${name})`;
        if (reflector.getAllAndOverride(IS_PUBLIC, targets)) {
          publicRoutes.push(route);
          continue;
        }
        const declared = [PERMISSION, USERS_ONLY, ANY_PRINCIPAL].some((key) =>
          reflector.getAllAndOverride(key, targets),
        );
        if (!declared) undeclared.push(route);
      }
    }
    expect(count).toBeGreaterThan(3);
    expect(undeclared).toEqual([]);
    // Public routes are few and known: a new one must be added here on purpose.
    const allowedPublic = /^(GET|POST|ALL) (health|admin|auth|console|\/|)/;
    expect(publicRoutes.filter((r) => !allowedPublic.test(r))).toEqual([]);
  });
});
