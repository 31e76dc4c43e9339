"""Trains bodyroute's body-region CNN on an export made by `bodyroute dataset export`
and writes models/<id>.onnx + models/<id>.json (the manifest the router reads).

Honest evaluation is across sources: `--cv K` splits the `group`s of the manifest (a collection,
a hospital: whatever a new site would be) into K folds and trains K times, each time without
one fold, never splitting a group. The out-of-fold predictions give the figures of the model
card and the calibration (temperature, `unknown` threshold) of the shipped weights, which are
the same recipe refit on every image. They are written to <out>/<id>.cv.json, so that a later
run without --cv (the shipped run alone) reuses them when its recipe is the same. What decides
the weights (data, folds, sampling, augmentation, network, fit) is in recipe.py; this file drives it.

Usage: python3 scripts/training/train.py --export DIR --out models/ [--cv K] [--seed N] [--jobs N --threads T]
"""
import argparse
import hashlib
import json
import math
import multiprocessing
import os
import sys
import time
from collections import Counter

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from preprocess import normalize_image  # noqa: E402
from recipe import VOCABULARY, FlipAveraged, RegionNet, WIDTHS, fit, group_folds, load_entries, predict, seed_everything  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--export', required=True, help='folder written by `bodyroute dataset export`')
    p.add_argument('--out', default='models')
    p.add_argument('--seed', type=int, default=7)
    p.add_argument('--cv', type=int, default=0, help='K: cross-validate over K folds of whole groups before the shipped fit')
    p.add_argument('--cv-only', action='store_true', help='cross-validate, write the .cv.json, ship nothing')
    p.add_argument('--trial-folds', default='', help='comma-separated fold numbers (1..K) of --cv K: train and score only these, '
                   'print their top-1 per held-out group, write nothing (a recipe trial on a slow machine; the folds hold the same groups as the full run)')
    p.add_argument('--epochs', type=int, default=36)
    p.add_argument('--samples-per-epoch', type=int, default=6400)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--threads', type=int, default=2, help='torch threads per fit')
    p.add_argument('--jobs', type=int, default=1, help='fits at once, each in its own process with --threads threads: '
                   '--jobs 6 runs 5 folds and the shipped fit side by side on a many-core machine; on 2 cores it gains little over --threads 2')
    p.add_argument('--no-reformats', dest='reformats', action='store_false', help='no sagittal/coronal reformats cut from axial stacks')
    p.add_argument('--mixstyle', type=float, default=0.5, help='probability per batch and layer of MixStyle after each of the first three convolutions (0: off)')
    p.add_argument('--coverage', type=float, default=0.90, help='share of cross-source images that must get a region at the default threshold')
    p.add_argument('--model-id', default='bodyregion-cnn')
    p.add_argument('--version', default='2.4.0')
    return p.parse_args()


# Files whose text decides the weights of a run: the recipe, and the training twin of step B.
RECIPE_FILES = ('recipe.py', 'preprocess.py')


def recipe_of(args):
    """What makes two runs the same recipe (the .cv.json of one calibrates the other): the options that change the
    weights and the text of RECIPE_FILES, not this driver's (cross-validation, reports, export, --jobs)."""
    keys = {k: getattr(args, k) for k in ('seed', 'epochs', 'samples_per_epoch', 'batch', 'reformats', 'mixstyle')}
    digest = hashlib.sha256()
    for name in RECIPE_FILES:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name), 'rb') as f:
            digest.update(f.read())
    keys['recipe.py'] = digest.hexdigest()[:16]
    return keys


# ---------------------------------------------------------------- metrics

def softmax(z, temperature=1.0):
    z = z / temperature
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits, y):
    best, best_nll = 1.0, float('inf')
    for t in np.exp(np.linspace(math.log(0.3), math.log(8), 80)):
        p = softmax(logits, t)
        nll = -np.mean(np.log(p[np.arange(len(y)), y] + 1e-12))
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def calibration(conf, right, bins=10):
    """Expected calibration error and the reliability table (confidence band → accuracy)."""
    table, ece = [], 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        m = (conf >= lo) & ((conf < hi) if b < bins - 1 else (conf <= hi))
        if m.sum():
            acc, c = float(right[m].mean()), float(conf[m].mean())
            ece += m.mean() * abs(acc - c)
            table.append({'band': [lo, hi], 'n': int(m.sum()), 'confidence': c, 'accuracy': acc})
    return {'ece': float(ece), 'bins': table}


def accuracy_by(values, right):
    out = {}
    for v in sorted(set(values)):
        m = np.array([x == v for x in values])
        out[v] = {'n': int(m.sum()), 'top1': float(right[m].mean())}
    return out


