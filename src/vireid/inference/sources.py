"""What ``vireid embed --images`` accepts: a folder, a text list, or a Parquet table.

* a folder: every image file under it (recursively, sorted), paths relative to it;
* a ``.txt`` list: one path per line (blank lines and ``#`` comments skipped), relative to
  ``--root`` (default: the list's folder) unless absolute;
* a ``.parquet`` table with a ``path`` column (an image index manifest, or ``vireid embed``'s
  own output): relative to ``--root`` (default: the table's folder); its ``modality``, ``pid``
  and ``camera`` columns are kept when present. With a ``modality`` column, ``--modality``
  selects that modality's rows; with a ``split`` column, ``--split`` selects a split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vireid.datasets.images import is_image_file
from vireid.errors import VireidError
from vireid.manifests.names import MODALITIES


@dataclass(frozen=True)
class ImageRow:
    """One image to embed: ``path`` as listed (the output's key), its modality, and the
    identity and camera when the input names them."""

    path: str
    modality: str
    pid: int | None = None
    camera: int | None = None


@dataclass
class ImageSource:
    root: Path
    rows: list[ImageRow]


def _from_folder(folder: Path, modality: str | None) -> ImageSource:
    if modality is None:
        raise VireidError(f"{folder}: a folder of images needs --modality visible|infrared")
    paths = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and is_image_file(p))
    return ImageSource(folder, [ImageRow(p, modality) for p in paths])


def _from_list(path: Path, root: Path | None, modality: str | None) -> ImageSource:
    if modality is None:
        raise VireidError(f"{path}: a list of images needs --modality visible|infrared")
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise VireidError(f"{path}: unreadable image list ({exc})") from None
    rows = [ImageRow(line.strip(), modality) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return ImageSource(root or path.parent, rows)


def _from_parquet(path: Path, root: Path | None, modality: str | None, split: str | None) -> ImageSource:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise VireidError(f"{path}: unreadable Parquet file ({exc})") from None
    if "path" not in table.column_names:
        raise VireidError(f"{path}: no 'path' column (columns: {', '.join(table.column_names)})")
    if split is not None:
        if "split" not in table.column_names:
            raise VireidError(f"{path}: no 'split' column to select --split {split} from")
        table = table.filter(pc.equal(table.column("split"), split))
    if modality is not None and "modality" in table.column_names:
        table = table.filter(pc.equal(table.column("modality"), modality))
    columns = {name: table.column(name).to_pylist() for name in ("path", "modality", "pid", "camera")
               if name in table.column_names}
    if modality is None and "modality" not in columns:
        raise VireidError(f"{path}: no 'modality' column; give --modality visible|infrared")
    rows = []
    for i, rel in enumerate(columns["path"]):
        name = columns["modality"][i] if "modality" in columns else modality
        if name not in MODALITIES:
            raise VireidError(f"{path}: row {i}: modality {name!r} is not one of {', '.join(MODALITIES)}")
        pid = columns.get("pid", [None] * (i + 1))[i]
        camera = columns.get("camera", [None] * (i + 1))[i]
        rows.append(ImageRow(str(rel), name, None if pid is None else int(pid), None if camera is None else int(camera)))
    return ImageSource(root or path.parent, rows)


def read_source(images: Path, *, root: Path | None = None, modality: str | None = None,
                split: str | None = None) -> ImageSource:
    """The images ``--images`` names (see the module docstring); every problem names the path."""
    if modality is not None and modality not in MODALITIES:
        raise VireidError(f"--modality must be one of {', '.join(MODALITIES)}, got {modality!r}")
    if images.is_dir():
        source = _from_folder(images, modality)
    elif not images.is_file():
        raise VireidError(f"{images}: not found (give a folder, a .txt list or a .parquet table)")
    elif images.suffix.lower() == ".parquet":
        source = _from_parquet(images, root, modality, split)
    else:
        source = _from_list(images, root, modality)
    if split is not None and images.suffix.lower() != ".parquet":
        raise VireidError("--split selects rows of a .parquet table (an image index); a folder or list has none")
    if not source.rows:
        raise VireidError(f"{images}: no images listed" + (f" (after --split {split} / --modality {modality})"
                                                           if split or modality else ""))
    seen: set[str] = set()
    for row in source.rows:
        if row.path in seen:
            raise VireidError(f"{images}: {row.path!r} is listed twice; each image needs one row")
        seen.add(row.path)
    return source
