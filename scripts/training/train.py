"""Trains bodyroute's body-region CNN on an export made by `bodyroute dataset export`
and writes models/<id>.onnx + models/<id>.json (the manifest the router reads).

Honest evaluation: validation subjects are held out by subject (never by image); the
MedNIST pools stay in training. Classes are balanced by sampling, and within a class the
sources are balanced too, so the 2,500-image pools do not drown the rest.
Usage: python3 scripts/training/train.py --export DIR --out models/ [--seed N] [--epochs N]
"""
import argparse
import json
import math
import os
import random
import sys
import time
from collections import Counter, defaultdict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from preprocess import normalize_image  # noqa: E402

VOCABULARY = ['head', 'neck', 'chest', 'abdomen', 'pelvis', 'cspine', 'tspine', 'lspine', 'shoulder', 'upperarm',
              'elbow', 'forearm', 'hand', 'hip', 'thigh', 'knee', 'lowerleg', 'foot', 'breast']
MIN_IMAGES_PER_CLASS = 20
# Subjects that may be the same person or must stay on one side of a split (see the data README).
SUBJECT_GROUPS = {'kneemri-knee': 'kneemri', 'kneemri-shoulder': 'kneemri', 'kneemri-elbow': 'kneemri', 'kneemri-hip': 'kneemri',
                  'niivue-chris': 'niivue-chris-register', 'niivue-register-1': 'niivue-chris-register'}
POOLS_ALWAYS_TRAIN = ('mednist-',)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--export', required=True, help='folder written by `bodyroute dataset export`')
    p.add_argument('--out', default='models')
    p.add_argument('--seed', type=int, default=7)
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--samples-per-epoch', type=int, default=6400)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--val-fraction', type=float, default=0.25)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--model-id', default='bodyregion-cnn')
    p.add_argument('--version', default='1.0.0')
    p.add_argument('--no-final-refit', dest='final_refit', action='store_false',
                   help='ship the weights of the held-out run instead of refitting on all subjects')
    return p.parse_args()


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------- split

def split_subjects(entries, classes, val_fraction, seed):
    """Holds out a share of the subject groups of every (region, modality) pair that has at
    least two; a held-out group is out for every pair it appears in. A pair is never left
    without a training subject, so pairs with a single subject are trained on but not validated."""
    rng = random.Random(seed)
    groups_by_pair = defaultdict(set)
    for e in entries:
        if e['region'] in classes and not e['group'].startswith(POOLS_ALWAYS_TRAIN):
            groups_by_pair[(e['region'], e['modality'])].add(e['group'])
    all_pairs = defaultdict(set)
    for e in entries:
        if e['region'] in classes:
            all_pairs[(e['region'], e['modality'])].add(e['group'])
    val_groups = set()
    for pair in sorted(groups_by_pair):
        groups = sorted(groups_by_pair[pair])
        if len(groups) < 2:
            continue
        want = max(1, round(len(groups) * val_fraction))
        have = [g for g in groups if g in val_groups]
        rest = [g for g in groups if g not in val_groups]
        rng.shuffle(rest)
        val_groups.update(rest[: max(0, want - len(have))])
    changed = True
    while changed:
        changed = False
        for pair in sorted(all_pairs):
            groups = all_pairs[pair]
            if groups and groups <= val_groups:
                val_groups.discard(min(groups, key=lambda g: (sum(1 for e in entries if e['group'] == g), g)))
                changed = True
    return val_groups


# ---------------------------------------------------------------- augmentation (between step A and step B)

WINDOWS = [(40, 400), (-600, 1500), (400, 1800), (40, 80), (50, 350), (300, 2000)]


