"""The recipe of bodyroute's body-region CNN: what decides the weights of a training run. The data it is
fed (load_entries), the folds of whole groups, sampling, augmentation (window/level renderings, reformats,
domain randomisation), the network and the fit. scripts/training/train.py drives it (cross-validation,
calibration, reports, export); a .cv.json calibrates a shipped run only when this file and preprocess.py,
hashed, are the same as for the run that wrote it (train.py recipe_of).
"""
import json
import math
import random
import time
import warnings
from collections import Counter, defaultdict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from preprocess import normalize_image

VOCABULARY = ['head', 'neck', 'chest', 'abdomen', 'pelvis', 'cspine', 'tspine', 'lspine', 'shoulder', 'upperarm',
              'elbow', 'forearm', 'hand', 'hip', 'thigh', 'knee', 'lowerleg', 'foot', 'breast']
# A region is a class as soon as the data has an image of it; regions under this many images are
# sampled in proportion to their size (a 3-image class drawn as often as a 1,000-image one is learnt by heart).
# At 100, the one-subject classes (elbow 33, shoulder 55 images) were drawn often enough to become attractors
# for held-out images of other sources (chest → elbow); 400 removed that on the held-out fold it was tried on.
FULL_WEIGHT_IMAGES = 400


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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


def piecewise(x, knots):
    """x [B,1,H,W] in [0,1]; knots [B,K] the curve's values at K equally spaced points."""
    k = knots.shape[1] - 1
    pos = (x.clamp(0, 1) * k)
    i0 = pos.floor().clamp(max=k - 1).long()
    frac = pos - i0
    b = torch.arange(x.shape[0])[:, None, None, None].expand_as(i0)
    return knots[b, i0] * (1 - frac) + knots[b, i0 + 1] * frac


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
