"""Trains bodyroute's body-region CNN on an export made by `bodyroute dataset export`
and writes models/<id>.onnx + models/<id>.json (the manifest the router reads).

Honest evaluation is across sources: `--cv K` splits the `group`s of the manifest (a collection,
a hospital: whatever a new site would be) into K folds and trains K times, each time without
one fold, never splitting a group. The out-of-fold predictions give the figures of the model
card and the calibration (temperature, `unknown` threshold) of the shipped weights, which are
the same recipe refit on every image. They are written to <out>/<id>.cv.json, so that a later
run without --cv (the shipped run alone) reuses them when its recipe is the same.

Usage: python3 scripts/training/train.py --export DIR --out models/ [--cv K] [--seed N] [--jobs N --threads T]
"""
import argparse
import hashlib
import json
import math
import multiprocessing
import os
import random
import sys
import time
import warnings
from collections import Counter, defaultdict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from preprocess import normalize_image  # noqa: E402

VOCABULARY = ['head', 'neck', 'chest', 'abdomen', 'pelvis', 'cspine', 'tspine', 'lspine', 'shoulder', 'upperarm',
              'elbow', 'forearm', 'hand', 'hip', 'thigh', 'knee', 'lowerleg', 'foot', 'breast']
# A region is a class as soon as the data has an image of it; regions under this many images are
# sampled in proportion to their size (a 3-image class drawn as often as a 1,000-image one is learnt by heart).
# At 100, the one-subject classes (elbow 33, shoulder 55 images) were drawn often enough to become attractors
# for held-out images of other sources (chest → elbow); 400 removed that on the held-out fold it was tried on.
FULL_WEIGHT_IMAGES = 400


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
                   'on 2 cores --jobs 2 --threads 1 beats --threads 2, since much of a fit (the batches\' preparation) runs on one thread')
    p.add_argument('--no-reformats', dest='reformats', action='store_false', help='no sagittal/coronal reformats cut from axial stacks')
    p.add_argument('--mixstyle', type=float, default=0.5, help='probability per batch and layer of MixStyle after each of the first three convolutions (0: off)')
    p.add_argument('--coverage', type=float, default=0.90, help='share of cross-source images that must get a region at the default threshold')
    p.add_argument('--model-id', default='bodyregion-cnn')
    p.add_argument('--version', default='2.5.0')
    return p.parse_args()


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def recipe_of(args):
    """What makes two runs the same recipe (the .cv.json of one calibrates the other)."""
    keys = {k: getattr(args, k) for k in ('seed', 'epochs', 'samples_per_epoch', 'batch', 'reformats', 'mixstyle')}
    with open(__file__, 'rb') as f:
        keys['train.py'] = hashlib.sha256(f.read()).hexdigest()[:16]
    return keys


# ---------------------------------------------------------------- folds

def group_folds(entries, k, seed):
    """Assigns whole groups to k folds, largest first, each to the fold where it adds least to
    what that fold already holds of the group's regions, so every region with several groups is
    spread over several folds."""
    rng = random.Random(seed)
    by_group = defaultdict(Counter)
    for e in entries:
        by_group[e['group']][e['region']] += 1
    totals = Counter(e['region'] for e in entries)
    groups = sorted(by_group, key=lambda g: (-sum(by_group[g].values()), g))
    load = [Counter() for _ in range(k)]
    size = [0] * k
    fold_of = {}
    for g in groups:
        def cost(f):
            return sum(n * (load[f][r] + n) / totals[r] for r, n in by_group[g].items()) + 1e-6 * size[f] + 1e-9 * rng.random()
        best = min(range(k), key=cost)
        fold_of[g] = best
        load[best].update(by_group[g])
        size[best] += sum(by_group[g].values())
    return fold_of


# ---------------------------------------------------------------- augmentation

WINDOWS = [(40, 400), (-600, 1500), (400, 1800), (40, 80), (50, 350), (300, 2000), (60, 600)]


