/** Support for unit specs (route and DTO metadata read the way Nest reads it); left out of the build, imported only by *.spec.ts (docs/architecture.json). */
import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

export type Ctor = new (...args: any[]) => object;

export interface ControllerRoute {
  name: string;
  method: string;
  path: string;
  handler: object;
}

/** Every route handler on the class and its ancestors (inherited CRM handlers included), read from Nest's metadata. */
export function controllerRoutes(controller: Ctor): ControllerRoute[] {
  const out: ControllerRoute[] = [];
  const seen = new Set<string>();
  for (let proto = controller.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = (proto as Record<string, unknown>)[name];
      if (name === 'constructor' || seen.has(name) || typeof handler !== 'function') continue;
      const path: unknown = Reflect.getMetadata(PATH_METADATA, handler);
      if (path === undefined) continue;
      seen.add(name);
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number] ?? '?';
      out.push({ name, method, path: path as string, handler });
    }
  }
  return out;
}

/** The properties a DTO class refuses in `plain`, with the app's whitelist rules. */
export const dtoErrors = (cls: Ctor, plain: object): string[] =>
  validateSync(plainToInstance(cls, plain), { whitelist: true, forbidNonWhitelisted: true }).map((e) => e.property);
