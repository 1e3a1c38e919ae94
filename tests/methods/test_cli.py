"""``vireid methods``: every registered method, variant, paper table and published number, read
from the method declarations alone (no torch, numpy, pyarrow, PIL or open_clip); a method's
training parts load only when its hooks build them."""

from __future__ import annotations

import json
import subprocess
import sys

from vireid.cli import app
from vireid.methods import list_methods
from typer.testing import CliRunner

HEAVY = ("torch", "numpy", "pyarrow", "PIL", "open_clip")


def test_the_listing_names_every_method_variant_table_and_published_number():
    result = CliRunner().invoke(app, ["methods"])
    assert result.exit_code == 0, result.output
    blocks = {block.split(":", 1)[0]: block for block in result.output.strip().split("\n\n")}  # one a method
    methods = list_methods()
    assert sorted(blocks) == sorted(m.name for m in methods)
    for method in methods:
        block = blocks[method.name]
        assert block.startswith(f"{method.name}: {method.summary}") and method.paper in block
        for variant in method.variants:
            assert f"  {variant.name} " in block and variant.summary in block
        for table in method.tables:
            assert f"table {table.key}: {table.title}" in block
        for dataset, settings in method.published.numbers.items():
            line = next(line for line in block.splitlines() if line.strip().startswith(f"{dataset}:"))
            for setting, metrics in settings.items():
                assert f"{setting} " + " / ".join(f"{k} {v}" for k, v in metrics.items()) in line


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


def test_vireid_methods_imports_no_torch_numpy_pyarrow_pil_or_open_clip():
    code = (
        "import json, sys\n"
        "sys.argv = ['vireid', 'methods']\n"
        "from vireid.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code or 0\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps({'exit': code, 'heavy': heavy}), file=sys.stderr)\n"
    )
    out = _run_python(code)
    report = json.loads(out.stderr.strip().splitlines()[-1])
    assert report == {"exit": 0, "heavy": []}
    assert all(f"{m.name}: " in out.stdout for m in list_methods())  # it did list them


def test_a_method_loads_its_training_parts_when_a_hook_builds_them():
    code = (
        "import json, sys\n"
        "from vireid.methods import list_methods, method_config, resolve\n"
        "list_methods()\n"
        "before = sorted(m for m in sys.modules if m.startswith('vireid.methods.') and m.count('.') == 3)\n"
        "resolved = resolve('ise')\n"
        "declared = 'torch' in sys.modules\n"
        "stages = resolved.method.stages(method_config('ise'))\n"
        "print(json.dumps({'before': before, 'torch_after_resolve': declared, 'stages': [s.name for s in stages],\n"
        "                  'torch_after_stages': 'torch' in sys.modules}))\n"
    )
    report = json.loads(_run_python(code).stdout)
    # Registering imports each package's declaration and config, never its objective or stages.
    assert report["before"] and all(m.rsplit(".", 1)[1] in ("config", "published") for m in report["before"])
    assert report["torch_after_resolve"] is False
    assert report["stages"] == ["prompts"] and report["torch_after_stages"] is True