def augment_intensity(raw, entry, rng):
    x = raw.copy()
    m = ~np.isnan(x)
    v = x[m]
    if v.size == 0:
        return x
    if entry['modality'] == 'CT' and entry['intensity'] == 'hu' and rng.random() < 0.6:
        # an 8-bit display-windowed rendering, as in screen captures and MedNIST
        c, w = WINDOWS[rng.randrange(len(WINDOWS))]
        c += rng.uniform(-0.15, 0.15) * w
        w *= rng.uniform(0.7, 1.4)
        v = np.clip((v - (c - w / 2)) / w, 0, 1)
        v = np.round(v * 255)
    elif entry['modality'] == 'MR' or entry['intensity'] == 'windowed8':
        lo, hi = np.percentile(v, [1, 99])
        span = max(hi - lo, 1e-6)
        t = np.clip((v - lo) / span, 0, None)
        gamma = math.exp(rng.uniform(-0.5, 0.5))
        v = lo + span * np.power(t, gamma)
        if entry['modality'] == 'MR' and rng.random() < 0.5:
            # smooth multiplicative bias field
            h, w_ = x.shape
            yy, xx = np.mgrid[0:h, 0:w_] / max(h, w_)
            ax, ay, ph = rng.uniform(-0.4, 0.4), rng.uniform(-0.4, 0.4), rng.uniform(0, 2 * math.pi)
            field = 1 + ax * (xx - 0.5) + ay * (yy - 0.5) + 0.1 * np.sin(2 * math.pi * xx + ph)
            v = v * field[m]
    if rng.random() < 0.4:
        span = np.percentile(v, 99) - np.percentile(v, 1) + 1e-6
        v = v + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0.005, 0.04) * span, v.shape)
    x[m] = v
    return x


def degrade_resolution(x, rng):
    """Down- then up-samples, so that sharpness does not tell one source from another
    (MedNIST is 64 px, most CT and MR are 256-512 px)."""
    if rng.random() >= 0.3:
        return x
    t = torch.from_numpy(x)[None, None]
    size = x.shape[-1]
    small = rng.choice([32, 48, 64, 96])
    mode = rng.choice(['bilinear', 'nearest'])
    t = F.interpolate(F.interpolate(t, size=(small, small), mode='area'), size=(size, size), mode=mode)
    return t[0, 0].numpy()


def augment_geometry(img, rng):
    """img: float32 [H, W] after step B (0 outside). Rotation, scale, shift, flips."""
    if rng.random() < 0.15:
        return img
    t = torch.from_numpy(img)[None, None]
    angle = math.radians(rng.uniform(-15, 15))
    scale = math.exp(rng.uniform(math.log(0.8), math.log(1.25)))
    tx, ty = rng.uniform(-0.12, 0.12), rng.uniform(-0.12, 0.12)
    flip_x = -1 if rng.random() < 0.5 else 1
    flip_y = -1 if rng.random() < 0.1 else 1
    cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
    theta = torch.tensor([[[cos * flip_x, -sin, tx], [sin, cos * flip_y, ty]]], dtype=torch.float32)
    grid = F.affine_grid(theta, t.shape, align_corners=False)
    return F.grid_sample(t, grid, mode='bilinear', padding_mode='zeros', align_corners=False)[0, 0].numpy()


# ---------------------------------------------------------------- model

def conv_bn(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class RegionNet(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(1, 16, 2),    # 64
            conv_bn(16, 32, 2),   # 32
            conv_bn(32, 32, 1),
            conv_bn(32, 64, 2),   # 16
            conv_bn(64, 64, 1),
            conv_bn(64, 96, 2),   # 8
            conv_bn(96, 128, 2),  # 4
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(128 * 2, classes))

    def forward(self, x):
        f = self.features(x)
        pooled = torch.cat([F.adaptive_avg_pool2d(f, 1), F.adaptive_max_pool2d(f, 1)], 1)
        return self.head(pooled)


# ---------------------------------------------------------------- metrics

def evaluate(model, images, labels, batch=256):
    model.eval()
    logits = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            logits.append(model(torch.from_numpy(images[i:i + batch])[:, None]))
    return torch.cat(logits).numpy() if logits else np.zeros((0, 1))


def softmax(z, temperature=1.0):
    z = z / temperature
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits, y):
    best, best_nll = 1.0, float('inf')
    for t in np.exp(np.linspace(math.log(0.3), math.log(5), 60)):
        p = softmax(logits, t)
        nll = -np.mean(np.log(p[np.arange(len(y)), y] + 1e-12))
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def report(y, pred, classes, groups=None):
    n = len(y)
    out = {'n': int(n), 'accuracy': float(np.mean(pred == y)) if n else None, 'perRegion': {}}
    recalls = []
    for k, c in enumerate(classes):
        tp = int(np.sum((pred == k) & (y == k)))
        support = int(np.sum(y == k))
        predicted = int(np.sum(pred == k))
        prec = tp / predicted if predicted else None
        rec = tp / support if support else None
        f1 = 2 * prec * rec / (prec + rec) if prec and rec else (0.0 if support else None)
        out['perRegion'][c] = {'precision': prec, 'recall': rec, 'f1': f1, 'support': support}
        if support:
            recalls.append(rec)
    out['balancedAccuracy'] = float(np.mean(recalls)) if recalls else None
    if groups is not None:
        for name, values in groups.items():
            out[name] = {}
            for g in sorted(set(values)):
                mask = np.array([v == g for v in values])
                out[name][g] = {'n': int(mask.sum()), 'accuracy': float(np.mean(pred[mask] == y[mask]))}
    return out