def render_window(raw, entry, rng):
    """Step A output (HU, NaN outside) → sometimes an 8-bit window/level rendering, as screen
    captures, teaching files and reformats of other sites are. Runs before step B."""
    if not (entry['modality'] == 'CT' and entry['intensity'] == 'hu') or rng.random() >= 0.5:
        return raw
    x = np.array(raw)
    m = ~np.isnan(x)
    c, w = WINDOWS[rng.randrange(len(WINDOWS))]
    c += rng.uniform(-0.15, 0.15) * w
    w *= rng.uniform(0.7, 1.4)
    x[m] = np.round(np.clip((x[m] - (c - w / 2)) / w, 0, 1) * 255)
    return x


# ---------------------------------------------------------------- reformats

MIN_STACK = 16      # slices of an axial series before it is rebuilt as a volume
MIN_SLAB = 12       # consecutive slices of one region before a reformat is cut from them
P_REFORMAT = 0.35   # share of picks from such slabs that become a sagittal or coronal reformat


def build_slabs(entries, size):
    """Axial CT (HU) and MR series rebuilt as volumes by Series Instance UID and slice position; each run
    of consecutive slices showing one region is a slab. A reformat is only cut from one slab, so its
    whole extent is that region."""
    by_series = defaultdict(list)
    for e in entries:
        g = e.get('geometry')
        if g and e['plane'] == 'axial' and e['intensity'] in ('hu', 'mr'):
            by_series[g['series']].append(e)
    slabs, slab_of = [], {}
    for series in sorted(by_series):
        es = sorted(by_series[series], key=lambda e: e['geometry']['position'])
        if len(es) < MIN_STACK or len({(e['geometry']['rows'], e['geometry']['columns']) for e in es}) != 1:
            continue
        pos = np.array([e['geometry']['position'] for e in es])
        steps = np.diff(pos)
        dz = float(np.median(steps))
        if dz < 0.2:
            continue
        g = es[0]['geometry']
        scale = max(g['rows'], g['columns']) / size  # source pixels per canvas pixel (step A's letterbox)
        start = 0
        for k in range(1, len(es) + 1):
            if k == len(es) or es[k]['region'] != es[start]['region'] or steps[k - 1] > 2.5 * dz:
                if k - start >= MIN_SLAB:
                    slab = {'ids': [e['i'] for e in es[start:k]], 'dz': dz, 'spacing': (g['spacing'][0] * scale, g['spacing'][1] * scale),
                            'region': es[start]['region'], 'entry': es[start]}
                    for e in es[start:k]:
                        slab_of[e['i']] = len(slabs)
                    slabs.append(slab)
                start = k
    return slabs, slab_of


def reformat(slab, raw, size, rng):
    """A sagittal or coronal image cut from a slab of axial slices (step A's output, NaN outside), with
    the physical aspect kept, head at the top, letterboxed into size×size like step A."""
    vol = np.stack([raw[i] for i in slab['ids']])[::-1]  # positions ascend foot→head; rows of the reformat run head→foot
    sagittal = rng.random() < 0.5
    plane = vol.transpose(2, 0, 1) if sagittal else vol.transpose(1, 0, 2)  # [cut, z, in-plane]
    inside = np.where(~np.all(np.isnan(plane), axis=(1, 2)))[0]
    if inside.size < 8:
        return None
    lo, hi = inside[0], inside[-1]
    c = int(lo + (hi - lo) * rng.uniform(0.2, 0.8))
    thick = rng.choice([1, 1, 2, 4])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)  # all-NaN columns outside the letterbox
        img = np.nanmean(plane[c:c + thick], axis=0)  # [z, in-plane]
    cols = np.where(~np.all(np.isnan(img), axis=0))[0]
    if cols.size < 8:
        return None
    img = img[:, cols[0]:cols[-1] + 1]
    in_plane = slab['spacing'][0] if sagittal else slab['spacing'][1]
    h = img.shape[0] * slab['dz'] / in_plane
    w = img.shape[1]
    if h < 0.4 * w:
        return None  # a thin strip: no scanner reformats a region like that
    f = size / max(h, w)
    out_h, out_w = max(1, int(round(h * f))), max(1, int(round(w * f)))
    mask = torch.from_numpy((~np.isnan(img)).astype(np.float32))[None, None]
    t = torch.from_numpy(np.nan_to_num(img).astype(np.float32))[None, None]
    t = F.interpolate(t, size=(out_h, out_w), mode='bilinear', align_corners=False)
    m = F.interpolate(mask, size=(out_h, out_w), mode='bilinear', align_corners=False)
    v = (t / m.clamp(min=1e-6))[0, 0].numpy()
    v[m[0, 0].numpy() < 0.5] = np.nan
    canvas = np.full((size, size), np.nan, np.float32)
    top, left = (size - out_h) // 2, (size - out_w) // 2
    canvas[top:top + out_h, left:left + out_w] = v
    return canvas


