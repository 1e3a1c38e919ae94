"""Tests of vireid.evaluation (a package, so module names never clash with other stages' tests)."""
