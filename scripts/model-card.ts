/**
 * Writes models/README.md (the model card) from a model manifest and the cross-validation file
 * beside it (<id>.cv.json), so every figure in it comes from the training run that produced the
 * model. The header-fusion figures are computed here, on the out-of-fold predictions, with the
 * router's own fusion (src/classify/classification.ts) and simulated headers.
 * Usage: node dist/scripts/model-card.js models/bodyregion-cnn.json [OUT.md]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { decide, fuseHeader, HEADER_PRIOR_WEIGHT } from '../src/classify/classification';
import { mulberry32 } from '../src/classify/metrics';
import { Region } from '../src/regions/region';

interface Acc {
  n: number;
  top1: number;
}
interface CrossSource {
  n: number;
  top1: number;
  balancedAccuracy: number;
  top1MultiSourceRegions: number | null;
  groupBalancedTop1: number;
  threshold: number;
  coverage: number;
  coveredAccuracy: number | null;
  accuracyWithUnknownAsWrong: number;
  perRegion: Record<string, { n: number; groups: number; top1: number | null; precision: number | null }>;
  perGroup: Record<string, Acc>;
  perModality: Record<string, Acc>;
  perIntensity: Record<string, Acc>;
  perPlane: Record<string, Acc>;
  calibration: { ece: number; bins: { band: [number, number]; n: number; confidence: number; accuracy: number }[] };
  calibrationBeforeTemperature: { ece: number };
  coverageCurve: { threshold: number; coverage: number; coveredAccuracy: number | null }[];
  confusion: Record<string, Record<string, number>>;
  /** Images whose region the training folds show in the same plane (train.py seen_alike); absent from cross-validations run before it existed (2.4.0's). */
  seenAlike?: {
    minImages: number;
    n: number;
    share: number;
    top1: number | null;
    top1Rest: number | null;
    largestUnmatched: { region: string; plane: string; n: number }[];
  };
}
interface CvFile {
  classes: string[];
  temperature: number;
  unknownThreshold: number;
  groups: string[];
  /** Out-of-fold: class index, group index and softmax (temperature 1) in units of 1e-4, per image. */
  predictions: { region: number[]; group: number[]; scores: number[][] };
  /** Group → fold index (0-based). */
  foldOfGroup: Record<string, number>;
}

/**
 * `<model>.seeds.json`: recipes cross-validated with several seeds (how much of a figure is training noise).
 * `recipeOf` names the model version whose recipe a run repeats; runs of earlier recipes stay as the reference a
 * new recipe is compared with.
 */
interface SeedRuns {
  runs: { recipeOf: string; seed: number; command: string; ranWith: string; top1: number; top1MultiSourceRegions: number; foldTop1: number[] }[];
  /** Recipes tried on some folds (null: not run) and not shipped. */
  trials?: { recipe: string; ranWith: string; foldTop1: (number | null)[]; outcome: string }[];
}

