/** What classifying one object produced. Never an exception: errors are outcomes too. */
export type ClassifyOutcome =
  | {
      kind: 'classified';
      sopInstanceUid: string;
      modality: string;
      /** A vocabulary region, or 'unknown' below the model's calibrated threshold. */
      region: string;
      confidence: number;
      scores: Record<string, number>;
      model: string;
      frameIndex: number;
      numberOfFrames: number;
    }
  | { kind: 'skipped'; reason: string; sopInstanceUid?: string; modality?: string }
  | { kind: 'error'; message: string };

/** Softmax with temperature, then the region (or 'unknown' under the threshold). */
export function interpretLogits(
  logits: ArrayLike<number>,
  classes: readonly string[],
  temperature: number,
  unknownThreshold: number,
): { region: string; confidence: number; scores: Record<string, number> } {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < classes.length; k++) max = Math.max(max, logits[k] / temperature);
  const exps = classes.map((_, k) => Math.exp(logits[k] / temperature - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  const scores: Record<string, number> = {};
  let best = 0;
  classes.forEach((c, k) => {
    scores[c] = exps[k] / sum;
    if (scores[c] > scores[classes[best]]) best = k;
  });
  const confidence = scores[classes[best]];
  return { region: confidence >= unknownThreshold ? classes[best] : 'unknown', confidence, scores };
}