# ---------------------------------------------------------------- field of view

# Legs are scanned side by side in whole-body and run-off CT (the Visible Human's legs: both, small in a 500 mm
# field) but one at a time in a dedicated knee or limb study (MRNet, the sarcoma collection). Held out, one kind
# was read as the other's neighbours (two shins as an abdomen, one knee as a head), so axial lower-limb picks are
# sometimes shown as a pair: the image beside its mirror, the pair letterboxed like step A. The other direction,
# one limb cut out of a pair, comes from the wide crops in augment_batch.
BILATERAL_REGIONS = frozenset({'thigh', 'knee', 'lowerleg', 'foot'})
P_BILATERAL = 0.25


def bilateral(raw, rng):
    """Step A output (size×size, NaN outside) → the image and its mirror side by side, halved into the same canvas."""
    size = raw.shape[-1]
    pair = np.concatenate([raw, raw[:, ::-1]] if rng.random() < 0.5 else [raw[:, ::-1], raw], axis=1)  # size × 2·size
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)  # all-NaN 2×2 blocks outside the letterbox
        half = np.nanmean(pair.reshape(size // 2, 2, size, 2), axis=(1, 3))
    canvas = np.full((size, size), np.nan, np.float32)
    top = (size - half.shape[0]) // 2
    canvas[top:top + half.shape[0]] = half
    return canvas


def piecewise(x, knots):
    """x [B,1,H,W] in [0,1]; knots [B,K] the curve's values at K equally spaced points."""
    k = knots.shape[1] - 1
    pos = (x.clamp(0, 1) * k)
    i0 = pos.floor().clamp(max=k - 1).long()
    frac = pos - i0
    b = torch.arange(x.shape[0])[:, None, None, None].expand_as(i0)
    return knots[b, i0] * (1 - frac) + knots[b, i0 + 1] * frac


P_WIDE_FOV = 0.3
WIDE_FOV = (0.5, 2.2)  # zoom: under 1 the anatomy shrinks in a larger field, over 1 a part of it fills the image


def augment_batch(x, valid, is_mr, g):
    """Domain randomisation on a batch after step B (x [B,1,H,W] in [0,1], 0 outside `valid`):
    intensity curves (monotonic and not), MR contrast inversion, gamma, smooth bias fields,
    noise, loss of resolution, then rotation, scale, shift and flips. `g` is a seeded generator."""
    B, _, H, W = x.shape
    u = lambda *s: torch.rand(*s, generator=g)  # noqa: E731
    pick = lambda p: (u(B) < p).float()[:, None, None, None]  # noqa: E731
    # random smooth monotonic curves: another scanner, sequence or window
    knots = torch.sort(u(B, 7), 1).values
    knots = (knots - knots[:, :1]) / (knots[:, -1:] - knots[:, :1] + 1e-6)
    x = x + pick(0.5) * (piecewise(x, knots) - x)
    # a few non-monotonic curves: tissues that swap order between contrasts (T1/T2/PD/STIR)
    bumpy = torch.cumsum(u(B, 7) - 0.35, 1)
    bumpy = (bumpy - bumpy.min(1, keepdim=True).values) / (bumpy.max(1, keepdim=True).values - bumpy.min(1, keepdim=True).values + 1e-6)
    x = x + pick(0.12) * (piecewise(x, bumpy) - x)
    # MR contrast inversion inside the body (bright fluid ↔ dark fluid), air stays dark
    inv = pick(0.2) * is_mr[:, None, None, None]
    body = (F.avg_pool2d(x, 9, 1, 4) > 0.08).float()
    x = x + inv * body * ((1 - x) * 0.95 + 0.05 - x)
    # gamma
    gamma = torch.exp((u(B) - 0.5) * 1.2)[:, None, None, None]
    x = x + pick(0.5) * (x.clamp(min=1e-6) ** gamma - x)
    # smooth multiplicative bias field
    field = torch.exp((u(B, 1, 4, 4) - 0.5) * 0.8)
    field = F.interpolate(field, size=(H, W), mode='bicubic', align_corners=True)
    x = x + pick(0.4) * (x * field - x)
    # noise
    sigma = (0.005 + u(B) * 0.045)[:, None, None, None]
    x = x + pick(0.4) * torch.randn(x.shape, generator=g) * sigma
    x = x.clamp(0, 1)
    # loss of resolution (thumbnails, thick slices, 64 px JPEGs)
    small = [32, 48, 64, 96][int(u(1) * 4)]
    blurred = F.interpolate(F.interpolate(x, size=(small, small), mode='area'), size=(H, W), mode='bilinear', align_corners=False)
    x = x + pick(0.3) * (blurred - x)
    # rare full inversion (a MONOCHROME1 image whose flag was lost)
    x = x + pick(0.04) * (1 - x - x)
    x = x * valid
    # geometry
    angle = (u(B) - 0.5) * math.radians(30)
    scale = torch.exp(torch.log(torch.tensor(0.75)) + u(B) * (math.log(1.45) - math.log(0.75)))
    tx, ty = (u(B) - 0.5) * 0.24, (u(B) - 0.5) * 0.24
    # fields of view of other sites: a part of the anatomy filling the image (a limb cut out of a pair, a
    # tumour-centred crop, a prostate field) or the anatomy small in a large field, shifted anywhere it stays in view
    wide = u(B) < P_WIDE_FOV
    wide_scale = torch.exp(math.log(WIDE_FOV[0]) + u(B) * (math.log(WIDE_FOV[1]) - math.log(WIDE_FOV[0])))
    reach = (1 - 1 / wide_scale).abs()
    scale = torch.where(wide, wide_scale, scale)
    tx = torch.where(wide, (u(B) * 2 - 1) * reach, tx)
    ty = torch.where(wide, (u(B) * 2 - 1) * reach, ty)
    fx = torch.where(u(B) < 0.5, -1.0, 1.0)
    fy = torch.where(u(B) < 0.05, -1.0, 1.0)
    keep = u(B) < 0.15
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * fx, -sin, tx], 1), torch.stack([sin, cos * fy, ty], 1)], 1)
    theta[keep] = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]])
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)