/** Top-1 per fold (0-based) of out-of-fold predictions. */
function foldTop1(cv: CvFile): number[] {
  const right: number[] = [];
  const n: number[] = [];
  cv.predictions.region.forEach((y, i) => {
    const f = cv.foldOfGroup[cv.groups[cv.predictions.group[i]]];
    const s = cv.predictions.scores[i];
    n[f] = (n[f] ?? 0) + 1;
    right[f] = (right[f] ?? 0) + (s.indexOf(Math.max(...s)) === y ? 1 : 0);
  });
  return n.map((k, f) => (right[f] ?? 0) / k);
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)} %`);

/** A simulated header for one image: names the true region, another region, nothing, or (`unseen`) wrongly a region the model has no class for. */
type HeaderCase = 'right' | 'wrong' | 'missing' | 'unseen';

interface FusionResult {
  top1: number;
  coverage: number;
  coveredAccuracy: number;
}

/** Out-of-fold predictions run through the router's decide() with simulated headers; `lacking`: the regions an `unseen` header names. */
function simulate(cv: CvFile, pick: (r: () => number) => HeaderCase, weight = HEADER_PRIOR_WEIGHT, lacking: readonly string[] = [], seed = 2026): FusionResult {
  const rnd = mulberry32(seed);
  let right = 0;
  let given = 0;
  let givenRight = 0;
  cv.predictions.scores.forEach((scores, k) => {
    const p = { region: cv.classes[cv.predictions.region[k]] };
    const logits = scores.map((s) => Math.log(Math.max(s / 10000, 1e-6)));
    const c = pick(rnd);
    let header: string[] | undefined;
    if (c === 'right') header = [p.region];
    if (c === 'wrong') {
      const others = cv.classes.filter((x) => x !== p.region);
      header = [others[Math.floor(rnd() * others.length)]];
    }
    if (c === 'unseen') header = [lacking[Math.floor(rnd() * lacking.length)]];
    const d = decide(logits, cv.classes as Region[], cv.temperature, cv.unknownThreshold, header as Region[] | undefined, weight);
    const best = Object.entries(d.scores).sort((a, b) => b[1] - a[1])[0][0];
    if (best === p.region) right++;
    if (d.region !== 'unknown') {
      given++;
      if (d.region === p.region) givenRight++;
    }
  });
  const n = cv.predictions.scores.length;
  return { top1: right / n, coverage: given / n, coveredAccuracy: given ? givenRight / given : 0 };
}

const MIX =
  (right: number, wrong: number) =>
  (r: () => number): HeaderCase => {
    const u = r();
    return u < right ? 'right' : u < right + wrong ? 'wrong' : 'missing';
  };

function main(): void {
  const path = process.argv[2] ?? 'models/bodyregion-cnn.json';
  const m = JSON.parse(readFileSync(path, 'utf8'));
  const cv: CvFile = JSON.parse(readFileSync(path.replace(/\.json$/, '.cv.json'), 'utf8'));
  const x: CrossSource = m.metrics.crossSource;
  const t = m.training;
  const lines: string[] = [];
  const add = (...l: string[]) => lines.push(...l);
  const multi = Object.entries(x.perRegion).filter(([, s]) => s.groups >= 2);
  const single = Object.entries(x.perRegion).filter(([, s]) => s.groups < 2);

  add(`# Model card: ${m.id} ${m.version}`, '');
  add(
    '_Generated by `node dist/scripts/model-card.js` from `' +
      path.split('/').pop() +
      '` and its `.cv.json`; every figure below comes from the training run that produced the model._',
    '',
  );
  add('## Intended use', '');
  add(
    'A **routing and labelling aid** for DICOM routers: it guesses the body region of each CT or MR image so that images and series can be tagged and sent where they belong. It is **not a medical device** and must not be used for diagnosis, for deciding care, or as the only safeguard against misrouting: keep a default route (an archive that gets everything) and treat `unknown` as "needs a person".',
    '',
  );

  add('## Headline: accuracy on sources the model never saw', '');
  add(
    `${m.metrics.folds}-fold cross-validation over whole **groups** (a collection or a hospital, the manifest's \`group\` column): every image below was classified by weights trained without any image of its group. This is the project's estimate of accuracy at a new hospital; it is **not** the hidden external test set, which nobody here has seen.`,
    '',
  );
  add('| figure (image level, pixels only) | value |', '|---|---:|');
  add(`| top-1, every image (${x.n}) | **${pct(x.top1)}** |`);
  add(`| top-1 on regions with at least two sources | **${pct(x.top1MultiSourceRegions)}** |`);
  add(`| balanced accuracy (mean recall over regions) | ${pct(x.balancedAccuracy)} |`);
  add(`| mean of per-group top-1 (each hospital/collection counts once) | ${pct(x.groupBalancedTop1)} |`);
  add(`| coverage at the default threshold ${x.threshold} | ${pct(x.coverage)} |`);
  add(`| accuracy of the covered images | ${pct(x.coveredAccuracy)} |`);
  add(`| accuracy with \`unknown\` counted wrong | ${pct(x.accuracyWithUnknownAsWrong)} |`);
  add(
    `| expected calibration error, after / before temperature ${m.temperature.toFixed(2)} (fitted for likelihood, not for this figure) | ${pct(x.calibration.ece)} / ${pct(x.calibrationBeforeTemperature.ece)} |`,
    '',
  );
  add(
    'Targets of the accuracy issue: ≥ 85 % overall and ≥ 70 % for every region with at least two sources. Where a row below is under 70 %, the target is not met.',
    '',
  );
  if (x.seenAlike) {
    const a = x.seenAlike;
    add(
      `**What the data allows.** ${pct(a.share)} of the images (${a.n}) have a region that the other folds show in the same plane (at least ${a.minImages} images of other groups); top-1 on them is **${pct(a.top1)}**. On the other ${pct(1 - a.share)} (most of them ${a.largestUnmatched.map((u) => `${u.plane} ${u.region} ${u.n}`).join(', ')}) it is ${pct(a.top1Rest)}: no recipe is measured there, and the overall figure cannot pass about ${pct(a.share)} while they stay unmatched.`,
      '',
    );
  }

  const seedsPath = path.replace(/\.json$/, '.seeds.json');
  if (existsSync(seedsPath)) {
    const seeds: SeedRuns = JSON.parse(readFileSync(seedsPath, 'utf8'));
    const folds = (v: number[]) => v.map((f) => pct(f)).join(' / ');
    const others = seeds.runs.filter((r) => r.recipeOf !== m.version);
    const recipes = [...new Set(others.map((r) => r.recipeOf))];
    add(
      `**Training noise.** Recipes cross-validated with other seeds (\`${seedsPath.split('/').pop()}\`), the folds holding the same groups${recipes.length ? `; ${recipes.map((v) => `the recipe of ${v}`).join(', ')} for comparison` : ''}:`,
      '',
    );
    add('| recipe | seed | top-1 | multi-source regions | folds 1–5 |', '|---|---|---:|---:|---|');
    add(`| ${m.version} | ${t.seed} (these weights' run) | ${pct(x.top1)} | ${pct(x.top1MultiSourceRegions)} | ${folds(foldTop1(cv))} |`);
    const ordered = [...seeds.runs.filter((r) => r.recipeOf === m.version), ...others];
    for (const r of ordered) add(`| ${r.recipeOf} | ${r.seed} | ${pct(r.top1)} | ${pct(r.top1MultiSourceRegions)} | ${folds(r.foldTop1)} |`);
    add(
      '',
      `Read the figures of this card as a few points either way: two recipes compared on one seed each can differ by that much from training noise alone. Commands: ${ordered.map((r) => `\`${r.command}\` (${r.ranWith})`).join('; ')}.`,
      '',
    );
    if (seeds.trials?.length) {
      add('Recipes tried on some folds and not shipped (seed 7, the same folds):', '');
      add('| recipe | folds 1–5 | outcome |', '|---|---|---|');
      for (const r of seeds.trials) add(`| ${r.recipe} (${r.ranWith}) | ${r.foldTop1.map((f) => pct(f)).join(' / ')} | ${r.outcome} |`);
      add('');
    }
  }

  add('### Per region, and what each rests on', '');
  add('| region | images | sources (groups) | top-1 held out | precision | rests on |', '|---|---:|---:|---:|---:|---|');
  for (const [r, s] of Object.entries(x.perRegion)) {
    const restsOn =
      s.groups >= 2 ? `${s.groups} groups` : `**one source**: when it is held out the model has never seen the region, so ${pct(s.top1)} is expected`;
    add(`| ${r} | ${s.n} | ${s.groups} | ${pct(s.top1)} | ${pct(s.precision)} | ${restsOn} |`);
  }
  add('');
  add(
    `Regions resting on a single source (${single.map(([r]) => r).join(', ') || 'none'}) cannot be validated across sources; their weights come from one subject or one teaching file and may fail on every other hospital's images. Not covered at all: ${m.notCovered.join(', ') || 'none'} (no training image).`,
    '',
  );
  if (multi.length) {
    const under = multi.filter(([, s]) => (s.top1 ?? 0) < 0.7).map(([r, s]) => `${r} ${pct(s.top1)}`);
    add(`Regions with several sources under 70 %: ${under.length ? under.join(', ') : 'none'}.`, '');
  }

  add('### Per source (group) held out', '');
  add('| group | images | top-1 |', '|---|---:|---:|');
  for (const [g, s] of Object.entries(x.perGroup).sort((a, b) => b[1].n - a[1].n)) add(`| ${g} | ${s.n} | ${pct(s.top1)} |`);
  add('');
  const small = (title: string, rows: Record<string, Acc>) => {
    add(`| ${title} | images | top-1 |`, '|---|---:|---:|');
    for (const [k, s] of Object.entries(rows)) add(`| ${k || '(none)'} | ${s.n} | ${pct(s.top1)} |`);
    add('');
  };
  small('modality', x.perModality);
  small('intensity', x.perIntensity);
  small('plane', x.perPlane);

  add('### Abstaining: the coverage/accuracy curve', '');
  add(
    `Temperature and threshold are fitted on the out-of-fold predictions above. The default \`unknownThreshold\` **${m.unknownThreshold}** is the highest on a 0.05 grid at which at least 90 % of cross-source images still get a region: routing safety comes from the default route, not from abstaining on much of the traffic. A site that prefers fewer, surer answers can raise it in the manifest.`,
    '',
  );
  add('| unknownThreshold | images given a region | accuracy of those |', '|---:|---:|---:|');
  for (const c of x.coverageCurve) add(`| ${c.threshold} | ${pct(c.coverage)} | ${pct(c.coveredAccuracy)} |`);
  add('');
  add('Reliability (confidence band → accuracy, after temperature):', '');
  add('| confidence | images | mean confidence | accuracy |', '|---|---:|---:|---:|');
  for (const b of x.calibration.bins) add(`| ${b.band[0].toFixed(1)}–${b.band[1].toFixed(1)} | ${b.n} | ${pct(b.confidence)} | ${pct(b.accuracy)} |`);
  add('');

  add('## Header evidence (`classifier.useHeaders`, default on)', '');
  add(
    `The router also reads what the header says — Body Part Examined, else Series Description / Protocol Name, else Study Description, in the object's character set, through the table in [docs/header-terms.md](../docs/header-terms.md) — and multiplies the image's scores by a prior that makes the named regions ${HEADER_PRIOR_WEIGHT} times as likely. A confident image overrules a wrong header; an unsure one follows a right one. The figures below run the router's own fusion over the same out-of-fold predictions with **simulated** headers (the training images' real headers were rewritten when the set was built, so they cannot be used); a wrong header names a random other region.`,
    '',
  );
  add('| headers | top-1 | coverage | accuracy of covered |', '|---|---:|---:|---:|');
  const scenarios: [string, (r: () => number) => HeaderCase][] = [
    ['none (pixels only)', () => 'missing'],
    ['all right', () => 'right'],
    ['60 % right, 30 % missing, 10 % wrong', MIX(0.6, 0.1)],
    ['40 % right, 40 % missing, 20 % wrong', MIX(0.4, 0.2)],
    ['all wrong (worst case)', () => 'wrong'],
  ];
  const lacking: string[] = m.notCovered;
  if (lacking.length) scenarios.push([`all wrong, naming a region the model has no class for (${lacking.join(', ')})`, () => 'unseen']);
  for (const [name, pick] of scenarios) {
    const r = simulate(cv, pick, HEADER_PRIOR_WEIGHT, lacking);
    add(`| ${name} | ${pct(r.top1)} | ${pct(r.coverage)} | ${pct(r.coveredAccuracy)} |`);
  }
  add('');
  if (lacking.length) {
    // the router's own fusion gives a header-only region named alone the same share whatever the image (its scores sum to 1)
    const noOpinion = Object.fromEntries(cv.classes.map((c) => [c, 1 / cv.classes.length]));
    const headerOnlyShare = fuseHeader(noOpinion, [lacking[0] as Region])?.[lacking[0]] ?? 0;
    add(
      `A header naming a region the model has no class for (${lacking.join(', ')}) gets the image's share of a class it has no opinion on (1/${cv.classes.length}) times the prior, so it decides unless the image is sure of something else (and is given even though that share, at most ${headerOnlyShare.toFixed(2)} here, is under the \`unknown\` threshold, which is calibrated on image scores); the outcome says \`evidence: header\` (private element \`HEADER\`). How often that is right on real images of such a region cannot be measured here: the training set holds none. The last row above is its cost when such a header is wrong.`,
      '',
    );
  }
  add('Prior weight against the mixed case (60 % right, 30 % missing, 10 % wrong) and the worst case:', '');
  add('| weight | top-1 mixed | top-1 all wrong |', '|---:|---:|---:|');
  for (const w of [2, 4, 8, 16, 32])
    add(`| ${w}${w === HEADER_PRIOR_WEIGHT ? ' (shipped)' : ''} | ${pct(simulate(cv, MIX(0.6, 0.1), w).top1)} | ${pct(simulate(cv, () => 'wrong', w).top1)} |`);
  add('');

  add('## What it covers', '');
  add(
    `- Regions (${m.classes.length}): ${m.classes.join(', ')}. Not covered: ${m.notCovered.join(', ') || 'none'}; such images get the nearest covered region or \`unknown\` from their pixels, or the header's region (\`evidence: header\`) when the header names it and the image is unsure.`,
  );
  add(
    `- Modalities: ${m.modalities.join(', ')} (also when Modality says "MRI" or nothing: the SOP class decides); one image (or the middle frame) at a time; axial, sagittal and coronal.`,
  );
  add(
    `- Input: ${m.preprocessing.size}×${m.preprocessing.size} single channel. Preprocessing (one definition, \`src/classify/preprocess.ts\`, proven equal to the training twin by a test): CT clamped to ${m.preprocessing.ctClampHu[0]}…${m.preprocessing.ctClampHu[1]} HU (pixel padding and −2048/−3024 outside the field of view become air), area-average resize keeping the aspect ratio, percentiles ${m.preprocessing.percentiles[0]}/${m.preprocessing.percentiles[1]} mapped to 0/1, MONOCHROME1 inverted.`,
    '',
  );

  add('## Training data and the licence the weights inherit', '');
  add(
    `\`../shared/data/bodyregion-train\` (training set v3: ${t.images} single-frame DICOM images, ${t.groups} groups; see its README). It is **not** in this repository and must not be: several sources are for internal research or education only (MSK reformats, kneemri), MRNet is under a non-commercial research use agreement, some are non-commercial (CC BY-NC: a volunteer head MR, MIDRC-RICORD, Duke breast MR), MedNIST is share-alike (CC BY-SA), TCIA data forbid re-identification attempts, and several require attribution (NLM Visible Human Project, IBSI/Vallières, CMB-CRC, ProstateX, MyoSegmenTUM, Zukić, MedNIST). **A model trained on it inherits these restrictions: use it for research and evaluation, not commercially, until it is retrained on data you may use.**`,
    '',
  );
  add('| region | images for the shipped weights |', '|---|---:|');
  for (const [r, n] of Object.entries(t.imagesPerRegion as Record<string, number>)) add(`| ${r} | ${n} |`);
  add('');

  add('## How it was trained', '');
  add(
    `- \`npm run train -- --data ../shared/data/bodyregion-train --cv ${m.metrics.folds}\` (seed ${t.seed}): \`bodyroute dataset export\` runs the router's own preprocessing, then \`scripts/training/train.py\` (PyTorch ${t.torch}, ${t.threads} CPU threads; the recipe itself is \`recipe.py\` beside it) trains ${m.metrics.folds} cross-validation folds and then the shipped weights on every image.`,
  );
  add(
    `- CNN of 7 conv layers (widths ${(t.widths ?? []).join('-')}), average+max pooling, ${(t.parameters / 1e6).toFixed(2)} M parameters; AdamW with a one-cycle schedule, ${t.epochs} epochs × ${t.samplesPerEpoch} images, batch ${t.batch}, label smoothing 0.05. The exported graph averages the logits of each image and its left-right mirror (training flips half the images, so both are equally valid views); the cross-source figures are measured the same way.`,
  );
  if (t.mixStyle)
    add(
      `- MixStyle (Zhou et al., ICLR 2021) after each of the first three convolutions, with probability ${t.mixStyle} per batch: the channel means and deviations of an image's early feature maps, which carry scanner, protocol and rendering, are mixed with those of another image of the batch, so the later layers learn anatomy across the styles of all sources. Training only: the exported graph has none of it, and the inference cost is unchanged.`,
    );
  add(
    '- Sampling: every region equally likely (regions under 400 images in proportion to their size: at 100 the one-subject classes, elbow and shoulder, were drawn so often that held-out images of other sources fell into them), every group within a region equally likely, so the MedNIST pool and large collections do not drown the rest.',
  );
  add(
    '- Domain randomisation for new hospitals: 8-bit window/level renderings of Hounsfield images (before the percentile step); after it, random smooth monotonic intensity curves, non-monotonic curves (tissues that swap order between contrasts), MR contrast inversion inside the body, gamma, smooth multiplicative bias fields, noise, loss of resolution (32–96 px), rotation ±15°, scale 0.75–1.45, shifts, flips, rare full inversion.',
  );
  add(
    `- Time on this project's 2-core machine: ${Math.round(m.metrics.crossValidationSeconds / 60)} minutes for the cross-validation, ${Math.round(t.seconds / 60)} minutes for the whole command (folds and shipped weights).`,
  );
  add(
    "- Multi-planar reformats: `dataset export` records each slice's geometry; training rebuilds axial CT (HU) and MR series of at least 16 slices by Series Instance UID and slice position, and up to a third of the picks from them (fewer where a slab is too thin) become a sagittal or coronal reformat (physical aspect kept, 1–4 slices thick), cut only from a run of slices of one region, so the reformat's whole extent is that region. Sagittal and coronal series are not reformatted: in training set v3 every such stack but one covers 7–79 mm across (8–40 slices, 1–8 mm apart: lumbar, cervical and thoracic spine, prostate, breast) against a field of view of 180–381 mm, so an axial cut from it would be a strip no scanner produces; the one exception is a 38-slice head series (149 mm).",
    '',
  );

  add('## Known gaps and failure modes', '');
  add(
    '- The cross-source figures are image level over images of very uneven groups: the MedNIST pool (64-px display-windowed JPEGs) is about half of all images, so the image-weighted figure leans on it; the per-group mean above weighs each source once.',
  );
  add(
    '- Thin regions: see "rests on" above. Hand has no training image at all; by their pixels alone hand and wrist images are read as the nearest region or `unknown`, and with header evidence a header naming hand or wrist decides unless the image is sure of another region.',
  );
  add(
    '- Much of the CT is 8-bit display-windowed (MedNIST, MSK reformats) or tumour-centred crops (IBSI sarcoma); real 12–16-bit scanner images, contrast phases, paediatric patients, implants and unusual fields of view are under-represented.',
  );
  add(
    '- Boundary slices (head/neck, chest/abdomen, abdomen/pelvis, hip/pelvis/thigh) are inherently ambiguous; series mode smooths them along the patient axis (`bodyroute eval --series` measures it).',
  );
  add(
    '- CT localizers (topograms, scouts: Image Type LOCALIZER) are projections and are not classified; MR localizers, reformats and secondary captures are classified like any image; colour images are reduced to grey.',
    '',
  );

  add('## Retraining on site data', '');
  add(
    'Point the same command at your own archive: a folder of DICOM files and a CSV with at least `path` (relative to the folder), `region` (vocabulary above), `modality`, `subject` and `group` (the hospital or collection, the unit held out by cross-validation):',
    '',
  );
  add(
    '```sh',
    'sudo scripts/install-train-deps.sh          # python3-torch, python3-numpy from Debian',
    'npm run train -- --data /data/site-labelled --labels /data/site-labelled/labels.csv --out models/ --cv 5',
    'node dist/scripts/model-card.js models/bodyregion-cnn.json models/README.md',
    'bodyroute eval --labels /data/holdout/labels.csv --images /data/holdout --model models/bodyregion-cnn.json --series',
    '```',
    '',
  );
  add('### Retrain on your own corrected archive', '');
  add(
    "An operator corrects a series' region on the status page (docs/operations.md); each correction is appended to `<spool>/corrections.csv` and changes nothing already sent. With a folder destination archiving what bodyroute forwarded, those corrections become training labels for the site's own images, added to the training set as one more group (`local-corrections`), held out together in cross-validation like any other hospital:",
    '',
    '```sh',
    'bodyroute dataset corrections --corrections /var/lib/bodyroute/spool/corrections.csv --archive /srv/bodyroute/archive --out /tmp/local-labels.csv',
    'npm run train -- --data ../shared/data/bodyregion-train --extra-labels /tmp/local-labels.csv --cv 5 --out var/local',
    '```',
    '',
    "Ship the result only if its cross-source figures (all groups, and the `local-corrections` group itself) are at least those of this card; keep the archive's images on site (they are patient data).",
    '',
  );
  add(
    "`npm run train` without `--cv` retrains only the shipped weights and takes calibration and figures from the `.cv.json` of the same recipe. Same data and seed give the same model on the same machine: for 2.2.0 that run (18 minutes here, 1,094 s, tests running beside it) reproduced the shipped ONNX bit for bit (same SHA-256); so did the same run for 2.4.0 (24 minutes, 1,445 s, with the test suite running beside it for part of it), and its first two cross-validation folds gave, score for score, the out-of-fold predictions of an earlier trial run of the same recipe. The bits hold per machine, not across machines: on 2026-12-05 another 2-core AMD EPYC machine (not the one these weights were trained on) ran the same shipped run (1,346 s, after the recipe moved from `train.py` into `recipe.py`) and got other weights throughout (its first epoch's loss 2.7298 against 2.7293 in this run's history), while 2.4.0's own `train.py` gave that same ONNX bit for bit there (1,228 s).",
  );
  const out = lines.join('\n') + '\n';
  if (process.argv[3]) writeFileSync(process.argv[3], out);
  else process.stdout.write(out);
}

main();
