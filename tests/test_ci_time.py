"""scripts/ci_time_report.py reads what time_ci.sh collects: stage lines, pytest's JUnit report, the book build."""

from __future__ import annotations

from conftest import load_module

ci_time_report = load_module("scripts/ci_time_report.py")



def test_report_sums_each_notebooks_cells_and_adds_the_install_to_make_test(tmp_path):
    log = tmp_path / "ci.log"
    log.write_text("== stage system: 0 s\n== stage venv: 95 s\n== stage test: 400 s\n== stage colab: 120 s\n"
                   "========= 1500 passed, 3 skipped in 399.10s (0:06:39) =========\n")
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="pytest">'
        '<testcase classname="notebooks.01_inception_module.ipynb" name="Cell 0" time="1.5"/>'
        '<testcase classname="notebooks.01_inception_module.ipynb" name="Cell 1" time="2.25"/>'
        '<testcase classname="notebooks.05_grid_reduction.ipynb" name="Cell 0" time="4"/>'
        '<testcase classname="tests.test_shapes" name="test_walk" time="9"/>'
        '</testsuite></testsuites>')
    book = tmp_path / "book.txt"
    book.write_text("61.5\n")
    record = ci_time_report.report(log, junit, book, total_s=640, status=0, load=("0.1", "1.9"))
    assert record["make_test_s"] == 495 and record["ci_run_s"] == 640 and record["book_build_s"] == 61.5
    assert record["notebooks_nbval_s"] == {"01_inception_module": 3.75, "05_grid_reduction": 4.0}
    assert record["pytest_summaries"] == ["1500 passed, 3 skipped"]
    assert "| `.ci/run` | 640 | 720 |" in ci_time_report.markdown(record)


def test_report_says_none_where_a_stage_never_ran(tmp_path):
    log = tmp_path / "ci.log"
    log.write_text("== stage system: 0 s\n== stage venv: 95 s\nmake: *** [Makefile:53: lint] Error 1\n")
    record = ci_time_report.report(log, tmp_path / "absent.xml", tmp_path / "absent.txt", total_s=102, status=2,
                              load=("0.1", "0.2"))
    assert record["make_test_s"] is None and record["notebooks_nbval_s"] == {} and record["book_build_s"] is None
