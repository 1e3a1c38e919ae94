"""The page: valid HTML, every image embedded, nothing fetched from the network, the tables
there, missing pieces said, bad input one error line, the file written atomically."""

import json
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest

from vireid.report import write_report
from vireid.report.inputs import ReportError

VOID = {"meta", "img", "br", "hr", "link", "input"}


class _Page(HTMLParser):
    """Collects tags, attributes and text, and checks that elements nest properly."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.images, self.urls, self.text = [], [], [], [], []
        self.tags = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "img":
            self.images.append(attrs)
        for key in ("src", "href"):
            if key in attrs:
                self.urls.append(attrs[key])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def page_of_one_run(tiny_run, tmp_path_factory):
    out = write_report([tiny_run], tmp_path_factory.mktemp("page") / "report.html", hardest=2)
    return out, parse(out)


def test_the_page_is_well_formed_html_with_every_image_embedded(page_of_one_run):
    _, page = page_of_one_run
    assert page.errors == [] and page.stack == []
    alts = [img.get("alt", "") for img in page.images]
    assert [a.split(":")[0] for a in alts] == ["CMC curves", "loss terms and gradient norms per epoch",
                                               "hardest queries with their top-ranked gallery images",
                                               "PCA projection"]
    assert all(img["src"].startswith("data:image/png;base64,") for img in page.images)
    # Nothing is fetched: every link is an in-page anchor, no script, no stylesheet link.
    assert all(u.startswith(("#", "data:")) for u in page.urls)
    assert not {"script", "link", "iframe"} & page.tags
    assert not [u for u in page.urls if urlparse(u).scheme in ("http", "https")]


def test_the_page_shows_every_section_of_a_run(page_of_one_run, tiny_run):
    _, page = page_of_one_run
    text = " ".join(page.text)
    record = json.loads((tiny_run / "results" / "results.json").read_text())
    r1 = record["results"]["settings"]["all_single"]["mean"]["R1"]
    for heading in ("Provenance", "Protocol table", "CMC", "Training curves", "Per camera pair and direction",
                    "Hardest queries", "2-D projection of test features"):
        assert heading in text
    assert f"{100 * r1:.2f}" in text                  # the protocol table's R1
    assert "all-search single-shot" in text and "indoor-search multi-shot" in text
    assert "tiny-eees" in text and "reference_captions.parquet" in text
    assert "roles swapped (diagnostic)" in text       # SYSU has one direction: the other is a diagnostic
    assert "Missing from this run" not in text


def test_extra_result_rows_in_results_json_join_the_protocol_table(run_copy, tmp_path):
    path = run_copy("reranked")
    record = json.loads((path / "results" / "results.json").read_text())
    record["results_reranked"] = json.loads(json.dumps(record["results"]))
    (path / "results" / "results.json").write_text(json.dumps(record))
    text = " ".join(parse(write_report([path], tmp_path / "r.html", hardest=0)).text)
    assert "all-search single-shot [results_reranked]" in text


def test_a_run_killed_midway_still_renders_and_says_what_is_missing(run_copy, tmp_path):
    path = run_copy("killed")
    log = path / "logs" / "train.jsonl"
    log.write_text(log.read_text().splitlines()[0] + "\n")
    (path / "results" / "results.json").unlink()
    (path / "results" / "features.npz").unlink()
    page = parse(write_report([path], tmp_path / "killed.html"))
    text = " ".join(page.text)
    assert page.errors == []
    assert "Missing from this run" in text and "training stopped after epoch 1 of 2" in text
    assert "not evaluated" in text and "Training curves" in text and "Protocol table" not in text


def test_without_captions_checkpoint_or_dataset_the_page_says_so(run_copy, tmp_path):
    path = run_copy("bare")
    config = json.loads((path / "config.json").read_text())
    config["fingerprints"] = {k: v for k, v in config["fingerprints"].items() if not k.startswith("captions:")}
    (path / "config.json").write_text(json.dumps(config))
    for ckpt in (path / "checkpoints").glob("*.pt"):
        ckpt.unlink()
    record = json.loads((path / "results" / "results.json").read_text())
    record["checkpoint"] = str(path / "checkpoints" / "last.pt")
    (path / "results" / "results.json").write_text(json.dumps(record))
    text = " ".join(parse(write_report([path], tmp_path / "bare.html", hardest=1)).text)
    assert "this run trained without captions" in text
    assert "is not on disk: no activation maps" in text
    record["root"] = str(tmp_path / "moved-dataset")
    (path / "results" / "results.json").write_text(json.dumps(record))
    text = " ".join(parse(write_report([path], tmp_path / "moved.html")).text)
    assert "moved-dataset: dataset root not found" in text and "Protocol table" in text
    (tmp_path / "moved-dataset").mkdir()              # a folder, but not the evaluated dataset
    text = " ".join(parse(write_report([path], tmp_path / "other.html")).text)
    assert "cannot replay the protocol on" in text and "Protocol table" in text


def test_a_failed_report_leaves_the_previous_page_untouched(tmp_path, tiny_run):
    out = tmp_path / "report.html"
    out.write_text("previous page")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError):
        write_report([tiny_run, tmp_path / "empty"], out)
    assert out.read_text() == "previous page"


def _vireid(monkeypatch, capsys, *args):
    """``(exit code, stdout, stderr)`` of ``vireid ARGS`` run in-process, as from the shell."""
    import sys

    from vireid import cli

    monkeypatch.setattr(sys, "argv", ["vireid", *map(str, args)])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_cli_writes_the_page_and_refuses_a_non_run_folder_in_one_line(tiny_run, tmp_path, monkeypatch,
                                                                           capsys):
    out = tmp_path / "cli.html"
    code, stdout, stderr = _vireid(monkeypatch, capsys, "report", tiny_run, "--out", out, "--hardest", "0")
    assert code == 0, stderr
    assert f"wrote {out}" in stdout and out.stat().st_size > 10_000
    code, _, stderr = _vireid(monkeypatch, capsys, "report", tmp_path)
    assert code == 2
    assert stderr.strip().splitlines() == [f"error: {tmp_path}: not a vireid run folder (no config.json, "
                                           f"logs/train.jsonl, results/results.json or checkpoints/) and "
                                           f"holds no run folders"]
