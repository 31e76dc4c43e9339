/**
 * Node.js command-line flags `bodyroute serve` is meant to run under. They can only be given on
 * node's command line (V8 sizes the main heap before any of bodyroute's code runs, and node refuses
 * this one in NODE_OPTIONS), so every launcher passes them: `npm start`, the cli's `#!` line, the
 * systemd unit in deploy/, the bench and the test helper; `serve` warns once when they are missing.
 *
 * --initial-old-space-size=64: V8 counts the array buffers allocated since the last full collection
 * against the old generation's limit, and bodyroute allocates about 1 MB of them per image (socket
 * reads, the header copy, reads for sending) while its JavaScript heap stays near 16 MB. Left to
 * itself V8 keeps that limit a few MB above the heap, so under load it started a full mark-compact
 * every ~10 images: 102 on the main thread and 29 on the inference worker per 2,000 images, with
 * about 50 ms of concurrent marking each on V8's helper threads. With a 64 MB floor: 2 and 1, and
 * 8.2 instead of 11.2 ms of CPU per image (docs/performance.md, "Full collections every ten images").
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/** The flags of SERVE_NODE_FLAGS that node was not started with (any value of the same option counts as given). */
export function missingNodeFlags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map(optionName));
  return SERVE_NODE_FLAGS.filter((f) => !given.has(optionName(f)));
}

/** "--initial-old-space-size=64" → "--initial-old-space-size"; V8 also takes underscores for dashes. */
function optionName(flag: string): string {
  return flag.split('=')[0].replace(/_/g, '-');
}
