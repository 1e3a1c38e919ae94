"""Where each synthetic image goes and which split files list it, per dataset layout.

The files mimic the real datasets closely enough that the real readers index them:
SYSU-MM01 (``cam1..cam6/<pid:04d>/<img:04d>.jpg`` + ``exp/*_id.txt``), RegDB
(``Visible/<pid>/``, ``Thermal/<pid>/`` + ``idx/{train,test}_{visible,thermal}_{t}.txt``) and
LLCM (``{train,test}_{vis,nir}/cam<N>/<pid:04d>/`` + ``idx/train_{vis,nir}.txt``,
``idx/test_id.txt``) and the generic custom layout (``images/cam<N>/<pid:04d>/`` +
``index.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vireid.atomic import write_atomic
from vireid.datasets.synth.config import MIN_IDS, SynthConfig
from vireid.errors import ConfigError

SYSU_INFRARED = (3, 6)
REGDB_TRIALS = tuple(range(1, 11))
LLCM_CAMERAS = {False: tuple(range(1, 10)), True: (1, 2, 4, 5, 6, 7, 8, 9)}  # no NIR camera 3
# Cameras of each modality an LLCM identity appears in: like the real dataset, nobody is
# seen by every camera, and cameras differ between identities.
LLCM_CAMERAS_PER_IDENTITY = 2


@dataclass(frozen=True)
class ImageSpec:
    relpath: str
    pid: int
    camera: int
    infrared: bool
    shot: int  # index of the image within (pid, camera)


def pids_for(config: SynthConfig) -> list[int]:
    return list(range(1, config.ids + 1))


def sysu_images(config: SynthConfig) -> list[ImageSpec]:
    return [ImageSpec(f"cam{cam}/{pid:04d}/{k + 1:04d}.jpg", pid, cam, cam in SYSU_INFRARED, k)
            for pid in pids_for(config) for cam in range(1, 7)
            for k in range(config.images_per_camera)]


def regdb_images(config: SynthConfig) -> list[ImageSpec]:
    specs = []
    for pid in pids_for(config):
        for k in range(config.images_per_camera):
            specs.append(ImageSpec(f"Visible/{pid}/{pid}_v_{k + 1:02d}.jpg", pid, 1, False, k))
            specs.append(ImageSpec(f"Thermal/{pid}/{pid}_t_{k + 1:02d}.jpg", pid, 2, True, k))
    return specs


def _shuffled_pids(config: SynthConfig, salt: int) -> list[int]:
    rng = np.random.default_rng([config.seed, salt])
    pids = np.array(pids_for(config))
    rng.shuffle(pids)
    return [int(p) for p in pids]


def _num_test(config: SynthConfig) -> int:
    """Test identities of the SYSU and LLCM layouts (RegDB halves every trial)."""
    return max(2, round(config.ids * config.test_fraction))


# SYSU-MM01's val_id.txt is a quarter of the training identities: it needs four of them to
# hold one (an empty id file is a layout error in `data check`).
SYSU_MIN_TRAINING_IDS = 4


# The custom layout's six cameras as SYSU's (3 and 6 infrared); a test identity's images from
# cameras 3, 4 and 5 are queries, from cameras 1, 2 and 6 gallery: both directions, no query
# sharing a camera with its gallery.
CUSTOM_QUERY_CAMERAS = (3, 4, 5)


def custom_images(config: SynthConfig) -> list[ImageSpec]:
    return [replace(spec, relpath=f"images/{spec.relpath}") for spec in sysu_images(config)]


def write_custom_index(out: Path, config: SynthConfig, images: list[ImageSpec]) -> None:
    """index.csv: path, pid, camera, modality, split (train, or query / gallery by camera)."""
    test = set(_shuffled_pids(config, 2025)[:_num_test(config)])
    lines = ["path,pid,camera,modality,split"]
    for spec in images:
        split = ("query" if spec.camera in CUSTOM_QUERY_CAMERAS else "gallery") if spec.pid in test else "train"
        modality = "infrared" if spec.infrared else "visible"
        lines.append(f"{spec.relpath},{spec.pid},{spec.camera},{modality},{split}")
    _write_text(out / "index.csv", "\n".join(lines) + "\n")


def minimum_ids(layout: str, config: SynthConfig) -> int:
    """The fewest identities that give ``layout`` a valid folder (every split file non-empty)."""
    if layout != "sysu":
        return MIN_IDS  # RegDB halves, LLCM keeps >= 2 test ids; two per split is enough
    ids = MIN_IDS
    while ids - _num_test(replace(config, ids=ids)) < SYSU_MIN_TRAINING_IDS:
        ids += 1
    return ids


def check_ids(layout: str, config: SynthConfig) -> None:
    """Refuse an identity count too small for ``layout`` before anything is written."""
    needed = minimum_ids(layout, config)
    if config.ids < needed:
        raise ConfigError(f"ids: the {layout} layout needs at least {needed} identities "
                          f"(train, val and test splits must all be non-empty), got {config.ids}")


def llcm_images(config: SynthConfig) -> list[ImageSpec]:
    """Training images under ``train_{vis,nir}/``, test images under ``test_{vis,nir}/``;
    each identity in :data:`LLCM_CAMERAS_PER_IDENTITY` cameras of each modality."""
    test = set(llcm_test_ids(config))
    specs = []
    for pid in pids_for(config):
        split = "test" if pid in test else "train"
        rng = np.random.default_rng([config.seed, pid, 713])
        for infrared, folder in ((False, "vis"), (True, "nir")):
            cams = sorted(int(c) for c in rng.choice(LLCM_CAMERAS[infrared], LLCM_CAMERAS_PER_IDENTITY,
                                                      replace=False))
            specs.extend(ImageSpec(f"{split}_{folder}/cam{cam}/{pid:04d}/{pid:04d}_c{cam:02d}_{k + 1:02d}.jpg",
                                   pid, cam, infrared, k)
                         for cam in cams for k in range(config.images_per_camera))
    return specs


def llcm_test_ids(config: SynthConfig) -> list[int]:
    return sorted(_shuffled_pids(config, 2023)[:_num_test(config)])


def write_llcm_splits(out: Path, config: SynthConfig, images: list[ImageSpec]) -> None:
    """idx/test_id.txt (one comma-separated line) and idx/train_{vis,nir}.txt (path + label,
    labels 0..N-1 in sorted training-pid order, as the real lists)."""
    test = llcm_test_ids(config)
    _write_text(out / "idx" / "test_id.txt", ",".join(map(str, test)) + "\n")
    train = [pid for pid in pids_for(config) if pid not in set(test)]
    label = {pid: k for k, pid in enumerate(train)}
    for name, infrared in (("train_vis.txt", False), ("train_nir.txt", True)):
        lines = [f"{spec.relpath} {label[spec.pid]}" for spec in images
                 if spec.infrared == infrared and spec.pid in label]
        _write_text(out / "idx" / name, "\n".join(lines) + "\n")


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text))


def write_sysu_splits(out: Path, config: SynthConfig) -> dict[str, list[int]]:
    """exp/{train,val,test}_id.txt, each one comma-separated line, like SYSU-MM01.

    As in the real dataset, val_id is a slice of the training identities (about a quarter);
    readers merge it back into training.
    """
    pids = _shuffled_pids(config, 2024)
    test = sorted(pids[:_num_test(config)])
    training = pids[_num_test(config):]
    n_val = len(training) // 4
    splits = {"train": sorted(training[n_val:]), "val": sorted(training[:n_val]), "test": test}
    for name, ids in splits.items():
        _write_text(out / "exp" / f"{name}_id.txt", ",".join(map(str, ids)) + "\n")
    return splits


def write_regdb_trials(out: Path, config: SynthConfig, images: list[ImageSpec]) -> None:
    """Ten trials, each a random half/half identity split; labels 0..N-1 per file."""
    by_pid: dict[int, list[ImageSpec]] = {}
    for spec in images:
        by_pid.setdefault(spec.pid, []).append(spec)
    for trial in REGDB_TRIALS:
        rng = np.random.default_rng([config.seed, trial, 412])
        pids = np.array(pids_for(config))
        rng.shuffle(pids)
        half = len(pids) // 2
        for split, ids in (("train", sorted(pids[:half])), ("test", sorted(pids[half:]))):
            for modality, infrared in (("visible", False), ("thermal", True)):
                lines = [f"{spec.relpath} {label}" for label, pid in enumerate(ids)
                         for spec in by_pid[int(pid)] if spec.infrared == infrared]
                _write_text(out / "idx" / f"{split}_{modality}_{trial}.txt", "\n".join(lines) + "\n")
