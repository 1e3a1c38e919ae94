"""vireid.evaluation: SYSU-MM01 / RegDB / LLCM protocols, metrics, features and reports.

Paths in every protocol list are root-relative POSIX strings, like the image index ``path``
column. SYSU and LLCM trials are 0..9 (trial t seeds the gallery sampling with t, as in the
field's code); RegDB trials are 1..10 (the split files' numbering, one model per trial).
"""

from vireid.lazy import lazy_package

_EXPORTS = {
    "chance_level": "chance",
    "evaluate_checkpoint": "checkpoint",
    "extract_table": "checkpoint",
    "FEATURE_KINDS": "features",
    "compose_feature": "features",
    "extract_features": "features",
    "llcm_gallery": "llcm",
    "llcm_query": "llcm",
    "PROTOCOLS": "metrics",
    "EvalResult": "metrics",
    "EvaluationError": "errors",
    "evaluate": "metrics",
    "regdb_gallery": "regdb",
    "regdb_query": "regdb",
    "RerankOptions": "rerank",
    "re_ranking": "rerank",
    "re_ranking_features": "rerank",
    "cosine_distance": "retrieval",
    "cross_modality_map": "retrieval",
    "DATASETS": "runner",
    "dataset_settings": "runner",
    "run_protocol": "runner",
    "EvalSet": "sets",
    "FeatureTable": "store",
    "load_features": "store",
    "save_features": "store",
    "sysu_gallery": "sysu",
    "sysu_query": "sysu",
}
lazy_package(__name__, _EXPORTS)
