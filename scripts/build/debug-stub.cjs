/**
 * Stand-in for the `debug` package in function bundles (`npm run build` aliases `debug` here).
 * CommonJS, because docker-modem calls `require('debug')('modem')`.
 *
 * The real package enumerates the whole environment at load time (its `DEBUG_*` options),
 * which on Deno needs an unrestricted `--allow-env`; with this no-op the bundles run with a
 * short `--allow-env=` list. Bundles lose only docker-modem's `DEBUG=modem` traces.
 */
'use strict';

function createDebug(namespace) {
  const d = () => {};
  d.enabled = false;
  d.namespace = namespace;
  d.extend = (ns) => createDebug(`${namespace}:${ns}`);
  return d;
}
createDebug.enable = () => {};
createDebug.disable = () => '';
createDebug.enabled = () => false;

module.exports = createDebug;
