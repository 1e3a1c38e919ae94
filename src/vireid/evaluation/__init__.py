"""vireid.evaluation: SYSU-MM01 / RegDB / LLCM protocols, metrics, features and reports.

Paths in every protocol list are root-relative POSIX strings, like the image index ``path``
column. SYSU and LLCM trials are 0..9 (trial t seeds the gallery sampling with t, as in the
field's code); RegDB trials are 1..10 (the split files' numbering, one model per trial).
"""

from vireid.evaluation.chance import chance_level
from vireid.evaluation.checkpoint import evaluate_checkpoint, extract_table
from vireid.evaluation.features import FEATURE_KINDS, compose_feature, extract_features
from vireid.evaluation.llcm import llcm_gallery, llcm_query
from vireid.evaluation.metrics import PROTOCOLS, EvalResult, EvaluationError, evaluate
from vireid.evaluation.regdb import regdb_gallery, regdb_query
from vireid.evaluation.rerank import RerankOptions, re_ranking, re_ranking_features
from vireid.evaluation.retrieval import cosine_distance, cross_modality_map
from vireid.evaluation.runner import DATASETS, dataset_settings, run_protocol
from vireid.evaluation.sets import EvalSet
from vireid.evaluation.store import FeatureTable, load_features, save_features
from vireid.evaluation.sysu import sysu_gallery, sysu_query

__all__ = [
    "DATASETS", "FEATURE_KINDS", "PROTOCOLS", "EvalResult", "EvalSet", "EvaluationError",
    "FeatureTable", "RerankOptions", "chance_level", "compose_feature", "cosine_distance", "cross_modality_map",
    "dataset_settings", "evaluate", "evaluate_checkpoint", "extract_features", "extract_table",
    "llcm_gallery", "llcm_query", "load_features", "re_ranking", "re_ranking_features",
    "regdb_gallery", "regdb_query",
    "run_protocol", "save_features", "sysu_gallery", "sysu_query",
]