# ---------------------------------------------------------------- model

def conv_bn(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


WIDTHS = (16, 32, 48, 64, 96, 128, 192)


class MixStyle(nn.Module):
    """Zhou et al., "Domain generalization with MixStyle" (ICLR 2021). With probability p per batch,
    the per-image channel means and standard deviations of early feature maps (which carry scanner,
    protocol and rendering: the "style" of a source) are replaced by a random mix of the image's own and
    those of another image of the batch, so the layers after it see each anatomy in styles of other
    sources. Held-out folds 1 and 2 of the 2.3.0 recipe went from 23.8/46.5 % to 24.5/60.5 % with it.
    Identity outside training: nothing of it is in the exported graph, the inference cost is unchanged.
    Draws from the global `random` and torch generators, both seeded by seed_everything()."""

    def __init__(self, p, alpha=0.1, eps=1e-6):
        super().__init__()
        self.p, self.alpha, self.eps = p, alpha, eps

    def forward(self, x):
        if not self.training or self.p <= 0 or random.random() > self.p:
            return x
        batch = x.size(0)
        mu = x.mean(dim=[2, 3], keepdim=True).detach()
        sigma = (x.var(dim=[2, 3], keepdim=True) + self.eps).sqrt().detach()
        share = torch.distributions.Beta(self.alpha, self.alpha).sample((batch, 1, 1, 1))
        partner = torch.randperm(batch)
        normalized = (x - mu) / sigma
        return normalized * (sigma * share + sigma[partner] * (1 - share)) + (mu * share + mu[partner] * (1 - share))


class RegionNet(nn.Module):
    def __init__(self, classes, mixstyle=0.0):
        super().__init__()
        w = WIDTHS
        self.features = nn.Sequential(
            conv_bn(1, w[0], 2),     # 64
            MixStyle(mixstyle),
            conv_bn(w[0], w[1], 2),  # 32
            MixStyle(mixstyle),
            conv_bn(w[1], w[2], 1),
            MixStyle(mixstyle),
            conv_bn(w[2], w[3], 2),  # 16
            conv_bn(w[3], w[4], 1),
            conv_bn(w[4], w[5], 2),  # 8
            conv_bn(w[5], w[6], 2),  # 4
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(w[6] * 2, classes))

    def forward(self, x):
        f = self.features(x)
        pooled = torch.cat([F.adaptive_avg_pool2d(f, 1), F.adaptive_max_pool2d(f, 1)], 1)
        return self.head(pooled)


class FlipAveraged(nn.Module):
    """The logits of an image and of its mirror image, averaged: training flips left-right half the time,
    so both are equally valid views, and their mean is steadier on unseen sources. Exported as part of
    the ONNX graph (a Gather, not a flip op), so the router runs it without code of its own."""
    def __init__(self, net, size):
        super().__init__()
        self.net = net
        self.register_buffer('mirror', torch.arange(size - 1, -1, -1))

    def forward(self, x):
        return (self.net(x) + self.net(x.index_select(3, self.mirror))) / 2


def predict(model, x, batch=256):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(model(torch.from_numpy(x[i:i + batch])[:, None]))
    return torch.cat(out).numpy() if out else np.zeros((0, 1), np.float32)


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


# ---------------------------------------------------------------- training

def sampling_weights(train, classes):
    """Each class equally likely (tiny classes in proportion to their size), each group within a class equally likely."""
    per_class = Counter(e['region'] for e in train)
    per_class_group = Counter((e['region'], e['group']) for e in train)
    groups_per_class = defaultdict(set)
    for e in train:
        groups_per_class[e['region']].add(e['group'])
    w = np.array([min(1.0, per_class[e['region']] / FULL_WEIGHT_IMAGES)
                  / (len(groups_per_class[e['region']]) * per_class_group[(e['region'], e['group'])]) for e in train])
    return w / w.sum()


def fit(args, train, classes, raw, normalized, pct, label):
    seed_everything(args.seed)
    class_index = {c: k for k, c in enumerate(classes)}
    slabs, slab_of = build_slabs(train, raw.shape[-1]) if args.reformats else ([], {})
    if slabs:
        print(f'{label}: {len(slabs)} single-region slabs from {len({s["entry"]["geometry"]["series"] for s in slabs})} axial series for reformats', flush=True)
    weights = sampling_weights(train, classes)
    model = RegionNet(len(classes), args.mixstyle)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps_per_epoch = args.samples_per_epoch // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.epochs * steps_per_epoch)
    np_rng = np.random.default_rng(args.seed)
    py_rng = random.Random(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    history = []
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        picks = np_rng.choice(len(train), size=steps_per_epoch * args.batch, p=weights)
        total = 0.0
        for s in range(steps_per_epoch):
            batch = [train[j] for j in picks[s * args.batch:(s + 1) * args.batch]]
            xs, valid, ys = [], [], []
            for e in batch:
                r = original = raw[e['i']]
                region = e['region']
                if e['i'] in slab_of and py_rng.random() < P_REFORMAT:
                    cut = reformat(slabs[slab_of[e['i']]], raw, raw.shape[-1], py_rng)
                    if cut is not None:
                        r, region = cut, slabs[slab_of[e['i']]]['region']
                if r is original and region in BILATERAL_REGIONS and e['plane'] == 'axial' and py_rng.random() < P_BILATERAL:
                    r = bilateral(r, py_rng)
                rendered = render_window(r, e, py_rng)
                xs.append(normalized[e['i']] if rendered is original else normalize_image(rendered, e['invert'], pct))
                valid.append(~np.isnan(r))
                ys.append(class_index[region])
            x = torch.from_numpy(np.stack(xs))[:, None]
            v = torch.from_numpy(np.stack(valid).astype(np.float32))[:, None]
            is_mr = torch.tensor([1.0 if e['modality'] == 'MR' else 0.0 for e in batch])
            x = augment_batch(x, v, is_mr, g)
            y = torch.tensor(ys)
            loss = F.cross_entropy(model(x), y, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss)
        history.append({'run': label, 'epoch': epoch + 1, 'loss': round(total / steps_per_epoch, 4), 'seconds': round(time.time() - t0, 1)})
        print(json.dumps(history[-1]), flush=True)
    return model, history


# ---------------------------------------------------------------- main

def load_entries(index):
    entries = []
    for i, e in enumerate(index['entries']):
        if e['status'] != 'ok':
            continue
        f = e.get('fields', {})
        subject = e.get('subject') or f.get('subject') or e['file']
        entries.append({'i': i, 'file': e['file'], 'region': e['region'], 'modality': (e.get('modality') or f.get('modality') or '').upper(),
                        'intensity': f.get('intensity', ''), 'plane': f.get('plane', ''), 'subject': subject,
                        'group': f.get('group') or subject, 'source': (e.get('source') or f.get('source') or '').split('@')[0],
                        'invert': bool(e.get('invert', False)), 'geometry': e.get('geometry')})
    return entries


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


def run_fits(args, entries, classes, raw, normalized, pct, with_shipped):
    """The cross-validation's folds (and the shipped run, when asked) one after another, or with --jobs N in N
    forked processes at once. Every fit seeds itself, so a fit's weights depend on --threads, not on the order or
    on which process ran it: the same command gives the same bits."""
    fold_of = group_folds(entries, args.cv, args.seed)
    chosen = [int(f) - 1 for f in args.trial_folds.split(',')] if args.trial_folds else list(range(args.cv))
    tasks = chosen + ([None] if with_shipped else [])
    _SHARED.update(args=args, entries=entries, classes=classes, raw=raw, normalized=normalized, pct=pct, fold_of=fold_of)
    if args.jobs > 1:
        # fork before any torch work in this process (an OpenMP pool does not survive a fork)
        with multiprocessing.get_context('fork').Pool(args.jobs) as pool:
            results = pool.map(run_task, tasks, chunksize=1)
    else:
        results = [run_task(t) for t in tasks]
    logits = np.zeros((len(entries), len(classes)), np.float32)
    history, shipped = [], None
    for task, result, h in results:
        history += h
        if task is None:
            shipped = result
        else:
            held, held_logits = result
            logits[held] = held_logits
    return logits, fold_of, history, shipped


def main():
    args = parse_args()
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
        logits, fold_of, history, shipped = run_fits(args, entries, classes, raw, normalized, pct, with_shipped=not (args.cv_only or args.trial_folds))
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
            'seconds': round(time.time() - started),
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
