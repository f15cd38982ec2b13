/**
 * Engine objects → the docker CLI 28's exact `--format json` shapes (`docker ps`, `docker stats`,
 * `docker images`, `docker node ls`, `docker service ls`), plus the Go/go-units formatting they
 * rest on. Pure functions, web-standard only. `cliJsonLine(obj)` gives the CLI's exact bytes.
 *
 * @module
 */
export * from './containers.ts';
export * from './go.ts';
export * from './images.ts';
export * from './nodes.ts';
export * from './reference.ts';
export * from './stats.ts';
export * from './time.ts';
export * from './units.ts';
