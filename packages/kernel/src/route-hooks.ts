/**
 * For `onRoute` hooks that add behaviour to the routes of a scope: the methods a route serves, and
 * a route's own handlers for a lifecycle hook with more appended after them (Fastify accepts one
 * handler or an array there).
 *
 * @example
 * app.addHook('onRoute', (route) => {
 *   if (routeMethods(route).includes('POST')) route.preHandler = appendedHandlers(route.preHandler, check);
 * });
 */
export function routeMethods(route: { method: string | string[] }): string[] {
  return [route.method].flat();
}

export function appendedHandlers<T>(own: T | T[] | undefined, ...more: T[]): T[] {
  return [...(own === undefined ? [] : [own].flat()), ...more] as T[];
}
