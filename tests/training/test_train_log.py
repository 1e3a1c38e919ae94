"""Specification of the run logs (CSV, JSONL, TensorBoard, loss curve)."""

import csv

from vireid.training.train_log import RunLogger, read_jsonl


def test_epoch_records_go_to_csv_jsonl_tensorboard_and_a_png(tmp_path):
    log = RunLogger(tmp_path / "logs")
    log.log_epoch({"epoch": 1, "loss/total": 3.0, "loss/id": 2.0, "lr/visual": 1e-4})
    log.log_epoch({"epoch": 2, "loss/total": 2.0, "loss/id": 1.5, "lr/visual": 1e-4,
                   "val/mAP": 0.3})
    png = log.close()
    assert [r["loss/total"] for r in read_jsonl(tmp_path / "logs" / "train.jsonl")] == [3.0, 2.0]
    rows = list(csv.DictReader(open(tmp_path / "logs" / "train.csv")))
    assert rows[1]["val/mAP"] == "0.3" and rows[0]["loss/id"] == "2.0"
    assert list((tmp_path / "logs" / "tb").glob("events.out.tfevents.*"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resumed_logger_rewrites_history_from_the_checkpoint(tmp_path):
    log = RunLogger(tmp_path, tensorboard=False)
    for e in range(1, 4):
        log.log_epoch({"epoch": e, "loss/total": float(e)})
    log.close()
    # resuming from the epoch-1 checkpoint drops epochs 2 and 3 written after it
    resumed = RunLogger(tmp_path, history=[{"epoch": 1, "loss/total": 1.0}], tensorboard=False)
    resumed.log_epoch({"epoch": 2, "loss/total": 5.0})
    assert [r["loss/total"] for r in read_jsonl(tmp_path / "train.jsonl")] == [1.0, 5.0]