def fit(args, train, val_x, val_y, classes, class_index, raw, pct):
    """One training run with the fixed recipe; returns the final weights (no selection on validation)."""
    seed_everything(args.seed)
    # balanced sampling: each class equally likely, each source within a class equally likely
    by_class_source = Counter((e['region'], e['source']) for e in train)
    sources_per_class = defaultdict(set)
    for e in train:
        sources_per_class[e['region']].add(e['source'])
    weights = np.array([1.0 / (len(classes) * len(sources_per_class[e['region']]) * by_class_source[(e['region'], e['source'])]) for e in train])
    weights /= weights.sum()

    model = RegionNet(len(classes))
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps_per_epoch = args.samples_per_epoch // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.epochs * steps_per_epoch)
    np_rng = np.random.default_rng(args.seed)
    py_rng = random.Random(args.seed)
    history = []
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        picks = np_rng.choice(len(train), size=steps_per_epoch * args.batch, p=weights)
        total_loss = 0.0
        for s in range(steps_per_epoch):
            batch = [train[j] for j in picks[s * args.batch:(s + 1) * args.batch]]
            xs = []
            for e in batch:
                x = augment_intensity(np.array(raw[e['i']]), e, py_rng)
                x = normalize_image(x, e['invert'], pct)
                if py_rng.random() < 0.1:
                    x = 1.0 - x if py_rng.random() < 0.5 else x  # rare MONOCHROME1-like inversion
                xs.append(augment_geometry(degrade_resolution(x, py_rng), py_rng))
            x = torch.from_numpy(np.stack(xs))[:, None]
            y = torch.tensor([class_index[e['region']] for e in batch])
            loss = F.cross_entropy(model(x), y, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total_loss += float(loss)
        if len(val_y):
            logits = evaluate(model, val_x, val_y)
            rep = report(val_y, logits.argmax(1), classes)
        else:
            rep = {'accuracy': None, 'balancedAccuracy': None}
        history.append({'epoch': epoch + 1, 'loss': total_loss / steps_per_epoch, 'valAccuracy': rep['accuracy'], 'valBalancedAccuracy': rep['balancedAccuracy'], 'seconds': round(time.time() - t0, 1)})
        print(json.dumps(history[-1]), flush=True)
    return model, history


# ---------------------------------------------------------------- main

def main():
    args = parse_args()
    started = time.time()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    index = json.load(open(os.path.join(args.export, 'index.json')))
    params = index['preprocessing']
    raw = np.load(os.path.join(args.export, 'images.npy'), mmap_mode='r')
    entries = []
    for i, e in enumerate(index['entries']):
        if e['status'] != 'ok':
            continue
        f = e.get('fields', {})
        subject = e.get('subject') or f.get('subject') or e['file']
        entries.append({'i': i, 'region': e['region'], 'modality': (e.get('modality') or f.get('modality') or '').upper(),
                        'intensity': f.get('intensity', ''), 'plane': f.get('plane', ''), 'subject': subject,
                        'group': SUBJECT_GROUPS.get(subject, subject), 'source': (e.get('source') or f.get('source') or '').split('@')[0],
                        'invert': bool(e.get('invert', False))})
    counts = Counter(e['region'] for e in entries)
    classes = [c for c in VOCABULARY if counts.get(c, 0) >= MIN_IMAGES_PER_CLASS]
    not_covered = [c for c in VOCABULARY if c not in classes]
    class_index = {c: k for k, c in enumerate(classes)}
    entries = [e for e in entries if e['region'] in class_index]
    val_groups = split_subjects(entries, classes, args.val_fraction, args.seed)
    train = [e for e in entries if e['group'] not in val_groups]
    val = [e for e in entries if e['group'] in val_groups]
    print(f'{len(classes)} classes; train {len(train)} images, validation {len(val)} images '
          f'({len(val_groups)} held-out subject groups); not covered: {not_covered}', flush=True)

    # the validation tensors are exactly what the router computes: step B on the export, no augmentation
    pct = params['percentiles']
    val_x = np.stack([normalize_image(raw[e['i']], e['invert'], pct) for e in val]).astype(np.float32) if val else np.zeros((0, params['size'], params['size']), np.float32)
    val_y = np.array([class_index[e['region']] for e in val])

    # Run 1: the recipe, trained without the held-out subjects, measured on them.
    print('run 1 of 2: training without the held-out subjects, to measure the recipe', flush=True)
    model, history = fit(args, train, val_x, val_y, classes, class_index, raw, pct)
    logits = evaluate(model, val_x, val_y)
    temperature = fit_temperature(logits, val_y) if len(val_y) else 1.0
    probs = softmax(logits, temperature)
    pred = probs.argmax(1)
    conf = probs.max(1)
    # unknown threshold: the lowest of 0.1, 0.3, 0.5, 0.7, 0.9 whose band [t, t+0.2) of held-out
    # predictions is right at least half the time; below it, a guess is more often wrong than right
    threshold = 0.9
    for t in (0.1, 0.3, 0.5, 0.7, 0.9):
        band = (conf >= t) & (conf < t + 0.2)
        if band.sum() >= 5 and np.mean(pred[band] == val_y[band]) >= 0.5:
            threshold = t
            break
    keep = conf >= threshold
    rep = report(val_y, pred, classes, groups={'perSource': [e['source'] for e in val], 'perModality': [e['modality'] for e in val], 'perIntensity': [e['intensity'] for e in val]})
    rep['withUnknown'] = {'threshold': threshold, 'coverage': float(keep.mean()) if len(keep) else None,
                          'accuracyOfAccepted': float(np.mean(pred[keep] == val_y[keep])) if keep.sum() else None}
    rep['confusion'] = {c: {c2: int(np.sum((val_y == k) & (pred == k2))) for k2, c2 in enumerate(classes)} for k, c in enumerate(classes)}
    rep['validatedPairs'] = sorted({f"{e['region']}/{e['modality']}" for e in val})
    # coverage/accuracy at other thresholds, for sites that want a stricter `unknown`
    rep['thresholdCurve'] = [{'threshold': float(t), 'coverage': float(np.mean(conf >= t)),
                              'accuracyOfAccepted': float(np.mean(pred[conf >= t] == val_y[conf >= t])) if np.any(conf >= t) else None}
                             for t in (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)]
    print(f'held-out validation: accuracy {rep["accuracy"]:.4f}, balanced {rep["balancedAccuracy"]:.4f}', flush=True)

    # Run 2: the same recipe on every subject; these are the shipped weights.
    if args.final_refit:
        print('run 2 of 2: the same recipe on all subjects (the shipped weights)', flush=True)
        model, _ = fit(args, train + val, np.zeros((0,) + val_x.shape[1:], np.float32), np.zeros(0, int), classes, class_index, raw, pct)

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, f'{args.model_id}.onnx')
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, params['size'], params['size']), onnx_path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
    shipped = train + val if args.final_refit else train
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
        'temperature': temperature,
        'unknownThreshold': threshold,
        'metrics': {
            'validation': rep,
            'validationProtocol': 'image-level, on subjects held out by subject group (never by image); the weights measured were trained without them'
                                  + ('; the shipped weights are the same recipe refit on all subjects, calibration (temperature, threshold) from the held-out run' if args.final_refit else ''),
            'history': history,
        },
        'training': {
            'seed': args.seed, 'epochs': args.epochs, 'samplesPerEpoch': args.samples_per_epoch, 'batch': args.batch,
            'finalRefitOnAllSubjects': args.final_refit,
            'images': len(shipped), 'validationImages': len(val), 'validationSubjectGroups': sorted(val_groups),
            'imagesPerRegion': dict(sorted(Counter(e['region'] for e in shipped).items())),
            'imagesPerSource': dict(sorted(Counter(e['source'] for e in shipped).items())),
            'seconds': round(time.time() - started), 'threads': args.threads, 'torch': torch.__version__,
            'parameters': int(sum(p.numel() for p in model.parameters())),
        },
    }
    with open(os.path.join(args.out, f'{args.model_id}.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    print(f'wrote {onnx_path}; held-out accuracy {rep["accuracy"]:.4f}, balanced {rep["balancedAccuracy"]:.4f}, '
          f'threshold {threshold} (coverage {rep["withUnknown"]["coverage"]}), {round(time.time() - started)} s', flush=True)


if __name__ == '__main__':
    main()
