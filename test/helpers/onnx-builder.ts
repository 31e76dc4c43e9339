import { writeFileSync } from 'node:fs';

/**
 * Writes small ONNX models for tests without Python: just enough protobuf for Conv,
 * ReduceMean and MatMul graphs. Used for a deliberately slow model (the pipeline must not
 * wait on it) and a tiny one with known outputs.
 */
function varint(n: number | bigint): Buffer {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, v: number) => Buffer.concat([key(field, 0), varint(v)]);
const bytes = (field: number, b: Buffer) => Buffer.concat([key(field, 2), varint(b.length), b]);
const str = (field: number, s: string) => bytes(field, Buffer.from(s, 'utf8'));
const msg = (field: number, ...parts: Buffer[]) => bytes(field, Buffer.concat(parts));

interface Node {
  op: string;
  inputs: string[];
  output: string;
  ints?: Record<string, number[]>;
  int?: Record<string, number>;
}

function node(n: Node, i: number): Buffer {
  const attrs: Buffer[] = [];
  for (const [name, values] of Object.entries(n.ints ?? {})) attrs.push(msg(5, str(1, name), ...values.map((v) => int(8, v)), int(20, 7)));
  for (const [name, v] of Object.entries(n.int ?? {})) attrs.push(msg(5, str(1, name), int(3, v), int(20, 2)));
  return msg(1, ...n.inputs.map((x) => str(1, x)), str(2, n.output), str(3, `n${i}`), str(4, n.op), ...attrs);
}

function tensor(name: string, dims: number[], values: Float32Array): Buffer {
  return msg(5, ...dims.map((d) => int(1, d)), int(2, 1), str(8, name), bytes(9, Buffer.from(values.buffer, values.byteOffset, values.byteLength)));
}

function valueInfo(field: number, name: string, dims: (number | string)[]): Buffer {
  const dimMsgs = dims.map((d) => (typeof d === 'number' ? msg(1, int(1, d)) : msg(1, str(2, d))));
  return msg(field, str(1, name), msg(2, msg(1, int(1, 1), msg(2, ...dimMsgs))));
}

function seeded(n: number, seed: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

/**
 * input [B,1,S,S] → conv 1→ch (k×k) → `layers` × conv ch→ch → mean over H,W → matmul → logits [B,classes].
 * More layers and a bigger kernel make it slower; weights are seeded pseudo-random.
 */
export function buildConvModel(opts: { size: number; classes: number; layers: number; channels: number; kernel: number; seed?: number }): Buffer {
  const { size, classes, layers, channels: ch, kernel: k } = opts;
  const pad = Math.floor(k / 2);
  const nodes: Node[] = [];
  const inits: Buffer[] = [];
  let prev = 'input';
  let cin = 1;
  for (let l = 0; l <= layers; l++) {
    const w = `w${l}`;
    inits.push(tensor(w, [ch, cin, k, k], seeded(ch * cin * k * k, (opts.seed ?? 1) + l, 1 / (cin * k))));
    nodes.push({ op: 'Conv', inputs: [prev, w], output: `c${l}`, ints: { pads: [pad, pad, pad, pad], kernel_shape: [k, k] } });
    prev = `c${l}`;
    cin = ch;
  }
  nodes.push({ op: 'ReduceMean', inputs: [prev], output: 'pooled', ints: { axes: [2, 3] }, int: { keepdims: 0 } });
  inits.push(tensor('wfc', [ch, classes], seeded(ch * classes, (opts.seed ?? 1) + 999, 1)));
  nodes.push({ op: 'MatMul', inputs: ['pooled', 'wfc'], output: 'logits' });
  const graph = msg(
    7,
    ...nodes.map(node),
    str(2, 'test'),
    ...inits,
    valueInfo(11, 'input', ['batch', 1, size, size]),
    valueInfo(12, 'logits', ['batch', classes]),
  );
  return Buffer.concat([int(1, 7), msg(8, str(1, ''), int(2, 13)), graph]);
}

/** Writes <dir>/<id>.onnx and its manifest; returns the manifest path. */
export function writeTestModel(
  dir: string,
  id: string,
  opts: { size?: number; layers: number; channels: number; kernel: number; classes?: string[]; unknownThreshold?: number },
): string {
  const classes = opts.classes ?? ['head', 'chest', 'abdomen', 'pelvis', 'knee'];
  const size = opts.size ?? 64;
  writeFileSync(`${dir}/${id}.onnx`, buildConvModel({ size, classes: classes.length, layers: opts.layers, channels: opts.channels, kernel: opts.kernel }));
  const manifest = {
    id,
    version: '0.0.1-test',
    file: `${id}.onnx`,
    classes,
    modalities: ['CT', 'MR'],
    input: { name: 'input', shape: [-1, 1, size, size] },
    output: { name: 'logits' },
    preprocessing: { size, ctClampHu: [-1024, 3071], percentiles: [0.5, 99.5] },
    temperature: 1,
    unknownThreshold: opts.unknownThreshold ?? 0,
  };
  const path = `${dir}/${id}.json`;
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return path;
}
