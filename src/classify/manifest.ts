import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { REGION_VOCABULARY } from '../regions/region';

/** A model's manifest (models/<id>.json): everything the engine knows about a model comes from it. */
const manifestSchema = z.object({
  id: z.string().min(1),
  version: z.string().min(1),
  file: z.string().min(1),
  classes: z.array(z.enum(REGION_VOCABULARY)).min(2),
  notCovered: z.array(z.string()).default([]),
  modalities: z.array(z.string()).min(1),
  input: z.object({ name: z.string(), shape: z.array(z.number()).length(4) }),
  output: z.object({ name: z.string() }),
  preprocessing: z.object({
    size: z.number().int().min(16).max(1024),
    ctClampHu: z.tuple([z.number(), z.number()]),
    percentiles: z.tuple([z.number().min(0).max(100), z.number().min(0).max(100)]),
  }),
  temperature: z.number().positive().default(1),
  unknownThreshold: z.number().min(0).max(1),
  metrics: z.unknown().optional(),
  training: z.unknown().optional(),
});

export type ModelManifest = z.infer<typeof manifestSchema> & { path: string; modelPath: string };

export function loadManifest(path: string): ModelManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read model manifest ${path}: ${(err as Error).message}`);
  }
  const r = manifestSchema.safeParse(doc);
  if (!r.success) throw new Error(`invalid model manifest ${path}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { ...r.data, path, modelPath: join(dirname(path), r.data.file) };
}

export function modelLabel(m: Pick<ModelManifest, 'id' | 'version'>): string {
  return `${m.id} ${m.version}`;
}