def cross_source_report(entries, y, probs, classes, threshold, groups_per_region):
    pred = probs.argmax(1)
    conf = probs.max(1)
    right = pred == y
    per_region = {}
    recalls = []
    for k, c in enumerate(classes):
        support = int(np.sum(y == k))
        predicted = int(np.sum(pred == k))
        tp = int(np.sum(right & (y == k)))
        per_region[c] = {'n': support, 'groups': groups_per_region.get(c, 0), 'top1': tp / support if support else None,
                         'precision': tp / predicted if predicted else None}
        if support:
            recalls.append(tp / support)
    multi = np.array([groups_per_region.get(classes[t], 0) >= 2 for t in y])
    keep = conf >= threshold
    curve = []
    for t in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        m = conf >= t
        curve.append({'threshold': t, 'coverage': float(m.mean()), 'coveredAccuracy': float(right[m].mean()) if m.any() else None})
    return {
        'n': int(len(y)),
        'top1': float(right.mean()),
        'balancedAccuracy': float(np.mean(recalls)),
        'top1MultiSourceRegions': float(right[multi].mean()) if multi.any() else None,
        'groupBalancedTop1': float(np.mean([v['top1'] for v in accuracy_by([e['group'] for e in entries], right).values()])),
        'threshold': threshold,
        'coverage': float(keep.mean()),
        'coveredAccuracy': float(right[keep].mean()) if keep.any() else None,
        'accuracyWithUnknownAsWrong': float((right & keep).mean()),
        'perRegion': per_region,
        'perGroup': accuracy_by([e['group'] for e in entries], right),
        'perModality': accuracy_by([e['modality'] for e in entries], right),
        'perIntensity': accuracy_by([e['intensity'] for e in entries], right),
        'perPlane': accuracy_by([e['plane'] for e in entries], right),
        'calibration': calibration(conf, right),
        'coverageCurve': curve,
        'confusion': {c: {c2: int(np.sum((y == k) & (pred == k2))) for k2, c2 in enumerate(classes) if np.sum((y == k) & (pred == k2))}
                      for k, c in enumerate(classes) if np.sum(y == k)},
    }


# An image counts as seen-alike when its fold's training images hold at least this many of its region in its plane.
SEEN_ALIKE_MIN = 10


def seen_alike(entries, fold_of, right):
    """How much of the cross-source figure the data allows: the images whose region the training folds show in the
    same plane (at least SEEN_ALIKE_MIN images of other groups), and top-1 on them and on the rest. An axial thigh
    whose only axial thighs are in its own group has no such images: no recipe is measured on it."""
    folds = sorted(set(fold_of.values()))
    count = Counter((k, e['region'], e['plane']) for e in entries for k in folds if fold_of[e['group']] != k)
    alike = np.array([count[(fold_of[e['group']], e['region'], e['plane'])] >= SEEN_ALIKE_MIN for e in entries])
    return {'minImages': SEEN_ALIKE_MIN, 'n': int(alike.sum()), 'share': float(alike.mean()),
            'top1': float(right[alike].mean()) if alike.any() else None,
            'top1Rest': float(right[~alike].mean()) if (~alike).any() else None,
            'largestUnmatched': [{'region': r, 'plane': p, 'n': n} for (r, p), n in
                                 Counter((e['region'], e['plane']) for e, a in zip(entries, alike) if not a).most_common(5)]}


def pick_threshold(conf, coverage):
    """The highest threshold on a 0.05 grid at which at least `coverage` of the images get a region."""
    best = 0.0
    for t in np.arange(0.05, 1.0, 0.05):
        if np.mean(conf >= t) >= coverage:
            best = round(float(t), 2)
    return best


# ---------------------------------------------------------------- cross-validation

def cross_validate_fold(args, entries, classes, raw, normalized, pct, fold_of, k):
    """Fold k: fits without its groups, returns the held-out images' indexes and logits, and the training history."""
    held = [j for j, e in enumerate(entries) if fold_of[e['group']] == k]
    train = [e for e in entries if fold_of[e['group']] != k]
    print(f'fold {k + 1}/{args.cv}: {len(train)} training images, {len(held)} held out '
          f'({sorted({entries[j]["group"] for j in held})})', flush=True)
    model, h = fit(args, train, classes, raw, normalized, pct, f'fold{k + 1}')
    logits = predict(FlipAveraged(model, raw.shape[-1]), normalized[[entries[j]['i'] for j in held]])
    right = logits.argmax(1) == np.array([classes.index(entries[j]['region']) for j in held])
    print(f'fold {k + 1}: top-1 {right.mean():.4f} on {len(held)} held-out images', flush=True)
    for group in sorted({entries[j]['group'] for j in held}):
        mine = [n for n, j in enumerate(held) if entries[j]['group'] == group]
        print(f'  {group}: top-1 {right[mine].mean():.4f} on {len(mine)}', flush=True)
    return held, logits, h


