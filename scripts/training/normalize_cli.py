"""Reads an export (images.npy + index.json) and writes step B's output for every image to
OUT.npy: used by the twin test to compare Python and TypeScript preprocessing."""
import json
import sys

import numpy as np

sys.path.insert(0, __import__('os').path.dirname(__file__))
from preprocess import normalize_image  # noqa: E402

export_dir, out_path = sys.argv[1], sys.argv[2]
index = json.load(open(f'{export_dir}/index.json'))
params = index['preprocessing']
images = np.load(f'{export_dir}/images.npy')
out = np.stack([normalize_image(images[i], bool(e.get('invert', False)), params['percentiles']) for i, e in enumerate(index['entries'])])
np.save(out_path, out.astype(np.float32))
