/**
 * The one Proxy that turns unknown member names into commands, used by clients, backends and
 * pipelines alike: a name that is a member is the member; a name in NOT_COMMANDS (probed by
 * `await`, `util.inspect`, JSON and test tools) is undefined; any other name becomes
 * `make(name)`, made once and remembered. Defining a member later drops the remembered one.
 */

/** Names that never become commands. */
export const NOT_COMMANDS: ReadonlySet<string> = new Set([
  'then', 'catch', 'finally', 'toJSON', 'inspect', 'constructor', 'asymmetricMatch', 'nodeType', 'valueOf', 'toString',
]);

/**
 * Wraps `target` so that `proxy.anyName(...args)` is `make('anyName')(...args)`. `methods`
 * caches the made functions (pass the target's own map when it needs to see it).
 */
export function commandProxy<T extends object, F extends (...args: never[]) => unknown>(
  target: T, make: (name: string) => F, methods: Map<string, F> = new Map(),
): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      if (typeof prop === 'symbol') return Reflect.get(obj, prop, receiver);
      // A command used before is one map lookup, not a walk up the prototype chain.
      const known = methods.get(prop);
      if (known !== undefined) return known;
      if (prop in obj) return Reflect.get(obj, prop, receiver);
      if (NOT_COMMANDS.has(prop)) return undefined;
      const fn = make(prop);
      methods.set(prop, fn);
      return fn;
    },
    defineProperty(obj, prop, descriptor) {
      if (typeof prop === 'string') methods.delete(prop);
      return Reflect.defineProperty(obj, prop, descriptor);
    },
  });
}
