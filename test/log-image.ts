/**
 * A test image that prints: `out-1`, `err-1` (stderr), `out-2`, a line of {@link LONG_LINE}
 * `x`s, `err-2` (stderr), then `tick-N` every 0.2 s until SIGTERM. Made from src-test/busybox
 * with the docker CLI (set-up only); `tag` is unique to the caller and approved by the test
 * config's `docker.io/src-test/*`.
 */
import { execFileSync } from 'node:child_process';

/** Characters of the long line (more than two of the Engine's 16 KiB pieces). */
export const LONG_LINE = 40_000;

const SCRIPT = [
  'echo out-1',
  'echo err-1 >&2',
  'echo out-2',
  's=xxxxxxxxxx; s=$s$s$s$s$s$s$s$s$s$s; s=$s$s$s$s$s$s$s$s$s$s; s=$s$s$s$s$s$s$s$s$s$s',
  'echo $s$s$s$s',
  'echo err-2 >&2',
  'trap "exit 0" TERM INT',
  'i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2 & wait $!; done',
].join('; ');

/** 300 lines of 40,000 `x`s (12 MB, more than an answer's 10 MiB), then sleeps until SIGTERM. */
export const BIG_SCRIPT = [
  's=xxxxxxxxxx; s=$s$s$s$s$s$s$s$s$s$s; s=$s$s$s$s$s$s$s$s$s$s; s=$s$s$s$s$s$s$s$s$s$s; s=$s$s$s$s',
  'i=0; while [ $i -lt 300 ]; do echo $s; i=$((i+1)); done',
  'echo done',
  'trap "exit 0" TERM INT',
  'while :; do sleep 1 & wait $!; done',
].join('; ');

/** Builds the image as `tag` (the printing script above, or `script`). */
export function buildLogImage(tag: string, script = SCRIPT): void {
  const id = execFileSync('docker', ['create', 'src-test/busybox:latest'], { encoding: 'utf8' }).trim();
  try {
    execFileSync('docker', ['commit', '-c', `CMD ["/bin/sh", "-c", ${JSON.stringify(script)}]`, id, tag]);
  } finally {
    execFileSync('docker', ['rm', id]);
  }
}

/** Removes the image. */
export function removeLogImage(tag: string): void {
  execFileSync('docker', ['rmi', '-f', tag]);
}
