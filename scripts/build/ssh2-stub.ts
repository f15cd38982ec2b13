/**
 * Stand-in for the `ssh2` package in function bundles (`npm run build` aliases `ssh2` here).
 *
 * docker-modem loads `ssh2` for `ssh://` Engine hosts only; the real package drags native
 * addons (`.node` files, `cpu-features`) and `__dirname` into a bundle. With this stub a bundle
 * stays self-contained and loses exactly one thing: `ssh://` Engine hosts. Connecting to one
 * fails with a clear error (the API answers 503 `engine_unavailable`), never with a crash.
 * The local runner (`npm start`) uses the real `ssh2` and keeps `ssh://` hosts.
 *
 * @module
 */
import { EventEmitter } from 'node:events';

/** The message every `ssh://` connection attempt fails with inside a bundle. */
export const SSH_UNSUPPORTED = 'ssh:// Engine hosts are not supported by the function bundles (ssh2 is not bundled); use unix:// or tcp:// with TLS, or the local runner';

/** Mimics `ssh2.Client` just enough for docker-modem: `connect()` emits an `error`. */
export class Client extends EventEmitter {
  connect(): this {
    queueMicrotask(() => this.emit('error', new Error(SSH_UNSUPPORTED)));
    return this;
  }
  exec(_cmd: string, cb: (err: Error) => void): void {
    cb(new Error(SSH_UNSUPPORTED));
  }
  end(): this {
    return this;
  }
}

export default { Client };
