"""`data check`: does a dataset folder match its layout, and does every image decode?

Every problem is collected (not just the first), each naming its path, so one run tells a
user everything to fix before hours of captioning or training.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from vireid.datasets.images import ImageReadError, load_rgb
from vireid.datasets.registry import get_spec, scan_dataset

# Below this many images a progress bar is noise.
PROGRESS_MIN_IMAGES = 2000


@dataclass
class CheckReport:
    dataset: str
    root: Path
    trial: int | None
    # (split, modality, camera) -> number of images; split as the dataset's files say.
    images: Counter = field(default_factory=Counter)
    # (split, modality) -> number of distinct identities; and the same per camera
    identities: dict[tuple[str, str], int] = field(default_factory=dict)
    camera_identities: dict[tuple[str, str, int], int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def num_images(self) -> int:
        return sum(self.images.values())

    def table(self) -> str:
        """The counts as an aligned text table, one row per split/modality/camera."""
        title = get_spec(self.dataset).title + (f" trial {self.trial}" if self.trial else "")
        lines = [f"{title} at {self.root}",
                 f"{'split':<6} {'modality':<9} {'camera':>6} {'images':>7} {'ids':>5}"]
        for split, modality, camera in sorted(self.images):
            ids = self.camera_identities.get((split, modality, camera), 0)
            lines.append(f"{split:<6} {modality:<9} {camera:>6} "
                         f"{self.images[(split, modality, camera)]:>7} {ids:>5}")
        totals = Counter()
        for (split, modality, _), n in self.images.items():
            totals[(split, modality)] += n
        for (split, modality), n in sorted(totals.items()):
            lines.append(f"{split:<6} {modality:<9} {'all':>6} {n:>7} "
                         f"{self.identities.get((split, modality), 0):>5}")
        lines.append(f"total images: {self.num_images}; problems: {len(self.problems)}")
        return "\n".join(lines)


def _decode(path: Path) -> str | None:
    try:
        load_rgb(path)
    except ImageReadError as exc:
        return str(exc)
    return None


def check_dataset(dataset: str, root: str | Path, trial: int | None = None, *,
                  decode: bool = True, workers: int = 2) -> CheckReport:
    """Scan ``root`` as ``dataset``, decode every image, and report counts and problems.

    Raises :class:`DatasetError` only for a wrong request (unknown dataset, bad trial);
    everything wrong with the folder itself ends up in ``report.problems``.
    """
    root = Path(root)
    scan = scan_dataset(dataset, root, trial)
    report = CheckReport(dataset, root, trial)
    report.problems.extend(scan.problems)
    report.problems.extend(scan.strays)
    ids: dict[tuple[str, str], set[int]] = {}
    cam_ids: dict[tuple[str, str, int], set[int]] = {}
    for e in scan.entries:
        report.images[(e.split, e.modality, e.camera)] += 1
        cam_ids.setdefault((e.split, e.modality, e.camera), set()).add(e.pid)
        ids.setdefault((e.split, e.modality), set()).add(e.pid)
    report.identities = {key: len(v) for key, v in ids.items()}
    report.camera_identities = {key: len(v) for key, v in cam_ids.items()}
    if decode and scan.entries:
        paths = [root / e.path for e in scan.entries]
        # Decoding releases the GIL inside Pillow, so a couple of threads help on big sets.
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = pool.map(_decode, paths, chunksize=64)
            bar = tqdm(results, total=len(paths), desc=f"decoding {dataset} images", unit="img",
                       disable=len(paths) < PROGRESS_MIN_IMAGES, leave=False)
            report.problems.extend(msg for msg in bar if msg)
    return report
