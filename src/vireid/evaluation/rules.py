"""Gallery rules: which gallery images a query ignores, and whether the CMC counts each
identity once. The three benchmarks' rules are named presets; a custom dataset picks one of
the generic rules (or a preset) by name.

* ``none``: nothing removed (RegDB).
* ``same-camera``: every gallery image from the query's camera (whatever its identity).
* ``same-id-same-camera``: gallery images of the query's identity from the query's camera
  (LLCM; the Market-1501 convention).
* ``camera-pairs``: gallery camera b for a query from camera a, for the listed (a, b) (SYSU-MM01:
  camera 3 and camera 2 share a room, so a camera-3 query ignores camera 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vireid.errors import VireidError

REMOVALS = ("none", "same-camera", "same-id-same-camera", "camera-pairs")


@dataclass(frozen=True)
class GalleryRule:
    remove: str = "none"
    camera_pairs: tuple[tuple[int, int], ...] = ()   # (query camera, gallery camera), camera-pairs only
    dedup: bool = False                               # CMC on the identity-de-duplicated ranking
    name: str = ""

    def __post_init__(self) -> None:
        if self.remove not in REMOVALS:
            raise VireidError(f"gallery rule: remove must be one of {', '.join(REMOVALS)}, got {self.remove!r}")
        if (self.remove == "camera-pairs") != bool(self.camera_pairs):
            raise VireidError("gallery rule: camera_pairs go with remove = 'camera-pairs' (and only with it)")

    @property
    def label(self) -> str:
        return self.name or self.remove

    def removed_cameras(self, query_camera: int, gallery_cameras) -> set[int]:
        """Gallery cameras a query from ``query_camera`` ignores entirely (camera rules only)."""
        if self.remove == "same-camera":
            return {int(query_camera)}
        if self.remove == "camera-pairs":
            return {b for a, b in self.camera_pairs if a == query_camera}
        return set()

    def mask(self, q_pids, q_cams, g_pids, g_cams) -> np.ndarray | None:
        """[Q, G] boolean mask of the gallery images each query ignores (None: nothing)."""
        q_cams, g_cams = np.asarray(q_cams), np.asarray(g_cams)
        if self.remove == "none":
            return None
        same_cam = q_cams[:, None] == g_cams[None, :]
        if self.remove == "same-camera":
            return same_cam
        if self.remove == "same-id-same-camera":
            return same_cam & (np.asarray(q_pids)[:, None] == np.asarray(g_pids)[None, :])
        out = np.zeros((len(q_cams), len(g_cams)), dtype=bool)
        for a, b in self.camera_pairs:
            out |= (q_cams[:, None] == a) & (g_cams[None, :] == b)
        return out


PRESETS: dict[str, GalleryRule] = {
    "sysu": GalleryRule("camera-pairs", ((3, 2),), dedup=True, name="sysu"),
    "regdb": GalleryRule("none", name="regdb"),
    "llcm": GalleryRule("same-id-same-camera", dedup=True, name="llcm"),
}
# The generic rules by name; CMC not de-duplicated (the Market-1501 / torchreid convention).
GENERIC: dict[str, GalleryRule] = {
    name: GalleryRule(name, name=name) for name in ("none", "same-camera", "same-id-same-camera")}
RULE_NAMES: tuple[str, ...] = (*PRESETS, *GENERIC)


def gallery_rule(rule: str | GalleryRule) -> GalleryRule:
    """A rule by name (a benchmark preset or a generic rule), or the rule itself."""
    if isinstance(rule, GalleryRule):
        return rule
    found = PRESETS.get(rule) or GENERIC.get(rule)
    if found is None:
        raise VireidError(f"unknown protocol {rule!r}; expected one of {', '.join(RULE_NAMES)}")
    return found
