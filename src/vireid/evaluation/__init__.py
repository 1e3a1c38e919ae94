"""vireid.evaluation: SYSU-MM01 / RegDB / LLCM protocols, metrics, features and reports.

Paths in every protocol list are root-relative POSIX strings, like the image index ``path``
column. SYSU and LLCM trials are 0..9 (trial t seeds the gallery sampling with t, as in the
field's code); RegDB trials are 1..10 (the split files' numbering).
"""

from vireid.evaluation.llcm import llcm_gallery, llcm_query
from vireid.evaluation.metrics import PROTOCOLS, EvalResult, EvaluationError, evaluate
from vireid.evaluation.regdb import regdb_gallery, regdb_query
from vireid.evaluation.sets import EvalSet
from vireid.evaluation.sysu import sysu_gallery, sysu_query

__all__ = [
    "PROTOCOLS", "EvalResult", "EvalSet", "EvaluationError", "evaluate",
    "llcm_gallery", "llcm_query", "regdb_gallery", "regdb_query", "sysu_gallery", "sysu_query",
]
