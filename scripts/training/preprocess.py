"""Step B of bodyroute's preprocessing, the Python twin of normalizeImage() in
src/classify/preprocess.ts. Step A (decode, CT clamp, area resize, letterbox) is done by
bodyroute itself (`bodyroute dataset export`); test/unit/classify/preprocess-twin.test.ts
proves both produce the same tensor."""
import numpy as np


def percentile_of_sorted(sorted_values, q):
    n = len(sorted_values)
    if n == 0:
        return 0.0
    idx = (q / 100.0) * (n - 1)
    lo = int(np.floor(idx))
    hi = min(n - 1, lo + 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (idx - lo))


def normalize_image(raw, invert, percentiles):
    """raw: float32 [H, W] with NaN outside the image. Returns float32 [H, W] in [0, 1]."""
    raw = np.asarray(raw, dtype=np.float32)
    valid_mask = ~np.isnan(raw)
    valid = np.sort(raw[valid_mask].astype(np.float64))
    lo = percentile_of_sorted(valid, percentiles[0])
    hi = percentile_of_sorted(valid, percentiles[1])
    rng = hi - lo
    out = np.zeros(raw.shape, dtype=np.float64)
    v = raw[valid_mask].astype(np.float64)
    t = (v - lo) / rng if rng > 0 else np.zeros_like(v)
    t = np.clip(t, 0.0, 1.0)
    out[valid_mask] = (1.0 - t) if invert else t
    return out.astype(np.float32)
