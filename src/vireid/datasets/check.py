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
from vireid.datasets.regdb import TRIALS
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
    # Not errors, but something a run will quietly do otherwise (an identity left out).
    warnings: list[str] = field(default_factory=list)
    # Neither errors nor warnings: facts a layout states about itself (a custom index's
    # query/gallery make-up), printed with the table so a user can confirm them.
    notes: list[str] = field(default_factory=list)

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
        lines.extend(self.notes)
        lines.append(f"total images: {self.num_images}; problems: {len(self.problems)}; "
                     f"warnings: {len(self.warnings)}")
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
    report, entries = _layout_report(dataset, Path(root), trial)
    if decode:
        report.problems.extend(_decode_problems(dataset, [report.root / e.path for e in entries],
                                                workers))
    return report


def check_dataset_trials(dataset: str, root: str | Path, trial: int | None = None, *,
                         decode: bool = True, workers: int = 2) -> list[CheckReport]:
    """Like :func:`check_dataset`, but a per-trial dataset (RegDB) without ``trial`` is
    checked for every trial: one report each. Images shared by several trials are decoded
    once; a decoding problem goes to the first trial that lists the image."""
    spec = get_spec(dataset)
    if not spec.needs_trial or trial is not None:
        return [check_dataset(dataset, root, trial, decode=decode, workers=workers)]
    root = Path(root)
    reports, first_listed = [], {}
    for t in TRIALS:
        report, entries = _layout_report(dataset, root, t)
        reports.append(report)
        for e in entries:
            first_listed.setdefault(root / e.path, report)
    if decode:
        for problem, path in zip(*_decode_problems_by_path(dataset, list(first_listed), workers)):
            first_listed[path].problems.append(problem)
    return reports


def _layout_report(dataset: str, root: Path, trial: int | None) -> tuple[CheckReport, list]:
    scan = scan_dataset(dataset, root, trial)
    report = CheckReport(dataset, root, trial)
    report.problems.extend(scan.problems)
    report.problems.extend(scan.strays)
    report.notes.extend(scan.notes)
    ids: dict[tuple[str, str], set[int]] = {}
    cam_ids: dict[tuple[str, str, int], set[int]] = {}
    for e in scan.entries:
        report.images[(e.split, e.modality, e.camera)] += 1
        cam_ids.setdefault((e.split, e.modality, e.camera), set()).add(e.pid)
        ids.setdefault((e.split, e.modality), set()).add(e.pid)
    report.identities = {key: len(v) for key, v in ids.items()}
    report.camera_identities = {key: len(v) for key, v in cam_ids.items()}
    visible, infrared = ids.get(("train", "visible"), set()), ids.get(("train", "infrared"), set())
    for pid in sorted(visible ^ infrared):
        has = "visible" if pid in visible else "infrared"
        report.warnings.append(f"{root}: training identity {pid} has {has} images only; training "
                               f"leaves it out (a cross-modality batch needs both)")
    return report, scan.entries


def _decode_problems(dataset: str, paths: list[Path], workers: int) -> list[str]:
    return _decode_problems_by_path(dataset, paths, workers)[0]


def _decode_problems_by_path(dataset: str, paths: list[Path],
                             workers: int) -> tuple[list[str], list[Path]]:
    """Decode every path; the problems found and the path each belongs to."""
    if not paths:
        return [], []
    # Decoding releases the GIL inside Pillow, so a couple of threads help on big sets.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(_decode, paths, chunksize=64)
        bar = tqdm(results, total=len(paths), desc=f"decoding {dataset} images", unit="img",
                   disable=len(paths) < PROGRESS_MIN_IMAGES, leave=False)
        found = [(msg, path) for msg, path in zip(bar, paths) if msg]
    return [m for m, _ in found], [p for _, p in found]
