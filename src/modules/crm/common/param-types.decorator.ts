/**
 * Sets a method's parameter types explicitly. Methods of a class built by a factory function have generic
 * parameter types, which TypeScript emits as `Object`; ValidationPipe and Swagger read `design:paramtypes`, so
 * the factory names the real DTO classes here. (Applied after TypeScript's own metadata, so it wins.)
 */
export function ParamTypes(...types: unknown[]): MethodDecorator {
  return (target, key) => {
    Reflect.defineMetadata('design:paramtypes', types, target, key);
  };
}