# What a forked worker of --jobs needs, set by the parent before the pool starts (inherited, not pickled:
# the images are hundreds of megabytes).
_SHARED = {}


def run_task(task):
    """One fit in a worker process of --jobs: fold k of the cross-validation, or the shipped run (task None)."""
    a = _SHARED
    torch.set_num_threads(a['args'].threads)
    if task is None:
        model, h = fit(a['args'], a['entries'], a['classes'], a['raw'], a['normalized'], a['pct'], 'shipped')
        return None, model.state_dict(), h
    held, logits, h = cross_validate_fold(a['args'], a['entries'], a['classes'], a['raw'], a['normalized'], a['pct'], a['fold_of'], task)
    return task, (held, logits), h


def run_fits(args, entries, classes, raw, normalized, pct, folds, with_shipped):
    """The cross-validation's folds (and the shipped run, when asked) one after another, or with --jobs N in N
    forked processes at once. Every fit seeds itself, so a fit's weights depend on --threads, not on the order or
    on which process ran it: the same command gives the same bits. Also returns when the last fold was done (the
    cross-validation's time, without the shipped fit)."""
    fold_of = group_folds(entries, args.cv, args.seed)
    tasks = (folds or list(range(args.cv))) + ([None] if with_shipped else [])
    _SHARED.update(args=args, entries=entries, classes=classes, raw=raw, normalized=normalized, pct=pct, fold_of=fold_of)
    logits = np.zeros((len(entries), len(classes)), np.float32)
    history, shipped, folds_done = [], None, time.time()
    # fork before any torch work in this process (an OpenMP pool does not survive a fork)
    pool = multiprocessing.get_context('fork').Pool(args.jobs) if args.jobs > 1 else None
    try:
        # results in task order, each as soon as it and those before it are done: the folds come first
        for task, result, h in (pool.imap(run_task, tasks, chunksize=1) if pool else map(run_task, tasks)):
            history += h
            if task is None:
                shipped = result
            else:
                held, held_logits = result
                logits[held] = held_logits
                folds_done = time.time()
    finally:
        if pool:
            pool.close()
            pool.join()
    return logits, fold_of, history, shipped, folds_done


def trial_folds(args):
    """--trial-folds as 0-based fold indexes; exits with one line naming the problem when they are not folds of --cv K."""
    if not args.trial_folds:
        return []
    try:
        folds = [int(f) for f in args.trial_folds.split(',')]
    except ValueError:
        folds = []
    if not args.cv or not folds or any(f < 1 or f > args.cv for f in folds):
        sys.exit(f'--trial-folds {args.trial_folds}: fold numbers from 1 to K of --cv K, comma-separated (e.g. --cv 5 --trial-folds 2,5)')
    return [f - 1 for f in folds]


def main():
    args = parse_args()
    folds = trial_folds(args)  # before any work
    started = time.time()
    seed_everything(args.seed)
    index = json.load(open(os.path.join(args.export, 'index.json')))
    params = index['preprocessing']
    pct = params['percentiles']
    raw = np.load(os.path.join(args.export, 'images.npy'), mmap_mode='r')
    entries = load_entries(index)
    counts = Counter(e['region'] for e in entries)
    classes = [c for c in VOCABULARY if counts.get(c, 0) > 0]
    not_covered = [c for c in VOCABULARY if c not in classes]
    entries = [e for e in entries if e['region'] in classes]
    groups_per_region = {c: len({e['group'] for e in entries if e['region'] == c}) for c in classes}
    print(f'{len(classes)} classes, {len(entries)} images, {len({e["group"] for e in entries})} groups; not covered: {not_covered}', flush=True)
    # step B without augmentation, as the router computes it
    normalized = np.zeros(raw.shape, np.float32)
    for e in entries:
        normalized[e['i']] = normalize_image(raw[e['i']], e['invert'], pct)

    recipe = recipe_of(args)
    cv_path = os.path.join(args.out, f'{args.model_id}.cv.json')
    history = []
    if args.cv:
        logits, fold_of, history, shipped, folds_done = run_fits(args, entries, classes, raw, normalized, pct, folds,
                                                                 with_shipped=not (args.cv_only or folds))
        if args.trial_folds:
            return
        y = np.array([classes.index(e['region']) for e in entries])
        temperature = fit_temperature(logits, y)
        probs = softmax(logits, temperature)
        threshold = pick_threshold(probs.max(1), args.coverage)
        report = cross_source_report(entries, y, probs, classes, threshold, groups_per_region)
        report['seenAlike'] = seen_alike(entries, fold_of, probs.argmax(1) == y)
        report['calibrationBeforeTemperature'] = calibration(softmax(logits).max(1), softmax(logits).argmax(1) == y)
        cv = {
            'protocol': f'{args.cv}-fold cross-validation over whole groups (collections, hospitals): every image is predicted by '
                        'weights trained without its group; image level, no image of a held-out group in training',
            'recipe': recipe, 'folds': args.cv, 'classes': classes, 'temperature': temperature, 'unknownThreshold': threshold,
            'coverageTarget': args.coverage,
            'foldOfGroup': dict(sorted(fold_of.items())),
            'groupsPerRegion': groups_per_region,
            'report': report,
            'seconds': round(folds_done - started),
            # out-of-fold predictions, compact: per image its region and group (indexes into classes and
            # groups) and its softmax at temperature 1 in units of 1e-4; the model card measures header
            # fusion on them, nothing else reads them
            'groups': sorted({e['group'] for e in entries}),
            'predictions': {
                'region': [classes.index(e['region']) for e in entries],
                'group': [sorted({x['group'] for x in entries}).index(e['group']) for e in entries],
                'scores': np.round(softmax(logits) * 10000).astype(int).tolist(),
            },
        }
        os.makedirs(args.out, exist_ok=True)
        with open(cv_path, 'w') as f:
            json.dump(cv, f, separators=(',', ':'))
            f.write('\n')
        print(f'cross-source: top-1 {report["top1"]:.4f}, balanced {report["balancedAccuracy"]:.4f}, '
              f'multi-source regions {report["top1MultiSourceRegions"]:.4f}; T={temperature:.3f}, threshold {threshold} '
              f'→ coverage {report["coverage"]:.3f}, covered accuracy {report["coveredAccuracy"]:.4f}', flush=True)
        if args.cv_only:
            return
    else:
        try:
            cv = json.load(open(cv_path))
        except OSError:
            sys.exit(f'{cv_path} is missing: run with --cv K first (the shipped weights take their calibration from it)')
        if cv.get('recipe') != recipe or cv.get('classes') != classes:
            sys.exit(f'{cv_path} was made by another recipe or class list: run with --cv K again')

    if args.cv:
        model = RegionNet(len(classes), args.mixstyle)
        model.load_state_dict(shipped)
    else:
        print('shipped run: the same recipe on every image', flush=True)
        torch.set_num_threads(args.threads)
        model, h = fit(args, entries, classes, raw, normalized, pct, 'shipped')
        history += h
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, f'{args.model_id}.onnx')
    model.eval()
    torch.onnx.export(FlipAveraged(model, params['size']), torch.zeros(1, 1, params['size'], params['size']), onnx_path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
    report = cv['report']
    manifest = {
        'id': args.model_id,
        'version': args.version,
        'file': os.path.basename(onnx_path),
        'created': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'classes': classes,
        'notCovered': not_covered,
        'modalities': ['CT', 'MR'],
        'input': {'name': 'input', 'shape': [-1, 1, params['size'], params['size']]},
        'output': {'name': 'logits'},
        'preprocessing': params,
        'temperature': cv['temperature'],
        'unknownThreshold': cv['unknownThreshold'],
        'metrics': {
            'crossSource': {k: v for k, v in report.items()},
            'crossSourceProtocol': cv['protocol'] + '; the shipped weights are the same recipe refit on every image, '
                                                    'with the temperature and threshold fitted on the out-of-fold predictions',
            'folds': cv['folds'],
            'foldOfGroup': cv['foldOfGroup'],
            'groupsPerRegion': cv['groupsPerRegion'],
            'crossValidationSeconds': cv['seconds'],
            'history': history,
        },
        'training': {
            'seed': args.seed, 'epochs': args.epochs, 'samplesPerEpoch': args.samples_per_epoch, 'batch': args.batch, 'mixStyle': args.mixstyle,
            'images': len(entries), 'groups': len({e['group'] for e in entries}),
            'imagesPerRegion': dict(sorted(Counter(e['region'] for e in entries).items())),
            'imagesPerGroup': dict(sorted(Counter(e['group'] for e in entries).items())),
            'seconds': round(time.time() - started), 'threads': args.threads, 'torch': torch.__version__,
            'parameters': int(sum(p.numel() for p in model.parameters())), 'widths': list(WIDTHS),
        },
    }
    with open(os.path.join(args.out, f'{args.model_id}.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    print(f'wrote {onnx_path}; cross-source top-1 {report["top1"]:.4f}, threshold {cv["unknownThreshold"]} '
          f'(coverage {report["coverage"]:.3f}), {round(time.time() - started)} s', flush=True)


if __name__ == '__main__':
    main()
